"""The HF image processor that reproduces a config's test pipeline, for ``transformers.pipeline``.

``transformers.pipeline(task, model=FOLDER)`` preprocesses with the folder's
``preprocessor_config.json`` and postprocesses with the same processor. One function per task
picks the built-in processor class that can express our test pipeline and the model's data
preprocessor (RGB, ImageNet mean/std, given in 0-255 and written as fractions of 1):

- segmentation: mmseg's keep-ratio ``Resize(scale=(L, S))`` -> ``MobileNetV2ImageProcessor``
  (shorter side to S, no crop; its semantic post-processing upsamples the logits bilinearly to
  the photo and takes the arg-max, as mmseg does); a fixed-size ``Resize`` ->
  ``SegformerImageProcessor``;
- depth: ``DPTImageProcessor`` without resizing (our depth test pipelines do not resize), with
  normalization, centre-padding to multiples of 32 (HF's GLPN decoder needs them; ours resizes
  inside). HF's own ``GLPNImageProcessor`` never normalizes, so a PVTv2 GLPN fed by it would see
  unnormalized pixels and answer a wrong depth without an error;
- classification: ``ClsResizeShortEdge`` + ``ClsCenterCrop`` -> ``MobileNetV2ImageProcessor``
  (shorter side, Pillow filter, centre crop);
- detection: mmdet's keep-ratio ``Resize(scale=(L, S))`` -> ``DeformableDetrImageProcessor``
  (shorter side to S, longer side at most L, padding to the batch's largest image as mmdet's
  data preprocessor pads; its post-processing picks the top 100 sigmoid scores as mmdet's
  ``DeformableDETRHead`` does).

What a processor reproduces only approximately is returned as notes, one line each.
"""

import re

from ..errors import ConfigError

# Steps that read files or check annotations: an image handed to a pipeline has none.
_ANNOTATIONS = re.compile(r'^(Load|Check)\w*Annotation')
_IGNORED = (
    'LoadImageFromFile',
    'CheckedLoadImage',
    'LoadImageFromNDArray',
    'PackSegInputs',
    'PackClsInputs',
    'PackDetInputs',
)
_PIL = {'nearest': 0, 'bilinear': 2, 'bicubic': 3, 'lanczos': 1, 'box': 4, 'hamming': 5}


def _pipeline(cfg):
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    return dataset.get('pipeline') or cfg.get('test_pipeline') or []


def image_steps(cfg):
    """The test pipeline's steps that act on the image (loading and annotations left out)."""
    out = []
    for step in _pipeline(cfg):
        name = str(step['type']).rsplit('.', 1)[-1]
        if name not in _IGNORED and not _ANNOTATIONS.search(name):
            out.append(dict(step, type=name))
    return out


def normalization(cfg):
    """``image_mean``/``image_std`` (fractions of 1, RGB) of the model's data preprocessor."""
    pre = cfg.model.get('data_preprocessor') or {}
    mean, std = pre.get('mean'), pre.get('std')
    if (mean is None) != (std is None):
        raise ConfigError('model.data_preprocessor: give both mean and std, or neither')
    if not pre.get('bgr_to_rgb', False) or pre.get('rgb_to_bgr', False):
        raise ConfigError(
            'model.data_preprocessor: HF pipelines hand RGB images to the processor; the model '
            'must take RGB (bgr_to_rgb=True after the BGR loader)'
        )
    if mean is None:  # the model takes 0-255 pixels
        return dict(do_rescale=False, do_normalize=False)
    return dict(
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[float(m) / 255 for m in mean],
        image_std=[float(s) / 255 for s in std],
    )


def _unsupported(steps, known, task):
    names = [s['type'] for s in steps if s['type'] not in known]
    if names:
        raise ConfigError(
            f'test pipeline: {", ".join(names)} has no HF {task} processor counterpart '
            f'(exported: {", ".join(known) or "no step"})'
        )


def _resize_scale(resize):
    """The (w, h) ``scale`` of an mmcv ``Resize`` step; one by ``scale_factor`` is refused."""
    scale = resize.get('scale')
    if scale is None or resize.get('scale_factor') is not None:
        raise ConfigError('test pipeline: Resize by scale_factor has no HF processor counterpart')
    return (scale, scale) if isinstance(scale, int) else tuple(scale)


def segmentation_processor(cfg):
    """``(processor, notes)`` for an mmseg segmentation config's test pipeline."""
    from transformers import MobileNetV2ImageProcessor, SegformerImageProcessor

    steps = image_steps(cfg)
    _unsupported(steps, ('Resize', 'ResizeToMultiple'), 'segmentation')
    norm = normalization(cfg)
    notes = []
    mode = (cfg.model.get('test_cfg') or {}).get('mode', 'whole')
    if mode != 'whole':
        notes.append(f"HF's model sees the whole image; the config infers in mode={mode!r}")
    for step in steps:
        if step['type'] == 'ResizeToMultiple':
            divisor = step.get('size_divisor', 32)
            notes.append(
                f'ResizeToMultiple(size_divisor={divisor}) (the official aligned test resize) '
                'has no HF processor counterpart: ours stretches the resized photo up to the '
                f'next multiple of {divisor}, HF does not. Measured with random weights (b0, '
                'ADE20K config; tools/deployment/measure_hf_processors.py): labels agree on '
                '79.1% of pixels of a 300x451 photo (ours 512x800, HF 512x769) and 99.7% of a '
                '400x600 one (512x768 for both); resize '
                f'photos to multiples of {divisor} after the shorter-side resize to agree fully'
            )
    resizes = [s for s in steps if s['type'] == 'Resize']
    resize = resizes[0] if resizes else None
    if resize is None:
        proc = MobileNetV2ImageProcessor(do_resize=False, do_center_crop=False, **norm)
        return proc, notes
    scale = _resize_scale(resize)
    if not resize.get('keep_ratio', False):
        size = dict(height=int(scale[1]), width=int(scale[0]))
        return SegformerImageProcessor(size=size, resample=2, **norm), notes
    long, short = max(scale), min(scale)
    proc = MobileNetV2ImageProcessor(
        size=dict(shortest_edge=int(short)), resample=2, do_center_crop=False, **norm
    )
    notes += [
        f'Resize(scale={tuple(scale)}, keep_ratio=True): HF scales the shorter side to {short}; '
        f'mmseg also caps the longer side at {long} (photos longer than {long / short:g}:1 '
        'differ), rounds the longer side where HF truncates it, and resizes with cv2 where HF '
        "uses Pillow's bilinear filter (it averages when shrinking): pixels of a photo that is "
        'resized differ slightly'
    ]
    return proc, notes


def depth_processor(cfg):
    """``(processor, notes)`` for a depth config's test pipeline (no resizing)."""
    from transformers import DPTImageProcessor

    steps = image_steps(cfg)
    notes = []
    if [s['type'] for s in steps] == ['KBCrop']:
        notes.append(
            "KBCrop (KITTI's 352x1216 bottom-centre window) is not reproduced: crop the photo "
            'before the pipeline'
        )
        steps = []
    _unsupported(steps, (), 'depth')
    proc = DPTImageProcessor(do_resize=False, do_pad=True, size_divisor=32, **normalization(cfg))
    notes.append(
        "HF's GLPN takes sizes in multiples of 32: the processor centre-pads the photo to them "
        'and the pipeline resizes the padded depth map back to the photo, shifting it by up to '
        'half the padding at the borders; ours takes any size. Photos whose sides are '
        'multiples of 32 give our depth exactly; measured with random weights (b0, NYU '
        'config; tools/deployment/measure_hf_processors.py), a 400x600 photo differs by 8.7% '
        'mean relative depth'
    )
    return proc, notes


def classification_processor(cfg):
    """``(processor, notes)`` for a classifier's test pipeline (shorter side, centre crop)."""
    from transformers import MobileNetV2ImageProcessor

    steps = image_steps(cfg)
    _unsupported(steps, ('ClsResizeShortEdge', 'ClsCenterCrop'), 'classification')
    kinds = [s['type'] for s in steps]
    if kinds != ['ClsResizeShortEdge', 'ClsCenterCrop']:
        raise ConfigError(
            f'test pipeline: expected ClsResizeShortEdge then ClsCenterCrop, got {kinds}'
        )
    resize, crop = steps
    interpolation = resize.get('interpolation', 'bicubic')
    if interpolation not in _PIL:
        raise ConfigError(f'ClsResizeShortEdge: interpolation {interpolation!r} has no Pillow code')
    side = int(crop.get('size', 224))
    proc = MobileNetV2ImageProcessor(
        size=dict(shortest_edge=int(resize.get('size', 256))),
        resample=_PIL[interpolation],
        do_center_crop=True,
        crop_size=dict(height=side, width=side),
        **normalization(cfg),
    )
    notes = [
        'ClsCenterCrop rounds an odd margin half up where HF rounds it down (one pixel, when '
        'the resized side minus the crop is 3 mod 4)'
    ]
    return proc, notes


def detection_processor(cfg):
    """``(processor, notes)`` for an mmdet Deformable DETR config's test pipeline."""
    from transformers import DeformableDetrImageProcessor

    steps = image_steps(cfg)
    _unsupported(steps, ('Resize',), 'detection')
    norm = normalization(cfg)
    notes = []
    divisor = (cfg.model.get('data_preprocessor') or {}).get('pad_size_divisor', 1)
    if divisor != 1:
        notes.append(
            f'the data preprocessor pads to a multiple of {divisor}; HF pads only to the '
            "batch's largest image (the padding is masked, the backbone still sees it)"
        )
    max_per_img = (cfg.model.get('test_cfg') or {}).get('max_per_img', 100)
    if max_per_img != 100:
        notes.append(
            f"test_cfg.max_per_img={max_per_img}: HF's object-detection pipeline keeps the "
            f'top 100; pass top_k={max_per_img} to post_process_object_detection'
        )
    notes.append('mmdet clips boxes to the image; HF leaves them unclipped')
    if not steps:
        return DeformableDetrImageProcessor(do_resize=False, **norm), notes
    resize = steps[0]
    scale = _resize_scale(resize)
    if not resize.get('keep_ratio', False):
        size = dict(height=int(scale[1]), width=int(scale[0]))
        return DeformableDetrImageProcessor(size=size, resample=2, **norm), notes
    long, short = max(scale), min(scale)
    size = dict(shortest_edge=int(short), longest_edge=int(long))
    notes.append(
        f'Resize(scale={tuple(scale)}, keep_ratio=True): mmdet rounds the resized sides where '
        "HF truncates one, and resizes with cv2 where HF uses Pillow's bilinear filter (it "
        'averages when shrinking): pixels of a photo that is resized differ slightly'
    )
    return DeformableDetrImageProcessor(size=size, resample=2, **norm), notes


# HF model class -> the function that writes its processor.
PROCESSORS = {
    'SegformerForSemanticSegmentation': segmentation_processor,
    'GLPNForDepthEstimation': depth_processor,
    'PvtV2ForImageClassification': classification_processor,
    'DeformableDetrForObjectDetection': detection_processor,
}


def image_processor(hf_model, cfg):
    """``(processor, notes)`` for ``hf_model`` (see :data:`PROCESSORS`) from our config; no
    processor for a config without a test pipeline."""
    if not _pipeline(cfg):
        return None, ['the config has no test pipeline: no preprocessor_config.json written']
    return PROCESSORS[type(hf_model).__name__](cfg)

"""Build a model and its test pipeline from any of our configs, for inference-style tools.

Shared by ``tools/infer.py`` and ``tools/analysis_tools/benchmark.py``. Works for every task
(mmseg segmentation, mmseg ``DepthEstimator``, mmdet detectors and panoptic segmentors): the
config's ``default_scope`` picks the registries, and the task shows in which ``pred_*`` field
the model fills.
"""

import re

import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DATASETS, MODELS, TRANSFORMS, init_default_scope

from ..checkpoint.fit import check_checkpoint
from ..datasets.checks import AS_STORED, decode_as_stored
from ..errors import ConfigError

# mmseg/mmdet loaders and checks and ours (e.g. CheckedLoadPanopticAnnotations), scoped or not.
_ANNOTATION_LOADER = re.compile(r'(^|\.)(Load|Check)\w*Annotation')


def default_device():
    """``'cuda'`` when a GPU is visible, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def _dataset_meta(cfg):
    """``METAINFO`` of the config's test dataset class (class names, palette), if any."""
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    while 'dataset' in dataset and 'type' not in dataset:  # wrappers without their own type
        dataset = dataset['dataset']
    name = str(dataset.get('type'))
    if '.' not in name:  # the root registry only finds scoped names
        name = f'{cfg.get("default_scope", "mmseg")}.{name}'
    try:
        cls = DATASETS.get(name)
    except Exception:
        return None
    meta = dict(getattr(cls, 'METAINFO', None) or {})
    meta.update(dataset.get('metainfo') or {})  # the config's own class names win
    return meta or None


def build_model(cfg, checkpoint=None, device='cpu', config_path=None):
    """Build ``cfg.model`` in eval mode on ``device``, with checked weights if given.

    Args:
        cfg (Config): full config (its ``default_scope`` selects mmseg or mmdet).
        checkpoint (str, optional): weights; must fit the model (see ``check_checkpoint``).
        device (str): torch device.
        config_path (str, optional): named in error messages.

    Returns:
        nn.Module: the model, with ``dataset_meta`` from the checkpoint or the dataset class.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    meta = None
    if checkpoint:
        ckpt = check_checkpoint(model, checkpoint, config_path)
        sd = ckpt.get('state_dict', ckpt)
        model.load_state_dict({re.sub(r'^module\.', '', k): v for k, v in sd.items()}, False)
        meta = ckpt.get('meta', {}).get('dataset_meta')
    model.dataset_meta = meta or _dataset_meta(cfg) or {}
    model.cfg = cfg
    return model.to(device).eval()


def build_test_pipeline(cfg):
    """The test pipeline fed from an in-memory BGR image: no annotation loading.

    Args:
        cfg (Config): full config; uses ``test_dataloader.dataset.pipeline`` (or ``test_pipeline``).

    Returns:
        Compose: call it with ``dict(img=bgr_array)``.
    """
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    steps = dataset.get('pipeline') or cfg.get('test_pipeline')
    if not steps:
        raise ConfigError(f'{cfg.filename} defines no test pipeline')
    steps = [dict(s) for s in steps if not _ANNOTATION_LOADER.search(s['type'])]
    flag = decode_flag(steps[0])
    # mmcv's file loader and ours (the classifiers' CheckedLoadImage) read img_path.
    if str(steps[0]['type']).endswith(('LoadImageFromFile', 'CheckedLoadImage')):
        steps[0]['type'] = 'LoadImageFromNDArray'
    pipeline = Compose(steps)
    # A loader left in (e.g. inside TestTimeAug) decodes as the datasets do.
    decode_as_stored(pipeline)
    pipeline.decode_flag = flag
    return pipeline


def decode_flag(step):
    """The mmcv colour flag the test data's loader decodes with, the datasets' rule applied.

    Segmentation, depth and detection loaders ignore EXIF orientation (see
    :func:`~pvtv2_dense.datasets.checks.decode_as_stored`); the classifiers' loader applies it.

    Args:
        step (dict): the first step of the config's test pipeline.

    Returns:
        str: ``'color'`` or ``'color_ignore_orientation'``, for an in-memory 3-channel image.
    """
    try:
        loader = TRANSFORMS.build(dict(step))
    except Exception:  # not a loader this scope knows: the datasets' rule
        return AS_STORED['color']
    decode_as_stored(loader)
    ignores = str(getattr(loader, 'color_type', 'color')).endswith('_ignore_orientation')
    return AS_STORED['color'] if ignores else 'color'


@torch.no_grad()
def predict(model, pipeline, image):
    """Run one BGR ``uint8`` image (H, W, 3) through the pipeline and model.

    Returns:
        The data sample with ``pred_sem_seg``, ``pred_depth_map``, ``pred_instances`` or
        ``pred_panoptic_seg``.
    """
    data = pipeline(dict(img=image, img_shape=image.shape[:2], ori_shape=image.shape[:2]))
    return model.test_step(pseudo_collate([data]))[0]


def task_of(sample):
    """``'seg'``, ``'depth'``, ``'pan'``, ``'det'`` or ``'cls'`` from the prediction fields of a
    sample."""
    for field, task in (
        ('pred_depth_map', 'depth'),
        ('pred_sem_seg', 'seg'),
        ('pred_panoptic_seg', 'pan'),
    ):
        if field in sample:
            return task
    if 'pred_instances' in sample:
        return 'det'
    if 'pred_score' in sample and 'pred_label' in sample:
        return 'cls'
    raise ConfigError(
        'the model predicts none of pred_depth_map, pred_sem_seg, pred_panoptic_seg, '
        f'pred_instances, pred_score (data sample fields: {sorted(sample.keys())})'
    )

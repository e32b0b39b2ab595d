"""The model behind ``tools/infer.py``: a config's model in PyTorch, or its ONNX export in ONNX
Runtime, both answering the same data samples.

:func:`resolve_model` is the one place where what the user named becomes a predictor (a released
model by name is one more branch there). Both predictors split a prediction into
``preprocess`` (the config's test pipeline) and ``infer`` (data preprocessor, network,
post-processing), so that the time of each stage can be reported.
"""

import functools
import os.path as osp

import cv2
import torch
from mmengine.dataset import pseudo_collate

from ...errors import DataError, ExportError, InputError
from ..inference import build_model, build_test_pipeline, default_device


def _size(x):
    """(H, W) of an image, or of the image a pipeline output came from."""
    if hasattr(x, 'shape'):
        return x.shape[:2]
    sample = x.get('data_samples')
    return (getattr(sample, 'ori_shape', None) or x['inputs'].shape[-2:])[:2]


def _one_input(step):
    """Report a pipeline's or model's failure on one input (an image resized to nothing, a map
    smaller than a kernel) as that input's error, so that the others go on."""

    @functools.wraps(step)
    def wrapper(self, x):
        try:
            return step(self, x)
        except (RuntimeError, cv2.error) as err:
            text = str(err).strip().splitlines()
            h, w = _size(x)
            stage = 'model' if step.__name__ == 'infer' else 'test pipeline'
            reason = text[0] if text else type(err).__name__
            raise DataError(
                f'the {stage} cannot process this {w}x{h} (WxH) input: {reason}'
            ) from None

    return wrapper


class TorchPredictor:
    """A config's model (eval mode) and its test pipeline.

    Args:
        model (nn.Module): from :func:`~pvtv2_dense.apis.inference.build_model`.
        pipeline (Compose): from :func:`~pvtv2_dense.apis.inference.build_test_pipeline`.
    """

    backend = 'pytorch'

    def __init__(self, model, pipeline):
        self.model = model
        self.pipeline = pipeline
        self.dataset_meta = model.dataset_meta

    @_one_input
    def preprocess(self, image):
        """The test pipeline's output for a BGR uint8 (H, W, 3) image."""
        return self.pipeline(dict(img=image, img_shape=image.shape[:2], ori_shape=image.shape[:2]))

    @_one_input
    @torch.no_grad()
    def infer(self, data):
        """The data sample with the model's prediction."""
        return self.model.test_step(pseudo_collate([data]))[0]


class OnnxPredictor(TorchPredictor):
    """An ONNX file of ``tools/deployment/export_onnx.py`` in ONNX Runtime (CPU), between the
    config's own pre- and post-processing (the model object supplies those, not its weights).

    Args:
        model (nn.Module): the config's model (weights unused).
        pipeline (Compose): the config's test pipeline.
        path (str): the ``.onnx`` file.

    Raises:
        InputError: the file is missing or not an export of ours, the model's post-processing
            cannot follow an exported graph, or onnxruntime is not installed.
    """

    backend = 'onnxruntime'

    def __init__(self, model, pipeline, path):
        super().__init__(model, pipeline)
        from ...deploy.onnx import require_onnx
        from ...deploy.onnx_det import is_detector

        require_onnx(runtime=True)
        if is_detector(model):
            raise InputError(
                f'--onnx runs segmentation, depth and classification exports; '
                f'{type(model).__name__} runs with --checkpoint (PyTorch)'
            )
        self.task = _onnx_task(model)
        self.path = path
        self.session = _session(path)
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get('producer') != 'pvtv2_dense':
            raise InputError(
                f'--onnx {path} was not written by tools/deployment/export_onnx.py (its metadata '
                'has no producer=pvtv2_dense); export the config with that tool'
            )
        self.input = self.session.get_inputs()[0]
        self.min_size = (int(meta.get('min_height', 1)), int(meta.get('min_width', 1)))

    def _check_shape(self, inputs):
        got = tuple(inputs.shape)
        want = self.input.shape
        fixed = all(isinstance(d, int) for d in want[2:])
        if fixed and tuple(want[2:]) != got[2:]:
            raise InputError(
                f'the test pipeline makes a {got[2]}x{got[3]} input; --onnx {self.path} is a '
                f'static {want[2]}x{want[3]} graph (export with --dynamic, or --shape {got[2]} '
                f'{got[3]})'
            )
        if got[2] < self.min_size[0] or got[3] < self.min_size[1]:
            raise InputError(
                f'the test pipeline makes a {got[2]}x{got[3]} input; --onnx {self.path} serves '
                f'H >= {self.min_size[0]}, W >= {self.min_size[1]}'
            )

    @_one_input
    @torch.no_grad()
    def infer(self, data):
        batch = self.model.data_preprocessor(pseudo_collate([data]), False)
        inputs, samples = batch['inputs'].float(), batch['data_samples']
        self._check_shape(inputs)
        out = self.session.run(None, {self.input.name: inputs.cpu().numpy()})[0]
        out = torch.from_numpy(out)
        _check_channels(self.model, self.task, out, self.path)
        if self.task == 'cls':
            return self.model.predict_samples(out, samples)[0]
        metas = [s.metainfo for s in samples]
        resized = self.model.decode_head.predict_by_feat(out, metas)
        return self.model.postprocess_result(resized, samples)[0]


def _session(path):
    import onnxruntime as ort

    if not osp.isfile(path):
        raise InputError(f'--onnx {path} does not exist')
    try:
        return ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    except Exception as err:  # onnxruntime's own parse errors (InvalidProtobuf, Fail, ...)
        text = str(err).strip().splitlines()
        raise InputError(
            f'--onnx {path} is not a readable ONNX model: {text[0] if text else type(err).__name__}'
        ) from None


def _onnx_task(model):
    """'cls' or 'dense': what post-processing follows the graph; refuses what it cannot."""
    if hasattr(model, 'predict_samples'):
        return 'cls'
    mode = getattr(model, 'test_cfg', None) or {}
    if hasattr(model, 'postprocess_result') and hasattr(model, 'decode_head'):
        if mode.get('mode', 'whole') != 'whole':
            raise ExportError(
                f"--onnx: the config's test_cfg.mode={mode.get('mode')!r}; the ONNX Runtime "
                "backend runs whole images only (test_cfg.mode='whole')"
            )
        return 'dense'
    raise ExportError(f'--onnx: {type(model).__name__} has no ONNX Runtime path in infer')


def _check_channels(model, task, out, path):
    want = model.num_classes if task == 'cls' else model.decode_head.out_channels
    if out.shape[1] != want:
        raise InputError(
            f"--onnx {path} outputs {out.shape[1]} channels; the config's model has {want} "
            '(an export of another config?)'
        )


def resolve_model(cfg, options):
    """What the user named -> a predictor: the config's model with ``--checkpoint`` in
    PyTorch, or with ``--onnx`` the exported graph in ONNX Runtime.

    Args:
        cfg (Config): the loaded config.
        options (InferOptions): ``checkpoint``, ``onnx``, ``device`` and ``config`` are read.

    Returns:
        TorchPredictor | OnnxPredictor: ``preprocess``, ``infer``, ``dataset_meta``, ``backend``.
    """
    # The model first: building it selects the config's registry scope for the pipeline.
    if options.onnx:
        model = build_model(cfg, None, 'cpu', options.config)
        return OnnxPredictor(model, build_test_pipeline(cfg), options.onnx)
    device = options.device or default_device()
    model = build_model(cfg, options.checkpoint, device, options.config)
    return TorchPredictor(model, build_test_pipeline(cfg))

"""ONNX Runtime INT8 quantization of an exported graph (:mod:`.onnx`).

- ``dynamic``: weights stored as int8, activations quantized per batch at run time (ONNX
  Runtime's ``quantize_dynamic``; MatMul/Gemm and convolutions). Needs no data.
- ``static``: weights and activations int8 with fixed scales, calibrated on preprocessed images
  of the config's own validation set (``quantize_static``, QDQ format, MinMax calibration).

Both write through a temporary file; the graph is first pre-processed (shape inference and
graph optimizations, ``quant_pre_process``) as ONNX Runtime recommends.
"""

import os
import os.path as osp

import numpy as np
import torch.nn.functional as F

from ..errors import ConfigError, ExportError

MODES = ('dynamic', 'static')


def calibration_inputs(cfg, num=8, size=None):
    """Preprocessed inputs (1, 3, H, W) float32 of the first ``num`` images of the config's
    validation set, as the model's data preprocessor gives them.

    Args:
        cfg (Config): the full config (``val_dataloader`` and ``model.data_preprocessor``).
        num (int): how many images.
        size (tuple[int, int], optional): resize each input to (H, W) (a static graph's size).

    Returns:
        list[np.ndarray]: the inputs.
    """
    from mmengine.registry import DATASETS, MODELS, init_default_scope

    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader = cfg.get('val_dataloader') or cfg.get('test_dataloader')
    if not loader or 'dataset' not in loader:
        raise ConfigError('static quantization needs the config to have a val_dataloader')
    dataset = DATASETS.build(loader['dataset'])
    pre = MODELS.build(cfg.model.get('data_preprocessor') or dict(type='BaseDataPreprocessor'))
    out = []
    for i in range(min(num, len(dataset))):
        item = dataset[i]
        batch = pre(dict(inputs=[item['inputs']], data_samples=[item['data_samples']]), False)
        x = batch['inputs'].float()
        if size is not None and tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)
        out.append(x.numpy())
    if not out:
        raise ConfigError('the validation set is empty: nothing to calibrate on')
    return out


class _Reader:
    """``CalibrationDataReader`` over a list of inputs."""

    def __init__(self, name, inputs):
        self.items = iter([{name: x} for x in inputs])

    def get_next(self):
        return next(self.items, None)


def graph_input(path):
    """Name and (H, W) of the graph's input (None for symbolic sizes)."""
    import onnx

    graph = onnx.load(path, load_external_data=False).graph
    dims = graph.input[0].type.tensor_type.shape.dim
    hw = tuple(d.dim_value if d.HasField('dim_value') else None for d in dims[2:])
    return graph.input[0].name, (None if None in hw else hw)


def quantize_onnx(src, dst, mode='dynamic', calibration=None, per_channel=True):
    """Write an INT8 copy of the ONNX graph ``src`` to ``dst``.

    Args:
        src (str): the float32 graph.
        dst (str): the INT8 graph (written under a temporary name, then renamed).
        mode (str): ``'dynamic'`` or ``'static'``.
        calibration (list[np.ndarray], optional): inputs for ``'static'``
            (:func:`calibration_inputs`).
        per_channel (bool): one weight scale per output channel.
    """
    from onnxruntime.quantization import (
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_dynamic,
        quantize_static,
    )

    if mode not in MODES:
        raise ExportError(f'quantization mode {mode!r}: expected one of {MODES}')
    if mode == 'static' and not calibration:
        raise ExportError('static quantization needs calibration inputs')
    folder = osp.dirname(osp.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    pre = osp.join(folder, f'.{osp.basename(dst)}.{os.getpid()}.pre.onnx')
    tmp = osp.join(folder, f'.{osp.basename(dst)}.{os.getpid()}.tmp.onnx')
    try:
        quant_pre_process(src, pre, skip_symbolic_shape=True)
        if mode == 'dynamic':
            quantize_dynamic(pre, tmp, weight_type=QuantType.QInt8, per_channel=per_channel)
        else:
            name, _ = graph_input(src)
            quantize_static(
                pre,
                tmp,
                _Reader(name, calibration),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
            )
        os.replace(tmp, dst)
    finally:
        for path in (pre, tmp):
            if osp.exists(path):
                os.remove(path)


def agreement(task, want, got):
    """How far an INT8 graph's outputs ``got`` are from the float32 ones ``want`` (numpy
    arrays of the first output), in the task's terms.

    Returns:
        tuple[str, float]: the measure's name and value.
    """
    if want.shape != got.shape:  # a detector graph's boxes against mode='tensor' logits
        return 'not compared', float('nan')
    if task == 'segmentation':
        return 'pixels with the same label', float((want.argmax(1) == got.argmax(1)).mean())
    if task == 'depth':
        return 'AbsRel', float((np.abs(got - want) / np.abs(want).clip(1e-6)).mean())
    if task == 'classification':
        return 'same top-1', float((want.argmax(-1) == got.argmax(-1)).mean())
    return 'max |diff|', float(np.abs(want - got).max())


def task_of(model):
    """'segmentation', 'depth', 'classification' or 'detection'."""
    from mmseg.models.segmentors import DepthEstimator

    from .onnx_det import is_detector

    if is_detector(model):
        return 'detection'
    if isinstance(model, DepthEstimator):
        return 'depth'
    if hasattr(model, 'decode_head'):
        return 'segmentation'
    return 'classification'

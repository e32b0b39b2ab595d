"""ONNX export of a config's model, and its check in ONNX Runtime against PyTorch.

The graph takes the preprocessed batch (N, 3, H, W) float32 and computes what
``model(inputs, mode='tensor')`` computes (segmentation logits at 1/4 resolution, depth maps,
class logits). It is exported from the plain definitions (:mod:`.plain`) with
``torch.export``; linear SRA's adaptive pooling is swapped for an exact formulation that
exports for any size (:mod:`.adaptive_pool`). With ``dynamic=True`` N, H and W are symbolic;
the smallest H and W the graph serves (where the spatial reduction's convolutions still fit) are
read from the exported program and stored in the file's metadata.
"""

import copy
import os
import os.path as osp

import numpy as np
import torch
from torch import nn

from ..errors import ExportError
from .adaptive_pool import swap_adaptive_pools
from .plain import TensorForward

# The second, odd-sized input of a dynamic graph's check.
ODD_SIZE = (97, 131)
# A dynamic graph is traced at this size: its first three pyramid levels (ceil(x / 4), then
# halved rounding up) all have odd sizes, so every resize that heads apply only when two
# levels' sizes differ (GLPN's decoder) is taken and stays in the graph; it is an identity
# where the sizes agree. Traced at 512, those branches would be left out.
TRACE_SIZE = (129, 163)
DEFAULT_TOLERANCE = 1e-4


def require_onnx(runtime=True):
    """Raise a one-line :class:`ExportError` when ``onnx`` (or ``onnxruntime``) is missing."""
    import importlib.util

    for name in ('onnx', 'onnxscript') + (('onnxruntime',) if runtime else ()):
        if importlib.util.find_spec(name) is None:
            raise ExportError(f'{name} is not installed: pip install -r requirements/deploy.txt')


def export_module(model: nn.Module):
    """``(module of one tensor, output names)`` of ``model``'s graph; a detector without an
    ONNX export is refused in one line naming it (:func:`.onnx_det.check_detector`)."""
    from .onnx_det import detector_module, is_detector

    if is_detector(model):
        return detector_module(model)
    module = TensorForward(copy.deepcopy(model)).eval()
    swap_adaptive_pools(module)
    return module, ('outputs',)


def _export_program(module, example, dynamic):
    shapes = None
    if dynamic:
        auto = torch.export.Dim.AUTO
        shapes = {'inputs': {0: auto, 2: auto, 3: auto}}
    import torch.fx.experimental._config as fx_config

    # Size-oblivious: no guard that a size is not 1 (a batch of 1 must stay dynamic).
    with fx_config.patch(backed_size_oblivious=dynamic), torch.no_grad():
        return torch.export.export(module, (example,), dynamic_shapes=shapes, strict=False)


def _min_size(program):
    """The smallest (H, W) the exported program was traced valid for."""
    inputs = [n for n in program.graph.nodes if n.op == 'placeholder' and n.name == 'inputs']
    shape = inputs[0].meta['val'].shape
    out = []
    for dim in shape[2:]:
        if isinstance(dim, int):
            out.append(dim)
            continue
        (symbol,) = dim.node.expr.free_symbols
        out.append(int(program.range_constraints[symbol].lower))
    return tuple(out)


def export_onnx(model, out, shape=(512, 512), dynamic=False, opset=18):
    """Export ``model`` (built by :func:`~pvtv2_dense.deploy.plain.build_plain_model`).

    Args:
        model (nn.Module): the model in eval mode; it is not changed.
        out (str): the ``.onnx`` file; written to a temporary name, then renamed.
        shape (tuple[int, int]): H, W of a static graph's input (a dynamic graph is traced
            at ``TRACE_SIZE``).
        dynamic (bool): symbolic batch size, height and width.
        opset (int): ONNX opset.

    Returns:
        dict: ``input_shape`` (with 'N', 'H', 'W' for symbolic sizes), ``min_size`` and
        ``outputs`` (their names).
    """
    import onnx

    module, names = export_module(model)
    example = torch.randn(2, 3, *TRACE_SIZE) if dynamic else torch.randn(1, 3, *shape)
    program = _export_program(module, example, dynamic)
    min_size = _min_size(program) if dynamic else tuple(shape)
    onnx_program = torch.onnx.export(
        program,
        (example,),
        input_names=['inputs'],
        output_names=list(names),
        opset_version=opset,
        dynamo=True,
        # onnxscript's optimizer drops the bound of one of two clamps of the same tensor
        # (mmdet's inverse_sigmoid): detectors are left to ONNX Runtime's optimizer.
        optimize=len(names) == 1,
        external_data=False,
        verbose=False,
    )
    proto = onnx_program.model_proto
    meta = dict(
        producer='pvtv2_dense',
        computes=', '.join(names) if len(names) > 1 else "model(inputs, mode='tensor')",
        dynamic=str(bool(dynamic)),
        min_height=str(min_size[0]),
        min_width=str(min_size[1]),
    )
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=value)
    tmp = f'{out}.tmp-{os.getpid()}'
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    try:
        onnx.save(proto, tmp)
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    dims = ['N', 3, 'H', 'W'] if dynamic else [1, 3, *shape]
    return dict(input_shape=dims, min_size=min_size, outputs=names)


def verify_sizes(shape, dynamic):
    """The (batch, H, W) inputs of the check: the export size, and for a dynamic graph an odd
    size with batch 2 too."""
    if not dynamic:
        return [(1, *shape)]
    odd = ODD_SIZE if tuple(shape) != ODD_SIZE else ODD_SIZE[::-1]
    return [(1, *shape), (2, *odd)]


def run_onnx(path, inputs: np.ndarray, all_outputs=False):
    """The first output (or every output) of the ONNX file ``path`` for ``inputs`` in ONNX
    Runtime (CPU)."""
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    out = session.run(None, {session.get_inputs()[0].name: inputs})
    return out if all_outputs else out[0]


def verify_onnx(path, model, sizes, tolerance=DEFAULT_TOLERANCE, seed=0):
    """Compare ONNX Runtime's outputs of ``path`` with ``model(inputs, mode='tensor')``, or
    for a detector with mmdet's ``predict`` (:func:`.onnx_det.verify_detections`).

    Args:
        path (str): the exported file.
        model (nn.Module): the PyTorch model it was exported from.
        sizes (list[tuple[int, int, int]]): (batch, H, W) of each check.
        tolerance (float): the largest absolute difference allowed.
        seed (int): seed of the random inputs.

    Returns:
        list[tuple[tuple, float]]: each input shape and the largest absolute difference.

    Raises:
        ExportError: when a difference exceeds ``tolerance`` or a shape differs.
    """
    from .onnx_det import is_detector, verify_detections

    reference = TensorForward(model).eval()
    g = torch.Generator().manual_seed(seed)
    results = []
    for batch, h, w in sizes:
        x = torch.randn(batch, 3, h, w, generator=g)
        if is_detector(model):
            got = run_onnx(path, x.numpy(), all_outputs=True)
            results.append((tuple(x.shape), verify_detections(path, model, x, got, tolerance)))
            continue
        with torch.no_grad():
            want = reference(x).float().numpy()
        got = run_onnx(path, x.numpy())
        if got.shape != want.shape:
            raise ExportError(
                f'{path}: ONNX Runtime output shape {got.shape} for input {tuple(x.shape)}, '
                f'PyTorch gives {want.shape}'
            )
        diff = float(np.abs(got - want).max())
        results.append((tuple(x.shape), diff))
        if not diff <= tolerance:
            raise ExportError(
                f'{path}: ONNX Runtime differs from PyTorch by {diff:.3g} (> {tolerance:g}) '
                f'for input {tuple(x.shape)}'
            )
    return results

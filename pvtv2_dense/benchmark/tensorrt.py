"""TensorRT engines from the ONNX graphs of our SegFormer configs, where TensorRT is installed.

Each arch's shipped SegFormer config is built in its plain definitions (what ONNX export
traces) with seeded random weights, exported to a static ONNX graph
(:func:`pvtv2_dense.deploy.onnx.export_onnx`) and, with ``trtexec`` on the PATH, built into an
fp32 and an fp16 engine whose GPU compute time ``trtexec`` measures; with only the ``tensorrt``
Python package, the engine is built (not timed). Without either, or without the ONNX packages,
each row says what was skipped and why.

Usage: ``python -m pvtv2_dense.benchmark.tensorrt --out DIR [--archs b0 b2] [--size 512]``
prints one Markdown row per arch and precision.
"""

import argparse
import os.path as osp
import re
import shutil
import subprocess

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/segformer/segformer_mit-{}_8xb2-160k_ade20k-512x512.py'
# trtexec's summary line of the timed inferences.
GPU_TIME = re.compile(r'GPU Compute Time: min = [\d.]+ ms, max = [\d.]+ ms, mean = ([\d.]+) ms')


def export_segformer(arch, size, path):
    """Write the static ONNX graph of our SegFormer ``arch`` (random weights) to ``path``."""
    from ..deploy.onnx import export_onnx
    from .config_models import build_from_config
    from .segformer import PLAIN_OPTIONS

    torch.manual_seed(0)
    options = dict(PLAIN_OPTIONS, **{'model.backbone.init_cfg': None})
    model = build_from_config(osp.join(ROOT, CONFIG.format(arch)), 'mmseg', options).eval()
    export_onnx(model, path, (size, size))


def trtexec_ms(onnx_path, fp16, timeout=300):
    """Mean GPU compute time (ms) of the engine trtexec builds from ``onnx_path``."""
    cmd = ['trtexec', f'--onnx={onnx_path}', f'--saveEngine={onnx_path}.{int(fp16)}.engine']
    proc = subprocess.run(
        cmd + (['--fp16'] if fp16 else []), capture_output=True, text=True, timeout=timeout
    )
    match = GPU_TIME.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ['no output']
        raise RuntimeError(f'trtexec exit {proc.returncode}: {tail[0][:100]}')
    return float(match.group(1))


def build_engine(onnx_path, fp16):
    """Build (not time) a TensorRT engine with the ``tensorrt`` package; its size in MB."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    with open(onnx_path, 'rb') as f:
        if not parser.parse(f.read()):
            raise RuntimeError(f'TensorRT cannot parse {onnx_path}: {parser.get_error(0)}')
    config = builder.create_builder_config()
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise RuntimeError('TensorRT built no engine')
    return engine.nbytes / 2**20


def _tensorrt_python():
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return False
    return True


def rows(out_dir, archs=('b0', 'b2'), size=512):
    """One Markdown row per arch and precision (see the module docstring)."""
    trtexec, python_trt = shutil.which('trtexec'), _tensorrt_python()
    for arch in archs:
        head = f'| segformer | {arch} | {size} |'
        if not (trtexec or python_trt):
            yield f'{head} fp32, fp16 | | skipped: neither trtexec nor tensorrt is installed |'
            continue
        path = osp.join(out_dir, f'segformer_{arch}_{size}.onnx')
        try:
            export_segformer(arch, size, path)
        except Exception as err:  # onnx/onnxscript missing, or the export failing: say so
            reason = f'{type(err).__name__}: {err}'.splitlines()[0][:200]
            yield f'{head} fp32, fp16 | | skipped: ONNX export failed ({reason}) |'
            continue
        for fp16 in (False, True):
            precision = 'fp16' if fp16 else 'fp32'
            try:
                if trtexec:
                    yield f'{head} {precision} | {trtexec_ms(path, fp16):.2f} | trtexec |'
                else:
                    built = f'engine built ({build_engine(path, fp16):.0f} MB)'
                    yield f'{head} {precision} | | {built}, no trtexec to time it |'
            except Exception as err:  # one row per failure, then the next
                reason = f'{type(err).__name__}: {err}'.splitlines()[0][:200]
                yield f'{head} {precision} | | FAILED: {reason} |'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True, help='folder for the ONNX graphs and engines')
    parser.add_argument('--archs', nargs='+', default=['b0', 'b2'])
    parser.add_argument('--size', type=int, default=512)
    args = parser.parse_args(argv)
    print('| model | arch | input | precision | TensorRT GPU ms | how |')
    print('|---|---|---|---|---|---|')
    failed = False
    for row in rows(args.out, args.archs, args.size):
        failed |= 'FAILED' in row
        print(row, flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    raise SystemExit(main())

"""Latency and peak-memory measurement of backbone implementations, one fresh process each.

A fresh process per measurement keeps peak memory that model's own: on CPU it is the rise of the
resident-set peak over the resident size once the model is loaded; on GPU,
``torch.cuda.max_memory_allocated`` above the allocation before the timed runs.
"""

import json
import resource
import statistics
import subprocess
import sys
import time

IMPLS = ('ours', 'hf', 'mmdet', 'timm')


def _rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def build_backbone(impl: str, arch: str):
    """``impl`` ('ours', 'hf', 'mmdet', 'timm') with the weights of one seeded HF PvtV2Model."""
    import torch
    from transformers import PvtV2Config, PvtV2Model

    from ..checkpoint import to_official, to_pvtv2_dense
    from ..models import PVTv2, resolve_arch

    opts = resolve_arch(arch)
    torch.manual_seed(0)
    hf = PvtV2Model(PvtV2Config(**opts)).eval()
    if impl == 'hf':
        return hf, hf
    ours_sd = to_pvtv2_dense(hf.state_dict())[0]
    del hf
    if impl == 'ours':
        model = PVTv2(arch)
        model.load_state_dict(ours_sd)
        return model.eval(), model
    if impl == 'mmdet':
        from mmdet.models.backbones.pvt import PyramidVisionTransformerV2, pvt_convert

        if opts['linear_attention']:
            raise RuntimeError('mmdet has no linear SRA')
        model = PyramidVisionTransformerV2(
            embed_dims=opts['hidden_sizes'][0] // opts['num_attention_heads'][0],
            num_layers=opts['depths'],
            num_heads=opts['num_attention_heads'],
            mlp_ratios=opts['mlp_ratios'],
            qkv_bias=True,
            norm_cfg=dict(type='LN', eps=1e-6),
        )
        model.load_state_dict(pvt_convert(to_official(ours_sd)))
        return model.eval(), model
    if impl == 'timm':
        import timm  # needs torchvision, which does not import beside every torch build

        model = timm.create_model('pvt_v2_' + arch.replace('-', '_'), pretrained=False)
        sd = timm.models.pvt_v2.checkpoint_filter_fn(to_official(ours_sd), model)
        model.load_state_dict(sd, strict=False)
        return model.eval(), model.forward_features
    raise ValueError(f'unknown implementation {impl!r}; expected one of {IMPLS}')


def backbone_step(impl, arch, size, batch, device='cpu'):
    """A zero-argument forward pass of backbone ``impl`` on a random batch."""
    import torch

    model, call = build_backbone(impl, arch)
    model.to(device)
    if impl == 'hf':
        call = model
    x = torch.randn(batch, 3, *((size, size) if isinstance(size, int) else size), device=device)
    return lambda: call(x)


def measure_step(builder, kwargs, device='cpu', repeat=10, warmup=2, grad=False):
    """Median latency (ms) and peak memory (MB) of ``builder(**kwargs, device=...)()``.

    ``builder`` is ``'module:function'``, a function that builds a model and returns a
    zero-argument callable running one step (a forward pass, or a whole training step).
    """
    import importlib

    import torch

    torch.set_grad_enabled(grad)
    module, name = builder.split(':')
    try:
        step = getattr(importlib.import_module(module), name)(device=device, **kwargs)
    except Exception as err:  # a peer missing, or unable to run this configuration
        return dict(error=f'{type(err).__name__}: {err}'.splitlines()[0][:80])
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _rss_mb()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    if device == 'cuda':
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return dict(median_ms=1000 * statistics.median(times), peak_mb=max(peak, 0.0))


def measure(impl, arch, size, batch, device='cpu', repeat=10, warmup=2):
    """Forward latency and peak memory of backbone ``impl``, in this process."""
    kwargs = dict(impl=impl, arch=arch, size=size, batch=batch)
    return measure_step(f'{__name__}:backbone_step', kwargs, device, repeat, warmup)


def measure_step_in_subprocess(builder, kwargs, device='cpu', repeat=10, warmup=2, grad=False):
    """:func:`measure_step` in a fresh interpreter; errors come back as ``dict(error=...)``."""
    code = (
        'import json, sys; from pvtv2_dense.utils.benchmark import measure_step; '
        'print(json.dumps(measure_step(*json.loads(sys.argv[1]))))'
    )
    args = [builder, kwargs, device, repeat, warmup, grad]
    proc = subprocess.run(
        [sys.executable, '-c', code, json.dumps(args)], capture_output=True, text=True
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    return dict(error=(proc.stderr.strip().splitlines() or ['failed'])[-1][:80])


def measure_in_subprocess(impl, arch, size, batch, device='cpu', repeat=10, warmup=2) -> dict:
    """Backbone forward measurement (see :func:`measure`) in a fresh interpreter."""
    kwargs = dict(impl=impl, arch=arch, size=size, batch=batch)
    return measure_step_in_subprocess(f'{__name__}:backbone_step', kwargs, device, repeat, warmup)

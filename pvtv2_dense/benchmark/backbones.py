"""PVTv2 backbones of every implementation (ours, HF, mmdet, timm) holding the same weights."""

from ..errors import ConfigError
from .timing import measure_step, measure_step_in_subprocess

IMPLS = ('ours', 'hf', 'mmdet', 'timm')


def build_backbone(impl: str, arch: str):
    """``impl`` ('ours', 'hf', 'mmdet', 'timm') with the weights of one seeded HF PvtV2Model."""
    import torch
    from transformers import PvtV2Config, PvtV2Model

    from ..checkpoint import to_official, to_pvtv2_dense
    from ..models import PVTv2, resolve_arch

    # One eps in every LayerNorm, as HF's and mmdet's PVTv2 have it.
    opts = resolve_arch(arch, layer_norm_eps=1e-6)
    torch.manual_seed(0)
    hf = PvtV2Model(PvtV2Config(**opts)).eval()
    if impl == 'hf':
        return hf, hf
    ours_sd = to_pvtv2_dense(hf.state_dict())[0]
    del hf
    if impl == 'ours':
        model = PVTv2(arch, layer_norm_eps=1e-6)
        model.load_state_dict(ours_sd)
        return model.eval(), model
    if impl == 'mmdet':
        from mmdet.models.backbones.pvt import PyramidVisionTransformerV2, pvt_convert

        if opts['linear_attention']:
            raise ConfigError('mmdet has no linear SRA')
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
    raise ConfigError(f'unknown implementation {impl!r}; expected one of {IMPLS}')


def backbone_step(impl, arch, size, batch, device='cpu'):
    """A zero-argument forward pass of backbone ``impl`` on a random batch."""
    import torch

    model, call = build_backbone(impl, arch)
    model.to(device)
    if impl == 'hf':
        call = model
    x = torch.randn(batch, 3, *((size, size) if isinstance(size, int) else size), device=device)
    return lambda: call(x)


def measure(impl, arch, size, batch, device='cpu', repeat=10, warmup=2):
    """Forward latency and peak memory of backbone ``impl``, in this process."""
    kwargs = dict(impl=impl, arch=arch, size=size, batch=batch)
    return measure_step(f'{__name__}:backbone_step', kwargs, device, repeat, warmup)


def measure_in_subprocess(impl, arch, size, batch, device='cpu', repeat=10, warmup=2) -> dict:
    """Backbone forward measurement (see :func:`measure`) in a fresh interpreter."""
    kwargs = dict(impl=impl, arch=arch, size=size, batch=batch)
    return measure_step_in_subprocess(f'{__name__}:backbone_step', kwargs, device, repeat, warmup)

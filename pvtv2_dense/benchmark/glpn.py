"""GLPN benchmark models: ours (PVTv2 + GLPNHead in mmseg's DepthEstimator) and HF's
GLPNForDepthEstimation, holding the same weights."""

import torch

from ..errors import ConfigError


def glpn_step(impl, arch, mode='infer', size=(480, 640), batch=1, device='cpu'):
    """GLPN depth model: 'ours' (PVTv2 + GLPNHead in mmseg's DepthEstimator) or HF's
    GLPNForDepthEstimation, with identical weights. ``arch``: 'b0' (HF's default GLPN config) or
    'b4' (GLPN's MiT-b4 encoder, mlp ratios 4)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from transformers import GLPNConfig, GLPNForDepthEstimation

    from ..checkpoint.hf_glpn import glpn_model_cfg, hf_glpn_to_depth_estimator
    from ..models import resolve_arch

    if mode != 'infer':
        raise ConfigError('the GLPN suite measures inference only')
    opts = resolve_arch(arch, mlp_ratios=[4, 4, 4, 4])
    torch.manual_seed(0)
    hf_cfg = GLPNConfig(
        hidden_sizes=opts['hidden_sizes'],
        depths=opts['depths'],
        num_attention_heads=opts['num_attention_heads'],
    )
    hf = GLPNForDepthEstimation(hf_cfg).eval()
    h, w = (size, size) if isinstance(size, int) else size
    x = torch.randn(batch, 3, h, w, device=device)
    if impl == 'hf':
        hf.to(device)
        return lambda: hf(pixel_values=x).predicted_depth
    if impl != 'ours':
        raise ConfigError(f'unknown implementation {impl!r}')
    overrides = glpn_model_cfg(hf_cfg.to_dict())
    init_default_scope('mmseg')
    model = MODELS.build(
        dict(
            type='DepthEstimator',
            data_preprocessor=dict(type='SegDataPreProcessor'),
            # Channels-last maps into the head, as configs/glpn has it.
            backbone=dict(type='PVTv2', channels_last_outputs=True, **overrides['backbone']),
            decode_head=dict(type='GLPNHead', **overrides['decode_head']),
            test_cfg=dict(mode='whole'),
        )
    )
    model.load_state_dict(hf_glpn_to_depth_estimator(hf.state_dict())[0], strict=True)
    model.to(device).eval()
    return lambda: model._forward(x)

"""Deformable DETR benchmark models: a config's detector on our PVTv2 and the same detector on
mmdet's PyramidVisionTransformerV2, holding the same weights."""

import torch

from ..errors import ConfigError
from .config_models import build_from_config
from .dummy import det_samples
from .timing import train_step


def _detr_samples(batch, h, w, device, with_gt, num_gt=4, num_classes=80):
    """Det samples of one ``h`` x ``w`` image each (already resized and padded), with
    ``num_gt`` seeded random boxes and labels per image when ``with_gt``."""
    from mmengine.structures import InstanceData

    gen = torch.Generator().manual_seed(1)
    samples = det_samples(batch, h, w)
    if not with_gt:
        return samples
    for sample in samples:
        xy = torch.rand(num_gt, 2, generator=gen) * torch.tensor([w / 2, h / 2])
        wh = (0.1 + 0.4 * torch.rand(num_gt, 2, generator=gen)) * torch.tensor([w, h])
        labels = torch.randint(0, num_classes, (num_gt,), generator=gen)
        sample.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], 1).to(device), labels=labels.to(device)
        )
    return samples


def build_detr(impl, config):
    """The Deformable DETR of our ``config`` on our PVTv2 ('ours'), or the same detector on
    mmdet's own PyramidVisionTransformerV2 and mmcv's deformable attention ('mmdet') holding
    the same weights throughout."""
    from mmdet.models.backbones.pvt import pvt_convert

    from ..checkpoint import to_official

    if impl not in ('ours', 'mmdet'):
        raise ConfigError(f"unknown implementation {impl!r}; expected 'ours' or 'mmdet'")
    torch.manual_seed(0)
    # mmdet's PVTv2 has one eps for every LayerNorm: ours takes the same.
    options = {'model.backbone.init_cfg': None, 'model.backbone.layer_norm_eps': 1e-6}
    ours = build_from_config(config, 'mmdet', options)
    if impl == 'ours':
        return ours
    mine = ours.backbone
    opts = mine.arch
    if opts['linear_attention']:
        raise ConfigError('mmdet has no linear SRA')
    backbone = dict(
        _delete_=True,
        type='PyramidVisionTransformerV2',
        embed_dims=opts['hidden_sizes'][0] // opts['num_attention_heads'][0],
        num_layers=opts['depths'],
        num_heads=opts['num_attention_heads'],
        sr_ratios=opts['sr_ratios'],
        mlp_ratios=opts['mlp_ratios'],
        out_indices=mine.out_indices,
        qkv_bias=opts['qkv_bias'],
        drop_path_rate=opts['drop_path_rate'],
        norm_cfg=dict(type='LN', eps=opts['layer_norm_eps']),
    )
    if opts['hidden_sizes'] != [backbone['embed_dims'] * n for n in backbone['num_heads']]:
        raise ConfigError('mmdet PVTv2 needs one head width across stages')
    # mmdet's own detector throughout: mmcv's deformable attention as published.
    options = {'model.backbone': backbone, 'model.msda_impl': 'mmcv'}
    model = build_from_config(config, 'mmdet', options)
    state = {k: v for k, v in ours.state_dict().items() if not k.startswith('backbone.')}
    converted = pvt_convert(to_official(mine.state_dict()))
    state.update({f'backbone.{k}': v for k, v in converted.items()})
    model.load_state_dict(state, strict=True)
    return model


def detr_step(impl, arch, config, mode='infer', size=640, batch=1, device='cpu'):
    """Deformable DETR of ``config`` ('ours': our PVTv2 backbone, 'mmdet': mmdet's):
    inference (``predict``, as a test step runs it) or a training step, on a ``size`` input.
    ``arch`` names the backbone size in tables (the config decides it)."""
    return detector_step(build_detr(impl, config), _detr_samples, mode, size, batch, device)


def detector_step(model, make_samples, mode='infer', size=640, batch=1, device='cpu'):
    """Inference (``predict``) or a training step of an mmdet detector on a seeded random
    ``size`` input, with the data samples ``make_samples(batch, h, w, device, with_gt)``."""
    model = model.to(device)
    h, w = (size, size) if isinstance(size, int) else size
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, h, w, generator=gen).to(device)
    samples = make_samples(batch, h, w, device, with_gt=mode == 'train')
    if mode == 'train':
        loss = lambda: sum(v for k, v in model(x, samples, mode='loss').items() if 'loss' in k)  # noqa: E731
        return train_step(model, loss)
    if mode != 'infer':
        raise ConfigError(f"unknown mode {mode!r}; expected 'infer' or 'train'")
    model.eval()
    return lambda: model(x, samples, mode='predict')

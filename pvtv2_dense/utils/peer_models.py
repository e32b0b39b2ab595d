"""Whole models of ours and of the reference implementations, with shared weights, as benchmark
steps (see :func:`pvtv2_dense.utils.benchmark.measure_step`).

Each builder returns a zero-argument callable running one inference forward or one training
step (forward, loss, backward, AdamW update) on a fixed random batch.
"""

import os.path as osp

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NUM_CLASSES = 150


def _build_from_config(path, scope, options=None):
    """Build the model of a config under ``ROOT``, with dotted-key ``options`` merged in."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope, init_default_scope

    cfg = Config.fromfile(osp.join(ROOT, path))
    cfg.merge_from_dict(options or {})
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(cfg.model)


def _hf_segformer(arch):
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    from ..models import resolve_arch

    opts = resolve_arch(arch, mlp_ratios=[4, 4, 4, 4])
    torch.manual_seed(0)
    cfg = SegformerConfig(
        depths=opts['depths'],
        hidden_sizes=opts['hidden_sizes'],
        num_attention_heads=opts['num_attention_heads'],
        decoder_hidden_size=256 if arch in ('b0', 'b1') else 768,
        num_labels=NUM_CLASSES,
    )
    return SegformerForSemanticSegmentation(cfg)


def _ours_segformer(arch, hf):
    from ..checkpoint.hf_segformer import segformer_to_pvtv2_dense

    model = _build_from_config(
        f'configs/segformer/segformer_mit-{arch}_8xb2-160k_ade20k-512x512.py',
        'mmseg',
        # HF Segformer's LayerNorms use eps 1e-5 throughout.
        {'model.backbone.init_cfg': None, 'model.backbone.layer_norm_eps': 1e-5},
    )
    model.load_state_dict(segformer_to_pvtv2_dense(hf.state_dict())[0], strict=True)
    return model


def _mmseg_segformer(arch, ours, channels=256):
    """mmseg's SegFormer (MixVisionTransformer + SegformerHead) with our encoder's weights;
    ``channels`` is the head width (mmseg's configs: 256 at every size)."""
    from mmdet.models.backbones.pvt import pvt_convert
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from ..checkpoint import to_official
    from ..models import resolve_arch

    opts = resolve_arch(arch)
    init_default_scope('mmseg')
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor', size=None),
            backbone=dict(
                type='MixVisionTransformer',
                embed_dims=opts['hidden_sizes'][0],
                num_layers=opts['depths'],
                num_heads=opts['num_attention_heads'],
            ),
            decode_head=dict(
                type='SegformerHead',
                in_channels=opts['hidden_sizes'],
                in_index=[0, 1, 2, 3],
                channels=channels,
                dropout_ratio=0.1,
                num_classes=NUM_CLASSES,
                norm_cfg=dict(type='BN', requires_grad=True),
                loss_decode=dict(type='CrossEntropyLoss'),
            ),
            test_cfg=dict(mode='whole'),
        )
    )
    backbone = {k[len('backbone.') :]: v for k, v in ours.state_dict().items() if 'backbone.' in k}
    # mmseg's MiT and mmdet's PVTv2 share one layout; mmdet ships the converter into it.
    model.backbone.load_state_dict(pvt_convert(to_official(backbone)), strict=True)
    return model


def _train_step(model, loss_fn):
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()

    def step():
        loss = loss_fn()
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()

    return step


def segformer_step(impl, arch, mode='infer', size=512, batch=1, device='cpu'):
    """SegFormer-equivalent model ('ours', 'mmseg', 'hf') at ``arch`` (b0..b5)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    hf = _hf_segformer(arch)
    model = hf if impl == 'hf' else _ours_segformer(arch, hf)
    if impl == 'mmseg':
        model = _mmseg_segformer(arch, model)
    elif impl == 'mmseg-768':
        # mmseg's head at the paper's width for b2-b5 (ours and HF's), not its configs' 256.
        if hf.config.decoder_hidden_size != 768:
            raise ValueError(f'{arch} uses a 256-wide head: the same model as mmseg')
        model = _mmseg_segformer(arch, model, channels=768)
    elif impl not in ('ours', 'hf'):
        raise ValueError(f'unknown implementation {impl!r}')
    model.to(device)
    torch.manual_seed(0)  # the same input whatever building the model drew from the RNG
    x = torch.randn(batch, 3, size, size, device=device)
    labels = torch.randint(0, NUM_CLASSES, (batch, size, size), device=device)
    if impl == 'hf':
        forward = lambda: model(pixel_values=x).logits  # noqa: E731
        loss = lambda: model(pixel_values=x, labels=labels).loss  # noqa: E731
    else:
        meta = dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size))
        samples = []
        for i in range(batch):
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(data=labels[i : i + 1])
            samples.append(sample)
        forward = lambda: model(x, samples, mode='tensor')  # noqa: E731
        loss = lambda: sum(v for k, v in model(x, samples, mode='loss').items() if 'loss' in k)  # noqa: E731
    if mode == 'train':
        return _train_step(model, loss)
    model.eval()
    return forward


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
        raise ValueError('the GLPN suite measures inference only')
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
        raise ValueError(f'unknown implementation {impl!r}')
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


DETR_CONFIG = 'configs/deformable_detr/deformable-detr_pvtv2-{}_16xb2-50e_coco.py'


def _detr_samples(batch, h, w, device, with_gt, num_gt=4, num_classes=80):
    """Det samples of one ``h`` x ``w`` image each (already resized and padded), with
    ``num_gt`` seeded random boxes and labels per image when ``with_gt``."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    gen = torch.Generator().manual_seed(1)
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1.0, 1.0))  # fmt: skip
    samples = []
    for _ in range(batch):
        sample = DetDataSample(metainfo=meta)
        if with_gt:
            xy = torch.rand(num_gt, 2, generator=gen) * torch.tensor([w / 2, h / 2])
            wh = (0.1 + 0.4 * torch.rand(num_gt, 2, generator=gen)) * torch.tensor([w, h])
            labels = torch.randint(0, num_classes, (num_gt,), generator=gen)
            sample.gt_instances = InstanceData(
                bboxes=torch.cat([xy, xy + wh], 1).to(device), labels=labels.to(device)
            )
        samples.append(sample)
    return samples


def build_detr(impl, arch):
    """Deformable DETR of our config for ``arch`` on our PVTv2 ('ours'), or the same detector
    on mmdet's own PyramidVisionTransformerV2 ('mmdet') holding the same weights throughout."""
    from mmdet.models.backbones.pvt import pvt_convert

    from ..checkpoint import to_official

    if impl not in ('ours', 'mmdet'):
        raise ValueError(f"unknown implementation {impl!r}; expected 'ours' or 'mmdet'")
    path = DETR_CONFIG.format(arch)
    torch.manual_seed(0)
    ours = _build_from_config(path, 'mmdet', {'model.backbone.init_cfg': None})
    if impl == 'ours':
        return ours
    mine = ours.backbone
    opts = mine.arch
    if opts['linear_attention']:
        raise RuntimeError('mmdet has no linear SRA')
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
        raise RuntimeError('mmdet PVTv2 needs one head width across stages')
    model = _build_from_config(path, 'mmdet', {'model.backbone': backbone})
    state = {k: v for k, v in ours.state_dict().items() if not k.startswith('backbone.')}
    converted = pvt_convert(to_official(mine.state_dict()))
    state.update({f'backbone.{k}': v for k, v in converted.items()})
    model.load_state_dict(state, strict=True)
    return model


def detr_step(impl, arch, mode='infer', size=640, batch=1, device='cpu'):
    """Deformable DETR ('ours': our PVTv2 backbone, 'mmdet': mmdet's) at ``arch``: inference
    (``predict``, as a test step runs it) or a training step, on a ``size`` input."""
    model = build_detr(impl, arch).to(device)
    h, w = (size, size) if isinstance(size, int) else size
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, h, w, generator=gen).to(device)
    samples = _detr_samples(batch, h, w, device, with_gt=mode == 'train')
    if mode == 'train':
        loss = lambda: sum(v for k, v in model(x, samples, mode='loss').items() if 'loss' in k)  # noqa: E731
        return _train_step(model, loss)
    if mode != 'infer':
        raise ValueError(f"unknown mode {mode!r}; expected 'infer' or 'train'")
    model.eval()
    return lambda: model(x, samples, mode='predict')

"""SegFormer benchmark models: ours (a config's model), mmseg's SegFormer, HF's
SegformerForSemanticSegmentation, holding the same weights (mmseg's head: its own design), and
ours exported to ONNX and run in ONNX Runtime (inference only)."""

import os.path as osp
import tempfile

import torch

from ..errors import ConfigError
from .config_models import build_from_config
from .timing import train_step

NUM_CLASSES = 150


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


# The plain definitions (what ONNX export traces), as overrides of a shipped config.
PLAIN_OPTIONS = {
    'model.backbone.attn_impl': 'sdpa',
    'model.backbone.ffn_impl': 'plain',
    'model.decode_head.type': 'AllMLPHead',
}


def _ours_segformer(config, hf, plain=False):
    """The model of our SegFormer ``config`` holding the weights of HF model ``hf`` (with
    ``plain``, in its plain definitions)."""
    from ..checkpoint.hf_segformer import segformer_to_pvtv2_dense

    # HF Segformer's LayerNorms use eps 1e-5 throughout.
    options = {'model.backbone.init_cfg': None, 'model.backbone.layer_norm_eps': 1e-5}
    model = build_from_config(config, 'mmseg', dict(options, **(PLAIN_OPTIONS if plain else {})))
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


def _onnxruntime_step(config, hf, size, batch):
    """Ours exported to ONNX (static shape at batch 1, else dynamic) as an ONNX Runtime CPU
    session with torch's thread count; the step runs it on the benchmark's input."""
    import onnxruntime as ort

    from ..deploy.onnx import export_onnx

    model = _ours_segformer(config, hf, plain=True).eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'model.onnx')
        export_onnx(model, path, (size, size), dynamic=batch != 1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    torch.manual_seed(0)  # the input of the other implementations
    x = {'inputs': torch.randn(batch, 3, size, size).numpy()}
    return lambda: session.run(None, x)


def segformer_step(impl, arch, config, mode='infer', size=512, batch=1, device='cpu'):
    """SegFormer-equivalent model ('ours', 'mmseg', 'mmseg-768', 'hf', 'onnxruntime': ours in
    ONNX Runtime, CPU inference) at ``arch`` (b0..b5).

    Args:
        impl (str): the implementation.
        arch (str): the MiT size, b0..b5.
        config (str): our SegFormer config of that size (its model is 'ours'; the others take
            its weights).
        mode (str): 'infer' (a forward pass) or 'train' (forward, loss, backward, AdamW).
        size (int): side of the square input.
        batch (int): images per step.
        device (str): torch device.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    hf = _hf_segformer(arch)
    if impl == 'onnxruntime':
        if mode != 'infer' or str(device) != 'cpu':
            raise ConfigError('onnxruntime is measured for CPU inference only')
        return _onnxruntime_step(config, hf, size, batch)
    model = hf if impl == 'hf' else _ours_segformer(config, hf)
    if impl == 'mmseg':
        model = _mmseg_segformer(arch, model)
    elif impl == 'mmseg-768':
        # mmseg's head at the paper's width for b2-b5 (ours and HF's), not its configs' 256.
        if hf.config.decoder_hidden_size != 768:
            raise ConfigError(f'{arch} uses a 256-wide head: the same model as mmseg')
        model = _mmseg_segformer(arch, model, channels=768)
    elif impl not in ('ours', 'hf'):
        raise ConfigError(f'unknown implementation {impl!r}')
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
        return train_step(model, loss)
    model.eval()
    return forward

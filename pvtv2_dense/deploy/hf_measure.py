"""How far ``transformers.pipeline`` on an exported folder is from our inference, on real photos
the exported image processor cannot reproduce exactly (the figures the export notes quote;
``tools/deployment/measure_hf_processors.py``)."""

import os.path as osp

import numpy as np
import torch

SEG = 'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py'
DEPTH = 'configs/glpn/glpn_pvtv2-b0_4xb3-25e_nyu-448x576.py'


def _export(root, config, work_dir, name):
    """Random-weight model of ``config`` (HF's eps, seed 0), its HF folder, ours, our test
    pipeline."""
    import os

    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope

    from ..apis import build_model, build_test_pipeline
    from .hf import export_hf
    from .plain import build_plain_model

    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, f'{name}.py')
    with open(path, 'w') as f:
        f.write(
            f'_base_ = [{osp.join(root, config)!r}]\n'
            'model = dict(backbone=dict(layer_norm_eps=1e-5, init_cfg=None))\n'
        )
    cfg = Config.fromfile(path)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    ckpt = osp.join(work_dir, f'{name}.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    out = osp.join(work_dir, f'{name}-hf')
    export_hf(build_plain_model(cfg, ckpt, path), out)
    return out, build_model(cfg, ckpt), build_test_pipeline(cfg)


def _photos():
    from PIL import Image
    from skimage import data

    return [('chelsea', data.chelsea()), ('coffee', data.coffee())] + [
        ('coffee x2', np.asarray(Image.fromarray(data.coffee()).resize((1200, 800), 2)))
    ]


def measure_processors(work_dir, root=None):
    """Rows (task, photo HxW, what ours runs at, agreement) for the b0 SegFormer and GLPN."""
    from PIL import Image
    from transformers import pipeline

    from ..apis import predict

    root = root or osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    rows = []
    folder, ours, test_pipeline = _export(root, SEG, work_dir, 'segformer')
    hf = pipeline('image-segmentation', model=folder)
    label2id = hf.model.config.label2id
    for name, img in _photos():
        result = predict(ours, test_pipeline, np.ascontiguousarray(img[..., ::-1]))
        want = result.pred_sem_seg.data[0].numpy()
        got = np.full(want.shape, -1)
        for item in hf(Image.fromarray(img)):
            got[np.asarray(item['mask']) > 0] = label2id[item['label']]
        size = 'x'.join(str(s) for s in result.img_shape)
        rows.append(
            (
                'segmentation',
                f'{name} {img.shape[0]}x{img.shape[1]}',
                size,
                f'{(got == want).mean() * 100:.1f}% of pixels',
            )
        )
    folder, ours, test_pipeline = _export(root, DEPTH, work_dir, 'glpn')
    hf = pipeline('depth-estimation', model=folder)
    for name, img in _photos():
        want = predict(ours, test_pipeline, np.ascontiguousarray(img[..., ::-1]))
        want = want.pred_depth_map.data[0]
        got = hf(Image.fromarray(img))['predicted_depth'].squeeze()
        rel = float(((got - want).abs() / want.abs()).mean())
        rows.append(
            (
                'depth',
                f'{name} {img.shape[0]}x{img.shape[1]}',
                'photo size',
                f'{rel * 100:.1f}% mean relative difference',
            )
        )
    return rows

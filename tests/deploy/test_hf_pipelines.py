"""``transformers.pipeline`` on an exported folder answers what our test pipeline answers on a
real photo: the folder's preprocessor_config.json reproduces resize, crop and ImageNet mean/std."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.apis import build_model, build_test_pipeline, predict
from pvtv2_dense.deploy.hf import export_hf
from pvtv2_dense.deploy.plain import build_plain_model
from tests.helpers.common import ROOT

TINY = dict(
    hidden_sizes=[8, 16, 32, 32],
    depths=[1, 1, 1, 1],
    num_attention_heads=[1, 2, 2, 4],
    layer_norm_eps=1e-5,  # every HF Segformer/GLPN norm has it: trained with it to be exported
)
SEG_BASE = osp.join(ROOT, 'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py')
GLPN_BASE = osp.join(ROOT, 'configs/glpn/glpn_pvtv2-b0_4xb3-25e_nyu-448x576.py')
CLS_BASE = osp.join(ROOT, 'configs/pvtv2_cls/pvtv2-b0_8xb128-300e_in1k.py')
HEAD = f'decode_head=dict(in_channels={TINY["hidden_sizes"]!r}, channels=16)'
CONFIGS = {
    # The ADE20K recipe's keep-ratio Resize, shorter side 128 (small photos keep the test fast).
    'image-segmentation': (
        f'_base_ = [{SEG_BASE!r}]\n'
        f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY!r})), {HEAD})\n'
        'test_dataloader = dict(dataset=dict(pipeline=[\n'
        "    dict(type='LoadImageFromFile'),\n"
        "    dict(type='Resize', scale=(512, 128), keep_ratio=True),\n"
        "    dict(type='LoadAnnotations', reduce_zero_label=True),\n"
        "    dict(type='PackSegInputs')]))\n",
        'mmseg',
    ),
    'depth-estimation': (
        f'_base_ = [{GLPN_BASE!r}]\n'
        f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY!r}), init_cfg=None),'
        f' {HEAD})\n',
        'mmseg',
    ),
    # The ImageNet test pipeline as configured (shorter side 256 bicubic, centre crop 224).
    'image-classification': (
        f'_base_ = [{CLS_BASE!r}]\n'
        'model = dict(num_classes=10, data_preprocessor=dict(mixup=None),\n'
        f'    backbone=dict(arch=dict(_delete_=True, **dict({TINY!r}, layer_norm_eps=1e-6))))\n',
        'mmseg',
    ),
}

# The shipped b0 configs as they are, trained with HF's eps.
B0_CONFIGS = {
    'image-segmentation': f'_base_ = [{SEG_BASE!r}]\n'
    'model = dict(backbone=dict(layer_norm_eps=1e-5))\n',
    'depth-estimation': f'_base_ = [{GLPN_BASE!r}]\n'
    'model = dict(backbone=dict(layer_norm_eps=1e-5, init_cfg=None))\n',
    'image-classification': f'_base_ = [{CLS_BASE!r}]\n'
    'model = dict(backbone=dict(layer_norm_eps=1e-6))\n',
}


def _photo(task):
    """skimage's coffee photo (400x600): 128x192 for the dense tasks, whole for classification."""
    from PIL import Image
    from skimage import data

    photo = Image.fromarray(data.coffee())
    return photo if task == 'image-classification' else photo.resize((192, 128), Image.BILINEAR)


def _export(task, tmp_path, seed=0, text=None):
    text, scope = (text, 'mmseg') if text else CONFIGS[task]
    tmp_path.mkdir(exist_ok=True)
    config = tmp_path / 'model.py'
    config.write_text(text)
    cfg = Config.fromfile(str(config))
    init_default_scope(scope)
    model = MODELS.build(cfg.model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    checkpoint = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    out = tmp_path / 'hf'
    info = export_hf(build_plain_model(cfg, str(checkpoint), str(config)), str(out))
    ours = build_model(cfg, str(checkpoint), config_path=str(config))
    return str(out), info, ours, build_test_pipeline(cfg)


def _run(task, tmp_path, text=None, photo=None):
    from transformers import pipeline

    folder, info, ours, test_pipeline = _export(task, tmp_path, text=text)
    photo = photo or _photo(task)
    bgr = np.ascontiguousarray(np.asarray(photo)[..., ::-1])
    hf = pipeline(task, model=folder)
    return info, hf, hf(photo), predict(ours, test_pipeline, bgr)


def test_segmentation_pipeline_labels_every_pixel_as_ours(tmp_path):
    info, hf, answer, ours = _run('image-segmentation', tmp_path)
    assert info['processor'] == 'MobileNetV2ImageProcessor'
    assert type(hf.image_processor).__name__ == 'MobileNetV2ImageProcessor'
    # One mask per label present: rebuild the label map from them.
    label2id = hf.model.config.label2id
    got = np.full((128, 192), -1)
    for item in answer:
        got[np.asarray(item['mask']) > 0] = label2id[item['label']]
    want = ours.pred_sem_seg.data[0].numpy()
    assert want.shape == got.shape and (got >= 0).all()
    assert len(np.unique(want)) > 1  # random weights still give several labels to compare
    assert (got == want).mean() >= 0.999


def test_depth_pipeline_gives_our_depth(tmp_path):
    info, hf, answer, ours = _run('depth-estimation', tmp_path)
    assert info['processor'] == 'DPTImageProcessor'
    got = answer['predicted_depth'].squeeze()
    want = ours.pred_depth_map.data[0]
    assert got.shape == want.shape == (128, 192)
    assert float(((got - want).abs() / want.abs()).max()) <= 1e-4
    assert float(want.std()) > 1e-3  # a depth map, not a constant


def test_depth_pipeline_with_hf_glpn_processor_is_wrong(tmp_path):
    """Why the export writes its own processor: GLPN's does not normalize."""
    from transformers import GLPNImageProcessor, pipeline

    folder, _, ours, test_pipeline = _export('depth-estimation', tmp_path)
    photo = _photo('depth-estimation')
    hf = pipeline('depth-estimation', model=folder, image_processor=GLPNImageProcessor())
    got = hf(photo)['predicted_depth'].squeeze()
    want = predict(ours, test_pipeline, np.ascontiguousarray(np.asarray(photo)[..., ::-1]))
    want = want.pred_depth_map.data[0]
    assert float(((got - want).abs() / want.abs()).max()) > 1e-2


@pytest.mark.slow  # 13-20 s: export, then a transformers pipeline
def test_depth_pipeline_takes_a_photo_whose_sides_are_not_multiples_of_32(tmp_path):
    """HF's GLPN needs multiples of 32: the exported processor pads (it used to end in a
    transformers traceback, sizes 25 vs 26)."""
    from PIL import Image
    from skimage import data

    photo = Image.fromarray(data.coffee()).resize((150, 100), Image.BILINEAR)
    info, hf, answer, ours = _run('depth-estimation', tmp_path, photo=photo)
    assert any('centre-pads' in note for note in info['processor_notes'])
    got = answer['predicted_depth'].squeeze()
    want = ours.pred_depth_map.data[0]
    assert got.shape == want.shape == (100, 150)
    # Padded by 12 and 10 pixels, and resized back: close to ours, not equal.
    rel = float(((got - want).abs() / want.abs()).mean())
    assert 1e-4 < rel < 0.25


@pytest.mark.slow  # 13-20 s: export, then a transformers pipeline
def test_classifier_labels_come_from_the_config_dataset(tmp_path):
    names = tuple(f'shape{i}' for i in range(10))
    text = CONFIGS['image-classification'][0] + (
        f'test_dataloader = dict(dataset=dict(metainfo=dict(classes={names!r})))\n'
    )
    info, hf, answer, ours = _run('image-classification', tmp_path, text=text)
    assert hf.model.config.id2label == dict(enumerate(names))
    assert answer[0]['label'] == names[int(ours.pred_score.argmax())]


@pytest.mark.slow  # 13-20 s: export, then a transformers pipeline
def test_imagenet_classifier_labels_are_its_class_folders(tmp_path):
    """An ImageNet-1k config: the WordNet ids of its class folders, not LABEL_0..999."""
    wnids = [f'n{i:08d}' for i in range(10)]
    root = tmp_path / 'imagenet'
    for wnid in wnids:
        (root / 'val' / wnid).mkdir(parents=True)
    text = CONFIGS['image-classification'][0] + (
        f'test_dataloader = dict(dataset=dict(data_root={str(root)!r}))\n'
    )
    info, hf, answer, ours = _run('image-classification', tmp_path / 'run', text=text)
    assert [hf.model.config.id2label[i] for i in range(10)] == wnids


def test_classification_pipeline_ranks_as_ours(tmp_path):
    info, hf, answer, ours = _run('image-classification', tmp_path)
    assert info['processor'] == 'MobileNetV2ImageProcessor'
    id2label = hf.model.config.id2label
    want = [id2label[i] for i in ours.pred_score.topk(5).indices.tolist()]
    assert [item['label'] for item in answer] == want
    scores = ours.pred_score.topk(5).values.tolist()
    assert [item['score'] for item in answer] == pytest.approx(scores, rel=1e-4)


@pytest.mark.slow
def test_shipped_b0_configs_through_pipelines(tmp_path):
    """SegFormer-b0 (ADE20K), GLPN-b0 (NYU) and the b0 classifier as shipped, random weights."""
    from PIL import Image
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())  # 512x512: the ADE20K test scale leaves it
    info, hf, answer, ours = _run(
        'image-segmentation', tmp_path / 'seg', B0_CONFIGS['image-segmentation'], astronaut
    )
    label2id = hf.model.config.label2id
    got = np.full((512, 512), -1)
    for item in answer:
        got[np.asarray(item['mask']) > 0] = label2id[item['label']]
    assert (got == ours.pred_sem_seg.data[0].numpy()).mean() >= 0.999
    coffee = Image.fromarray(data.coffee()[8:392, 12:588])  # 384x576: multiples of 32, no padding
    info, hf, answer, ours = _run(
        'depth-estimation', tmp_path / 'depth', B0_CONFIGS['depth-estimation'], coffee
    )
    want = ours.pred_depth_map.data[0]
    got = answer['predicted_depth'].squeeze()
    assert float(((got - want).abs() / want.abs()).max()) <= 1e-4
    info, hf, answer, ours = _run(
        'image-classification', tmp_path / 'cls', B0_CONFIGS['image-classification']
    )
    id2label = hf.model.config.id2label
    want = [id2label[i] for i in ours.pred_score.topk(5).indices.tolist()]
    assert [item['label'] for item in answer] == want

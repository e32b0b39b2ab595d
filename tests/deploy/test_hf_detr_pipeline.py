"""``transformers.pipeline('object-detection')`` on an exported Deformable DETR folder answers what
our test pipeline answers on a real photo: the folder's preprocessor_config.json (a
``DeformableDetrImageProcessor``) reproduces the keep-ratio resize, ImageNet mean/std and
padding, and HF's post-processing picks the same top 100 as mmdet's head."""

import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.apis import build_model, build_test_pipeline, predict
from pvtv2_dense.deploy.hf_detr import export_hf_detr
from pvtv2_dense.deploy.plain import build_plain_model
from tests.helpers.common import ROOT

QUICKSTART = osp.join(
    ROOT, 'configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py'
)
# The photo's size: the keep-ratio Resize(scale=(192, 128)) leaves it as it is.
H, W = 128, 192


def _tiny_detr(path, dims=64):
    """The quickstart refine model, exportable (one LayerNorm eps, GN 32), 1+1 layers, 50
    queries, its test pipeline at scale (192, 128); written to ``path``."""
    cfg = Config.fromfile(QUICKSTART)
    mc = cfg.model
    mc.backbone.layer_norm_eps = 1e-6
    mc.neck.update(out_channels=dims, norm_cfg=dict(type='GN', num_groups=32))
    mc.num_queries = 50
    for part in ('encoder', 'decoder'):
        mc[part].num_layers = 1
        for name, layer in mc[part].layer_cfg.items():
            layer.embed_dims = dims
            if name != 'ffn_cfg':
                layer.num_heads = 2
    mc.positional_encoding.num_feats = dims // 2
    mc.bbox_head.embed_dims = dims
    mc.test_cfg.max_per_img = 100
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (W, H)
    cfg.dump(str(path))
    return Config.fromfile(str(path))


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """(HF folder, export info, our model, our test pipeline), random weights."""
    tmp_path = tmp_path_factory.mktemp('detr')
    seed = 0
    config = tmp_path / 'detr.py'
    cfg = _tiny_detr(config)
    init_default_scope('mmdet')
    model = MODELS.build(copy.deepcopy(cfg.model))  # mmdet's DETR edits its bbox_head dict
    model.init_weights()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    checkpoint = tmp_path / 'detr.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    out = tmp_path / 'hf'
    info = export_hf_detr(build_plain_model(cfg, str(checkpoint), str(config)), str(out))
    ours = build_model(cfg, str(checkpoint), config_path=str(config))
    return str(out), info, ours, build_test_pipeline(cfg)


def _photo():
    """skimage's coffee photo (400x600) resized to 128x192."""
    from PIL import Image
    from skimage import data

    return Image.fromarray(data.coffee()).resize((W, H), Image.BILINEAR)


def test_object_detection_pipeline_gives_our_top_100(exported):
    from transformers import pipeline

    folder, info, ours, test_pipeline = exported
    assert info['processor'] == 'DeformableDetrImageProcessor'
    assert any('unclipped' in n for n in info['processor_notes'])
    hf = pipeline('object-detection', model=folder)
    proc = hf.image_processor
    assert proc.size == {'shortest_edge': H, 'longest_edge': W}
    assert proc.image_mean == pytest.approx([0.485, 0.456, 0.406])
    photo = _photo()
    answer = hf(photo, threshold=0)
    want = predict(ours, test_pipeline, np.ascontiguousarray(np.asarray(photo)[..., ::-1]))
    want = want.pred_instances
    assert len(answer) == len(want.scores) == 100
    id2label = hf.model.config.id2label
    assert [a['label'] for a in answer] == [id2label[i] for i in want.labels.tolist()]
    assert [a['score'] for a in answer] == pytest.approx(want.scores.tolist(), abs=1e-5)
    # The pipeline truncates boxes to whole pixels and leaves them unclipped; mmdet clips.
    got = torch.tensor(
        [[a['box'][k] for k in ('xmin', 'ymin', 'xmax', 'ymax')] for a in answer], dtype=torch.float
    )
    got[:, 0::2] = got[:, 0::2].clamp(0, W)
    got[:, 1::2] = got[:, 1::2].clamp(0, H)
    assert (got - want.bboxes).abs().max() <= 1.0
    # Many distinct boxes (50 queries, up to 3 labels each), not all the whole photo: a
    # comparison that can fail.
    assert len(torch.unique(want.bboxes.round(), dim=0)) >= 30
    # HF's default DETR processor (shorter side 800) enlarges the photo: another answer.
    from transformers import DeformableDetrImageProcessor

    other = pipeline(
        'object-detection', model=folder, image_processor=DeformableDetrImageProcessor()
    )
    boxes = [
        [a['box'][k] for k in ('xmin', 'ymin', 'xmax', 'ymax')] for a in other(photo, threshold=0)
    ]
    assert (torch.tensor(boxes, dtype=torch.float) - want.bboxes).abs().max() > 10


def test_processor_and_post_processing_give_our_boxes_in_float(exported):
    """The processor, the model and ``post_process_object_detection`` without the pipeline's
    rounding: the same boxes in float."""
    from transformers import AutoImageProcessor, DeformableDetrForObjectDetection

    folder, _, ours, test_pipeline = exported
    proc = AutoImageProcessor.from_pretrained(folder)
    model = DeformableDetrForObjectDetection.from_pretrained(folder).eval()
    photo = _photo()
    inputs = proc(images=photo, return_tensors='pt')
    bgr = np.ascontiguousarray(np.asarray(photo)[..., ::-1])
    data = test_pipeline(dict(img=bgr, img_shape=(H, W), ori_shape=(H, W)))
    x = ours.data_preprocessor(dict(inputs=[data['inputs']], data_samples=[]))['inputs']
    assert inputs['pixel_values'].shape == x.shape == (1, 3, H, W)
    assert (inputs['pixel_values'] - x).abs().max() <= 1e-5
    with torch.no_grad():
        out = model(**inputs)
    (result,) = proc.post_process_object_detection(out, threshold=0, target_sizes=[(H, W)])
    want = predict(ours, test_pipeline, bgr).pred_instances
    assert torch.equal(result['labels'], want.labels)
    assert (result['scores'] - want.scores).abs().max() <= 1e-5
    boxes = result['boxes'].clone()
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, W)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, H)
    assert (boxes - want.bboxes).abs().max() <= 1e-3

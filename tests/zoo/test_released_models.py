"""Released models by name: a SegFormer in HF's layout, served by a local mirror, is fetched,
converted once and run by ``init_model(NAME)``, ``tools/infer.py NAME IMAGE`` and
``tools/test.py NAME``; its logits are HF's own; a second run needs no server."""

import json
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from transformers import SegformerConfig, SegformerForSemanticSegmentation

from pvtv2_dense.errors import CheckpointError, ConfigError
from pvtv2_dense.zoo import MIRROR_ENV, cache_dir, init_model, released_model_args
from tests.helpers.tools import load_tool

NAME = 'segformer_mit-b0_ade20k-512x512'
HF_EPS = {'model.backbone.layer_norm_eps': 1e-5}  # HF Segformer's norms, to compare exactly


@pytest.fixture
def served_segformer(mirror):
    """SegFormer-b0 (150 classes) with random weights, as HF's pytorch_model.bin on the mirror."""
    torch.manual_seed(0)
    hf = SegformerForSemanticSegmentation(SegformerConfig(num_labels=150)).eval()
    with torch.no_grad():  # BN statistics too, so that every tensor matters
        hf.decode_head.batch_norm.running_mean.normal_(0, 0.5)
        hf.decode_head.batch_norm.running_var.uniform_(0.5, 2.0)
    (mirror['root'] / NAME).mkdir()
    torch.save(hf.state_dict(), mirror['root'] / NAME / 'pytorch_model.bin')
    return hf, mirror


def _logits(model, x):
    with torch.no_grad():
        return model.decode_head.forward(model.extract_feat(x))


@pytest.mark.slow  # reason: builds HF SegFormer-b0 and ours twice on CPU, ~14 s on a loaded machine
def test_init_model_by_name_computes_hf_logits(served_segformer, monkeypatch):
    hf, mirror = served_segformer
    model = init_model(NAME, device='cpu', cfg_options=HF_EPS)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        expected = hf(pixel_values=x).logits
    torch.testing.assert_close(_logits(model, x), expected, atol=1e-4, rtol=1e-4)
    assert model.cfg.model.decode_head.num_classes == 150
    assert osp.isfile(osp.join(cache_dir(), NAME, f'{NAME}.pvtv2_dense.pth'))
    # Again without server or mirror: the converted cache.
    monkeypatch.delenv(MIRROR_ENV)
    mirror['httpd'].shutdown()
    again = init_model(NAME, device='cpu', cfg_options=HF_EPS)
    torch.testing.assert_close(_logits(again, x), expected, atol=1e-4, rtol=1e-4)


def test_names_that_do_not_run_say_why(zoo_env):
    with pytest.raises(CheckpointError, match='not a released model that runs by name'):
        init_model('segformer_mit-b0_ade20k-512x512_mmseg')
    with pytest.raises(ConfigError, match="did you mean 'segformer_mit-b0_ade20k-512x512'"):
        init_model('segformer_mit-b0_ade20k-512x51')
    # A config path passes through the tools' hook untouched.
    assert released_model_args('a/b.py', 'c.pth', None) == ('a/b.py', 'c.pth', None)


@pytest.mark.slow  # reason: SegFormer-b0 at 2048x512 (its test resize) on CPU, ~15 s
def test_infer_tool_runs_a_released_model_by_name(served_segformer, tmp_path):
    photo = tmp_path / 'photo.jpg'
    mmcv.imwrite(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8), photo)
    out = tmp_path / 'out'
    load_tool('tools/infer.py').main([NAME, str(photo), '--out-dir', str(out), '--save-raw'])
    label = mmcv.imread(out / 'pred' / 'photo.png', flag='unchanged')
    assert label.shape == (48, 64) and label.max() < 150


@pytest.mark.slow  # reason: SegFormer-b0 on 4 images resized to 2048x512 on CPU (~20 s)
def test_test_tool_evaluates_a_released_model_by_name(served_segformer, ade_root, tmp_path):
    work = tmp_path / 'work'
    load_tool('tools/test.py').main(
        [
            NAME,
            '--work-dir',
            str(work),
            '--cfg-options',
            f'test_dataloader.dataset.data_root={ade_root}',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False',
        ]
    )
    metrics = json.loads((work / 'test_metrics.json').read_text())
    assert 'mIoU' in metrics


def test_detector_backbone_in_any_layout_is_converted_and_heads_kept():
    from pvtv2_dense.checkpoint import to_official
    from pvtv2_dense.models.backbones import PVTv2
    from pvtv2_dense.zoo.models import convert
    from tests.helpers.common import TINY_ARCH

    ours = PVTv2(arch=TINY_ARCH).state_dict()
    official = {f'module.backbone.{k}': v for k, v in to_official(ours).items()}
    heads = {
        'neck.fpn_convs.0.conv.weight': torch.ones(2),
        'bbox_head.retina_cls.bias': torch.ones(3),
    }
    out = convert('detector', {**official, **{f'module.{k}': v for k, v in heads.items()}})
    assert set(out) == {f'backbone.{k}' for k in ours} | set(heads)
    for key, value in ours.items():
        torch.testing.assert_close(out[f'backbone.{key}'], value)
    with pytest.raises(CheckpointError, match='no backbone'):
        convert('detector', heads)

"""The all-MLP decode head: shapes, design details, and its batch norm in one process / on CPU."""

import warnings

import pytest
import torch
import torch.distributed as dist
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from pvtv2_dense.models import AllMLPHead, LocalSyncBatchNorm
from pvtv2_dense.models.layers import sync_bn

WIDTHS = [8, 16, 32, 32]


def _head(**kwargs):
    cfg = dict(in_channels=WIDTHS, channels=12, num_classes=5, dropout_ratio=0.1)
    cfg.update(kwargs)
    return AllMLPHead(**cfg)


def _feats(batch=2, size=(16, 24)):
    h, w = size
    return [torch.randn(batch, c, -(-h // s), -(-w // s)) for c, s in zip(WIDTHS, (1, 2, 4, 8))]


def test_registered_next_to_mmseg_segformer_head():
    init_default_scope('mmseg')
    ours = MODELS.build(dict(type='AllMLPHead', in_channels=WIDTHS, channels=12, num_classes=5))
    theirs = MODELS.build(
        dict(
            type='SegformerHead',
            in_channels=WIDTHS,
            in_index=[0, 1, 2, 3],
            channels=12,
            num_classes=5,
            norm_cfg=dict(type='BN'),
        )
    )
    assert isinstance(ours, AllMLPHead) and type(theirs).__name__ == 'SegformerHead'


def test_output_at_first_level_resolution():
    head = _head().eval()
    feats = _feats(size=(17, 23))
    out = head(feats)
    assert out.shape == (2, 5, 17, 23)


def test_official_design():
    head = _head()
    # One plain Linear per level (no norm, no activation) to E channels.
    for embed, c in zip(head.linear_c, WIDTHS):
        assert [type(m) for m in embed.modules()][1:] == [nn.Linear]
        assert embed.proj.in_features == c and embed.proj.out_features == 12
    # 1x1 fuse conv without bias (BN follows), BN, ReLU; then dropout and a 1x1 classifier.
    assert head.linear_fuse.conv.kernel_size == (1, 1) and head.linear_fuse.conv.bias is None
    assert head.linear_fuse.conv.in_channels == 4 * 12
    assert isinstance(head.linear_fuse.bn, _BatchNorm)
    assert isinstance(head.linear_fuse.activate, nn.ReLU)
    assert head.dropout.p == 0.1
    assert head.conv_seg.kernel_size == (1, 1) and head.conv_seg.out_channels == 5


def test_levels_are_concatenated_deepest_first():
    """Zeroing the fuse weights of one input slot silences exactly one level: the last slot is
    the first (finest) level, as in the official and HF heads."""
    head = _head(dropout_ratio=0.0).eval()
    feats = _feats()
    with torch.no_grad():
        head.linear_fuse.conv.weight[:, 36:48] = 0  # last slot of 4 x 12 channels
        base = head(feats)
        feats[0] = torch.randn_like(feats[0])
        assert torch.equal(head(feats), base)
        feats[3] = torch.randn_like(feats[3])
        assert not torch.equal(head(feats), base)


def test_internal_upsampling_ignores_align_corners():
    """Levels are upsampled with align_corners=False whatever the head's option."""
    a, b = _head(align_corners=False).eval(), _head(align_corners=True).eval()
    b.load_state_dict(a.state_dict())
    feats = _feats()
    torch.testing.assert_close(a(feats), b(feats), rtol=0, atol=0)


def test_bad_in_channels():
    with pytest.raises(ValueError, match='one width per'):
        AllMLPHead(in_channels=[8, 16], channels=4, num_classes=2, in_index=[0, 1, 2])


def test_syncbn_config_trains_on_cpu_in_one_process():
    head = _head()
    assert isinstance(head.linear_fuse.bn, LocalSyncBatchNorm)
    head.train()
    before = head.linear_fuse.bn.running_mean.clone()
    out = head(_feats())
    out.mean().backward()
    assert not torch.equal(before, head.linear_fuse.bn.running_mean)
    assert head.linear_fuse.conv.weight.grad is not None


@pytest.fixture
def one_process_group(tmp_path):
    """A real gloo process group of one process (what a 1-GPU `--launcher pytorch` run has)."""
    if dist.is_initialized():
        pytest.skip('a process group already exists')
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/pg', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_syncbn_with_a_one_process_group_on_cpu(one_process_group):
    x = torch.randn(4, 6, 5, 5)
    torch_bn = nn.SyncBatchNorm(6).train()
    with pytest.raises(ValueError, match='GPU'):
        torch_bn(x)  # what the official code hits
    ours = LocalSyncBatchNorm(6).train()
    ref = nn.BatchNorm2d(6).train()
    torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.running_var, ref.running_var)


def test_sync_decision(monkeypatch):
    x_cpu = torch.zeros(2, 3, 4, 4)
    assert not sync_bn.should_sync(x_cpu, training=True)  # no process group
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(dist, 'get_world_size', lambda *a: 2)
    assert not sync_bn.should_sync(x_cpu, training=False)  # eval: running stats
    with pytest.warns(UserWarning, match='per-process statistics'):
        assert not sync_bn.should_sync(x_cpu, training=True)
    x_gpu = torch.zeros(2, 3, 4, 4, device='meta')  # any non-CPU device
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert sync_bn.should_sync(x_gpu, training=True)
    monkeypatch.setattr(dist, 'get_world_size', lambda *a: 1)
    assert not sync_bn.should_sync(x_gpu, training=True)


def test_runner_style_revert_keeps_weights():
    from mmengine.model import revert_sync_batchnorm

    head = _head()
    with torch.no_grad():
        head.linear_fuse.bn.weight.fill_(2.0)
    reverted = revert_sync_batchnorm(head)
    assert not isinstance(reverted.linear_fuse.bn, nn.SyncBatchNorm)
    assert torch.all(reverted.linear_fuse.bn.weight == 2.0)

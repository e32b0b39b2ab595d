"""An edit to a plain layer reaches the shipped models, or their build refuses it.

The speed-ups subclass the plain layers and replace only the seams the plain forwards call, so a
change to a plain ``forward`` (``MixFFN``, ``PVTv2Block``, ``SpatialReductionAttention``) or to
the block's FFN-residual seam changes what a shipped SegFormer config computes, in CPU inference
(where the fast routes run) and in training, exactly as it changes the plain implementations.
The folded head cannot follow an edit of the plain head's ``fuse``, ``LinearEmbed`` or
``decode``: building it refuses with one line naming the plain head and how to run it.
"""

import copy
import os.path as osp
from functools import partial

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

import pvtv2_dense  # noqa: F401  (registers the models)
from pvtv2_dense.errors import ConfigError
from pvtv2_dense.models import AllMLPHead, FoldedAllMLPHead, LinearEmbed, implementations
from pvtv2_dense.models.backbones import fast
from pvtv2_dense.models.backbones.fast import block, mix_ffn
from pvtv2_dense.models.backbones.pvt_v2_layers import (
    MixFFN,
    PVTv2Block,
    SpatialReductionAttention,
)
from tests.helpers.common import ROOT

SHIPPED = osp.join(ROOT, 'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py')


def _build(**changes):
    cfg = Config.fromfile(SHIPPED)
    cfg.model.backbone.init_cfg = None  # no pretrained weights here
    cfg.merge_from_dict(changes)
    init_default_scope('mmseg')
    with DefaultScope.overwrite_default_scope('mmseg'):
        from mmengine.registry import MODELS

        return MODELS.build(cfg.model)


PLAIN = {
    'model.backbone.attn_impl': 'sdpa',
    'model.backbone.ffn_impl': 'plain',
    'model.decode_head.type': 'AllMLPHead',
}


def _outputs(model, x):
    """Logits in eval mode without autograd (CPU inference) and in training; the model's state
    (batch-norm statistics) is restored afterwards."""
    state = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        infer = model.eval()(x, mode='tensor')
    torch.manual_seed(0)  # the same drop-path and dropout draws in every run
    train = model.train()(x, mode='tensor')
    model.load_state_dict(state)
    return infer, train.detach()


@pytest.fixture
def fast_routes(monkeypatch):
    """Thresholds that make a 64 x 64 input take the bands and the 1x1-convolution linears;
    counts the bands and convolutions that ran."""
    monkeypatch.setattr(block, 'BAND_MIN_ELEMENTS', 0)
    monkeypatch.setattr(block, 'BAND_ELEMENTS', 2**14)
    monkeypatch.setattr(mix_ffn, 'CONV_LINEAR_MIN_PIXELS', 16)
    calls = {'bands': 0, 'conv_linear': 0}
    runs_in_bands, conv2d = block.FastPVTv2Block.runs_in_bands, mix_ffn.F.conv2d

    def counted_bands(self, x):
        ran = runs_in_bands(self, x)
        calls['bands'] += ran
        return ran

    def counted_conv(*args, **kwargs):
        calls['conv_linear'] += 1
        return conv2d(*args, **kwargs)

    monkeypatch.setattr(block.FastPVTv2Block, 'runs_in_bands', counted_bands)
    monkeypatch.setattr(mix_ffn.F, 'conv2d', counted_conv)
    return calls


def _plus_one(orig):
    def edited(self, *args, **kwargs):
        out = orig(self, *args, **kwargs)
        return (out[0] + 1.0, *out[1:]) if isinstance(out, tuple) else out + 1.0

    return edited


@pytest.mark.parametrize(
    'cls, name',
    [
        (MixFFN, 'forward'),
        (PVTv2Block, 'ffn_residual'),
        (PVTv2Block, 'forward'),
        (SpatialReductionAttention, 'forward'),
        (SpatialReductionAttention, 'reduce'),
    ],
    ids=[
        'MixFFN.forward',
        'PVTv2Block.ffn_residual',
        'PVTv2Block.forward',
        'SRA.forward',
        'SRA.reduce',
    ],
)
def test_an_edit_of_a_plain_layer_reaches_the_shipped_model(monkeypatch, fast_routes, cls, name):
    torch.manual_seed(0)
    model = _build()
    plain = _build(**PLAIN)
    plain.load_state_dict(model.state_dict())
    x = torch.randn(1, 3, 64, 64)
    before = _outputs(model, x)
    monkeypatch.setattr(cls, name, _plus_one(getattr(cls, name)))
    fast_routes.update(bands=0, conv_linear=0)
    after = _outputs(model, x)
    assert fast_routes['bands'] > 0 and fast_routes['conv_linear'] > 0  # the fast routes ran
    expected = _outputs(plain, x)
    for mode, a, b, ref in zip(('eval on CPU', 'training'), before, after, expected):
        assert not torch.allclose(a, b), f'{cls.__name__}.{name} edit ignored in {mode}'
        torch.testing.assert_close(b, ref, rtol=1e-4, atol=1e-4, msg=mode)


@pytest.mark.parametrize(
    'cls, name',
    [(AllMLPHead, 'fuse'), (LinearEmbed, 'forward'), (AllMLPHead, 'decode')],
    ids=['AllMLPHead.fuse', 'LinearEmbed.forward', 'AllMLPHead.decode'],
)
def test_an_edit_of_the_plain_head_is_refused_by_the_folded_one(monkeypatch, cls, name):
    monkeypatch.setattr(cls, name, _plus_one(getattr(cls, name)))
    with pytest.raises(ConfigError) as info:
        _build()
    message = str(info.value)
    assert '\n' not in message
    assert 'FoldedAllMLPHead cannot fold' in message and "type='AllMLPHead'" in message
    # What the message says to run honours the edit.
    torch.manual_seed(0)
    plain = _build(**PLAIN)
    x = torch.randn(1, 3, 64, 64)
    edited = _outputs(plain, x)
    monkeypatch.undo()
    for a, b in zip(edited, _outputs(plain, x)):
        assert not torch.allclose(a, b)


def test_an_ffn_edit_that_bands_cannot_follow_is_refused(monkeypatch):
    """An FFN that reads the whole map (here: plus its mean over all tokens) cannot run a band
    of rows at a time: building a config with ffn_impl='auto' refuses it; 'plain' builds."""
    forward = MixFFN.forward

    def global_mean(self, x, hw):
        y = forward(self, x, hw)
        return y + y.mean(1, keepdim=True)

    monkeypatch.setattr(MixFFN, 'forward', global_mean)
    with pytest.raises(ConfigError, match="ffn_impl='auto' runs PVTv2Block.ffn_residual") as info:
        _build()
    assert '\n' not in str(info.value) and "use ffn_impl='plain'" in str(info.value)
    _build(**{'model.backbone.ffn_impl': 'plain'})


def test_the_shipped_head_and_backbone_build_unedited():
    model = _build()
    assert type(model.decode_head) is FoldedAllMLPHead
    assert type(model.backbone.layers[0].blocks[0]) is fast.FastPVTv2Block


# mmcv's MultiScaleDeformableAttention.forward calls its sampling kernel inline (no method to
# override), so the lean kernel's module restates the forward around it; its registry self-check
# compares outputs and gradients with mmcv's module.
WIDE_OVERRIDES = {'LeanMultiScaleDeformableAttention'}


@pytest.mark.parametrize(
    'cls',
    sorted(
        {
            b.func if isinstance(b, partial) else b
            for e in implementations.speed_ups()
            for b in (e.build if isinstance(e.build, tuple) else (e.build,))
        },
        key=lambda c: c.__name__,
    ),
    ids=lambda c: c.__name__,
)
def test_speed_ups_define_no_forward(cls):
    """Every published module has one forward, the plain one; the speed-ups of the registry
    replace seams. The one exception is named with its reason (docs/extending.md)."""
    if cls.__name__ in WIDE_OVERRIDES:
        assert 'forward' in vars(cls), f'{cls.__name__} no longer needs its exception'
        return
    if 'forward' not in vars(cls):
        plain_forwards = [c for c in cls.__mro__[1:] if 'forward' in vars(c)]
        assert plain_forwards[0].__module__.startswith(('pvtv2_dense.models', 'mmseg.models'))
        return
    pytest.fail(f'{cls.__name__} defines a forward')

"""The mmengine (and torch) behaviours the tools' one-line messages rely on, one test each.

``pvtv2_dense.cli.build_errors.build_site`` reads the locals of mmengine's build functions, and
``cli_entry`` takes an exception's own message as the user's; if an mmengine or torch upgrade
changes any of this, one of these tests names what changed.
"""

import pytest
import torch
from mmengine.registry import MODELS, PARAM_SCHEDULERS, init_default_scope
from torch.utils.data import DataLoader, Dataset

from pvtv2_dense.cli import input_error_message
from pvtv2_dense.cli.build_errors import build_site
from pvtv2_dense.engine import GLPDepthLR
from pvtv2_dense.errors import ConfigError, DataError
from pvtv2_dense.models import AllMLPHead

HEAD = dict(type='AllMLPHead', in_channels=[8, 16, 32, 32], channels=16, num_classes=3)


def _optimizer():
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def _raised(build, cfg, **kwargs):
    with pytest.raises(Exception) as info:
        build(cfg, **kwargs)
    return info.value


def test_build_from_cfg_holds_the_scope_registry_when_a_type_is_unknown():
    init_default_scope('mmseg')
    err = _raised(MODELS.build, dict(type='AllMLPHaed'))
    assert isinstance(err, KeyError)
    assert str(err.args[0]).startswith('AllMLPHaed is not in the mmseg::model registry.')
    site = build_site(err)
    assert (site.registry.scope, site.registry.name, site.cls) == ('mmseg', 'model', None)
    assert input_error_message(err) == (
        "config: type='AllMLPHaed' is not a registered model (did you mean 'AllMLPHead'?); "
        'check the spelling, or the custom_imports that register it'
    )


def test_build_from_cfg_holds_the_class_it_calls():
    init_default_scope('mmseg')
    err = _raised(MODELS.build, dict(HEAD, channel=16))
    assert isinstance(err, TypeError)
    assert build_site(err).cls is AllMLPHead
    # The same text outside a build is a bug, not the config's.
    assert input_error_message(TypeError(str(err))) is None


def test_build_scheduler_from_cfg_converts_without_build_from_cfg():
    """``convert_to_iter_based`` calls ``build_iter_from_epoch`` itself; its locals are
    ``registry`` and ``scheduler_cls``, and its KeyError names no scope."""
    init_default_scope('mmseg')
    args = dict(default_args=dict(optimizer=_optimizer(), epoch_length=5))
    err = _raised(
        PARAM_SCHEDULERS.build,
        dict(type='GLPDepthLR', power=-1, end=4, convert_to_iter_based=True),
        **args,
    )
    assert isinstance(err, TypeError) and build_site(err).cls is GLPDepthLR
    assert input_error_message(err) == (
        "config: GLPDepthLR needs option(s) 'eta_min', which the config lacks"
    )
    err = _raised(
        PARAM_SCHEDULERS.build, dict(type='GLPDepthLRR', convert_to_iter_based=True), **args
    )
    assert str(err.args[0]).startswith('GLPDepthLRR is not in the parameter scheduler registry.')
    assert "is not a registered parameter scheduler (did you mean 'GLPDepthLR'?)" in (
        input_error_message(err)
    )


def test_a_scheduler_option_error_keeps_its_message():
    init_default_scope('mmseg')
    err = _raised(
        PARAM_SCHEDULERS.build,
        dict(type='GLPDepthLR', eta_min=0, power=-1, end=4),
        default_args=dict(optimizer=_optimizer()),
    )
    assert type(err) is ConfigError
    assert input_error_message(err) == 'GLPDepthLR: power must be a finite number > 0, got -1'


def test_nested_builds_pass_the_error_through_unchanged():
    """No wrapping, prefix or chaining: the backbone's own message reaches the tool."""
    init_default_scope('mmseg')
    cfg = dict(type='EncoderDecoder', backbone=dict(type='PVTv2', arch='b9'), decode_head=HEAD)
    err = _raised(MODELS.build, cfg)
    assert type(err) is ConfigError and err.__cause__ is None
    assert str(err).startswith("PVTv2: unknown arch 'b9'")
    assert input_error_message(err) == str(err)


class _BrokenSet(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        raise DataError(f'annotation a{i}.png is 32x32 (HxW)')


def test_a_worker_error_keeps_its_class_and_message():
    """torch's DataLoader re-raises a worker's error as its class, with the worker's traceback
    in the text; the tool reports the original message."""
    loader = DataLoader(_BrokenSet(), num_workers=1)
    with pytest.raises(DataError) as info:
        next(iter(loader))
    assert str(info.value).startswith('Caught DataError in DataLoader worker process 0.')
    assert input_error_message(info.value) == 'annotation a0.png is 32x32 (HxW)'

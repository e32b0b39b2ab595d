"""The implementation registry (``pvtv2_dense/models/implementations.py``), every entry tested
from it: each speed-up names a registered plain twin, passes its self-check, replaces only the
seams its twin declares, and disappears from a config made plain for export. A new entry is
tested here without a new test."""

import inspect
from functools import partial

import pytest
import torch
from mmseg.registry import MODELS

import pvtv2_dense  # noqa: F401  (registers every implementation)
from pvtv2_dense.errors import ConfigError
from pvtv2_dense.models import implementations
from pvtv2_dense.models.implementations import COMPONENTS, REGISTRY, check_same, plain_config

SPEED_UPS = implementations.speed_ups()
IDS = [f'{e.component}:{e.name}' for e in SPEED_UPS]


def _classes(entry):
    """The classes an entry builds (an 'ffn' entry builds a block and its FFN)."""
    if entry.build is None:  # a plain twin from mmseg / mmdet, built by its type
        return (MODELS.get(entry.name),)
    builds = entry.build if isinstance(entry.build, tuple) else (entry.build,)
    return tuple(b.func if isinstance(b, partial) else b for b in builds)


def test_every_component_has_a_plain_entry_and_speed_ups_are_registered():
    assert {e.component for e in SPEED_UPS} == set(COMPONENTS)
    for component, entries in REGISTRY.items():
        assert any(not e.is_fast for e in entries.values()), component


@pytest.mark.parametrize('entry', SPEED_UPS, ids=IDS)
def test_speed_up_names_a_registered_plain_twin(entry):
    twin = REGISTRY[entry.component].get(entry.plain)
    assert twin is not None and not twin.is_fast, entry.plain


@pytest.mark.parametrize('entry', SPEED_UPS, ids=IDS)
def test_speed_up_passes_its_self_check(entry):
    entry.check()


@pytest.mark.parametrize('entry', SPEED_UPS, ids=IDS)
def test_speed_up_replaces_only_its_twins_seams(entry):
    """Kernel-narrow: a fast class overrides no method of its plain twin's but the seams the
    twin lists in ``SEAMS`` (and ``__init__``)."""
    twin = REGISTRY[entry.component][entry.plain]
    for fast, plain in zip(_classes(entry), _classes(twin)):
        if fast is plain:
            continue
        assert issubclass(fast, plain), (fast, plain)
        seams = set(getattr(plain, 'SEAMS', ()))
        overridden = {
            name
            for name, value in vars(fast).items()
            if inspect.isfunction(value) and name != '__init__' and hasattr(plain, name)
        }
        assert overridden <= seams, f'{fast.__name__} overrides {sorted(overridden - seams)}'


def test_a_check_fails_on_a_speed_up_that_differs():
    plain = torch.nn.Linear(3, 2)

    class Off(torch.nn.Linear):
        def forward(self, x):
            return super().forward(x) * (1 + 1e-6)

    with pytest.raises(AssertionError, match='Off'):
        check_same(plain, Off(3, 2), [torch.randn(4, 3)])


def test_registering_a_speed_up_without_a_check_or_twice_is_refused(monkeypatch):
    monkeypatch.setitem(REGISTRY, 'attention', dict(REGISTRY['attention']))
    with pytest.raises(ConfigError, match='names no self-check'):
        implementations.register('attention', 'toy', object, plain='sdpa')
    with pytest.raises(ConfigError, match='registered already'):
        implementations.register('attention', 'sdpa', object)


def test_an_unknown_name_is_one_line_with_the_key_and_a_hint():
    with pytest.raises(ConfigError, match=r"attn_impl='fewkey' \(did you mean 'few_key'\?\)"):
        implementations.get('attention', 'fewkey')


def test_plain_config_replaces_every_speed_up_and_nothing_else():
    fast = {c: next(e.name for e in SPEED_UPS if e.component == c) for c in COMPONENTS}
    cfg = dict(
        type='EncoderDecoder',
        backbone=dict(type='PVTv2', attn_impl=fast['attention'], ffn_impl=fast['ffn']),
        decode_head=dict(
            type=fast['decode_head'],
            loss_decode=[dict(type=fast['loss']), dict(type='LovaszLoss')],
        ),
        panoptic_head=dict(thing_mask_decoder=dict(mask_impl=fast['mask_attention'])),
    )
    plain = plain_config(cfg)
    names = {e.name for e in SPEED_UPS}

    def values(d):
        if isinstance(d, dict):
            for v in d.values():
                yield from values(v)
        elif isinstance(d, list):
            for v in d:
                yield from values(v)
        else:
            yield d

    assert not names & set(values(plain))
    assert plain['backbone'] == dict(type='PVTv2', attn_impl='sdpa', ffn_impl='plain')
    assert plain['decode_head']['loss_decode'][1] == dict(type='LovaszLoss')
    assert plain['panoptic_head']['thing_mask_decoder']['mask_impl'] == 'plain'

"""The typed PVTv2 architecture (``pvtv2_dense/arch``): frozen, validated in one place with one
line naming the config key, HF names only in and out, and the backbone built from it."""

import dataclasses

import pytest
import torch

from pvtv2_dense.arch import ARCH_SETTINGS, PVTv2Spec, resolve_arch
from pvtv2_dense.errors import ConfigError
from pvtv2_dense.models import PVTv2


@pytest.mark.parametrize(
    'options, message',
    [
        (dict(drop_path_rate=2), r'drop_path_rate=2; expected a number in \[0, 1\)'),
        (dict(drop_path_rate=-0.5), 'drop_path_rate=-0.5'),
        (dict(hidden_dropout_prob=1.0), 'hidden_dropout_prob=1.0'),
        (dict(depths=[2, 0, 2, 2]), r'depths\[1\]=0; expected an integer >= 1'),
        (dict(sr_ratios=[8, 4, 2, 0]), r'sr_ratios\[3\]=0'),
        (dict(mlp_ratios=[8, 8, 4, -4]), r'mlp_ratios\[3\]=-4'),
        (dict(num_attention_heads=[1, 2, 5, 7]), r'hidden_sizes\[3\]=256 is not a multiple'),
        (dict(layer_norm_eps=0), 'layer_norm_eps=0; expected None or a number > 0'),
        (dict(num_channels=0), 'num_channels=0'),
        (dict(linear_attention='yes'), "linear_attention='yes'; expected True or False"),
        (dict(depths=[1, 1, 1]), 'depths has 3 entries'),
        (dict(depths=2), 'depths=2; expected a list'),
        (dict(hidden_act='swishy'), "hidden_act='swishy'"),
    ],
)
def test_values_outside_their_domain_are_one_line_naming_the_key(options, message):
    with pytest.raises(ConfigError, match=message) as info:
        PVTv2Spec.from_options('b0', **options)
    assert '\n' not in str(info.value)


def test_spec_is_frozen_and_checked_when_replaced():
    spec = PVTv2Spec.from_options('b2', drop_path_rate=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.depths = (1, 1, 1, 1)
    with pytest.raises(ConfigError, match='drop_path_rate=1.5'):
        spec.replace(drop_path_rate=1.5)


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_hf_options_round_trip(arch):
    opts = resolve_arch(arch)
    assert PVTv2Spec.from_options(opts).to_hf() == opts
    assert opts['num_encoder_blocks'] == len(opts['depths'])


def test_stages_carry_the_drop_path_ramp_and_the_eps_convention():
    spec = PVTv2Spec.from_options('b0', drop_path_rate=0.3)
    stages = spec.stages()
    rates = [r for s in stages for r in s.drop_path_rates]
    assert len(rates) == sum(spec.depths) and rates[0] == 0 and rates[-1] == pytest.approx(0.3)
    assert [s.in_channels for s in stages] == [3, 32, 64, 160]
    assert (stages[0].eps('patch_embed'), stages[0].eps('block')) == (1e-5, 1e-6)
    assert PVTv2Spec.from_options('b0', layer_norm_eps=1e-3).stages()[0].eps('block') == 1e-3


def test_backbone_is_built_from_the_spec_and_reports_hf_options():
    with torch.device('meta'):
        model = PVTv2('b0', drop_path_rate=0.2)
    assert model.spec == PVTv2Spec.from_options('b0', drop_path_rate=0.2)
    assert model.arch == resolve_arch('b0', drop_path_rate=0.2)
    block = model.layers[3].blocks[-1]
    assert block.drop_path.drop_prob == pytest.approx(0.2)
    assert block.norm1.eps == 1e-6 and model.layers[0].patch_embed.norm.eps == 1e-5

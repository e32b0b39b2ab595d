"""RepeatAugSampler: the index sequence of DeiT's repeated-augmentation sampler, rank by rank."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.registry import DATA_SAMPLERS, init_default_scope

from pvtv2_dense.datasets.samplers import RepeatAugSampler, repeat_aug
from pvtv2_dense.errors import ConfigError
from tests.helpers.common import ROOT

SIZE = 600  # 512 after DeiT's rounding to multiples of 256


def _ranks(monkeypatch, world, size=SIZE, epoch=0, seed=7, **kwargs):
    """The index list every rank of a ``world``-process run gets in ``epoch``."""
    out = []
    for rank in range(world):
        monkeypatch.setattr(repeat_aug, 'get_dist_info', lambda r=rank: (r, world))
        sampler = RepeatAugSampler(list(range(size)), seed=seed, **kwargs)
        sampler.set_epoch(epoch)
        out.append(list(sampler))
        assert len(sampler) == len(out[-1])
    return out


def _interleave(per_rank):
    """The global sequence the ranks' lists are strided slices of."""
    return [lst[k] for k in range(len(per_rank[0])) for lst in per_rank]


def _permutation(seed, epoch, size=SIZE):
    generator = torch.Generator()
    generator.manual_seed(seed + epoch)
    return torch.randperm(size, generator=generator).tolist()


def test_each_index_three_times_in_a_row_across_ranks(monkeypatch):
    per_rank = _ranks(monkeypatch, world=4)
    assert [len(lst) for lst in per_rank] == [SIZE // 256 * 256 // 4] * 4  # 128 each
    merged = _interleave(per_rank)
    runs = [merged[i : i + 3] for i in range(0, len(merged) - len(merged) % 3, 3)]
    assert all(len(set(run)) == 1 for run in runs), 'copies of an index are not consecutive'
    firsts = [run[0] for run in runs]
    assert len(set(firsts)) == len(firsts), 'an image came back in a later run'
    # The global order is the epoch's permutation with every index written three times.
    expected = [i for i in _permutation(7, 0) for _ in range(3)]
    assert merged == expected[: len(merged)]


def test_rank_shards_are_disjoint_positions(monkeypatch):
    per_rank = _ranks(monkeypatch, world=4)
    # Three consecutive positions fall on three different ranks: no image twice on one rank.
    assert all(len(set(lst)) == len(lst) for lst in per_rank)
    # Each copy of an image is on a different rank.
    owners = {}
    for rank, lst in enumerate(per_rank):
        for index in lst:
            owners.setdefault(index, []).append(rank)
    assert all(len(set(r)) == len(r) for r in owners.values())
    assert sum(len(lst) for lst in per_rank) == sum(len(r) for r in owners.values())


def test_the_epoch_seeds_the_permutation_the_same_on_every_rank(monkeypatch):
    epoch0 = _ranks(monkeypatch, world=2)
    assert _ranks(monkeypatch, world=2) == epoch0  # same seed and epoch: same lists
    epoch1 = _ranks(monkeypatch, world=2, epoch=1)
    assert epoch1 != epoch0
    assert _interleave(epoch1) == [i for i in _permutation(7, 1) for _ in range(3)][:512]
    assert _ranks(monkeypatch, world=2, seed=8) != epoch0


def test_ranks_take_strided_positions_and_no_shuffle_keeps_the_order(monkeypatch):
    # 257 images x 3 copies on 2 ranks: rank r takes positions r, r + 2, ...; 128 kept per rank.
    per_rank = _ranks(monkeypatch, world=2, size=257, shuffle=False)
    assert per_rank[0][:4] == [0, 0, 1, 2] and per_rank[1][:4] == [0, 1, 1, 2]
    assert [len(lst) for lst in per_rank] == [128, 128]


def test_one_process_shuffles_every_index_once_as_the_default_sampler(monkeypatch):
    monkeypatch.setattr(repeat_aug, 'get_dist_info', lambda: (0, 1))
    ours = RepeatAugSampler(list(range(50)), seed=3)
    default = DefaultSampler(list(range(50)), shuffle=True, seed=3)
    for epoch in (0, 1):
        ours.set_epoch(epoch)
        default.set_epoch(epoch)
        assert list(ours) == list(default)
    assert sorted(ours) == list(range(50)) and len(ours) == 50


def test_bad_settings_raise_config_errors(monkeypatch):
    with pytest.raises(ConfigError, match='num_repeats'):
        RepeatAugSampler(list(range(10)), num_repeats=0, seed=0)
    monkeypatch.setattr(repeat_aug, 'get_dist_info', lambda: (0, 8))
    with pytest.raises(ConfigError, match='255 samples gives no sample per rank.*DefaultSampler'):
        RepeatAugSampler(list(range(255)), seed=0)


def test_the_imagenet_recipe_builds_it():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pvtv2_cls/pvtv2-b2_8xb128-300e_in1k.py'))
    init_default_scope(cfg.default_scope)
    sampler = DATA_SAMPLERS.build(cfg.train_dataloader.sampler, default_args=dict(dataset=[0] * 4))
    assert isinstance(sampler, RepeatAugSampler) and sampler.num_repeats == 3 and sampler.shuffle

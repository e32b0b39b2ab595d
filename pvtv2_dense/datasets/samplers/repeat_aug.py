"""Repeated augmentation (Hoffer et al., 2020; Berman et al., 2019) as the official PVTv2 ImageNet
recipe runs it: whai362/PVT's classification/main.py turns it on by default (``--repeated-aug``)
for distributed training, with DeiT's sampler.

Each epoch draws one permutation of the dataset (seeded by ``seed + epoch``, the same on every
rank), writes every index ``num_repeats`` times in a row, pads the list to a multiple of the world
size, and gives rank ``r`` the positions ``r, r + world, r + 2 * world, ...``: the consecutive
copies of an image land on different ranks, where each gets its own random augmentation. A rank
then keeps only its first ``len(dataset) // 256 * 256 // world`` indices, so an epoch still shows
about ``len(dataset)`` samples in all (about a third of the images, each three times).

In one process the official code takes a plain random sampler instead (repeats on one device only
lengthen the epoch): this sampler then shuffles every index once, in the same order as mmengine's
``DefaultSampler`` with the same seed.
"""

import math

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from ...errors import ConfigError

# DeiT rounds the images an epoch shows down to a multiple of this (its batches of 256).
EPOCH_MULTIPLE = 256


@DATA_SAMPLERS.register_module()
class RepeatAugSampler(Sampler):
    """Distributed sampler with repeated augmentation (DeiT's ``RASampler``).

    Args:
        dataset (Sized): the dataset to sample from.
        shuffle (bool): draw a new permutation every epoch; False keeps the dataset order.
            Defaults to True.
        num_repeats (int): copies of each index, spread over consecutive ranks. Defaults to 3.
        seed (int, optional): base of the per-epoch seed, the same on every rank; None draws one
            on rank 0 and shares it. Defaults to None.

    Raises:
        ConfigError: ``num_repeats`` is below 1, or in a distributed run the dataset is too small
            for one sample per rank after the rounding to multiples of 256.
    """

    def __init__(self, dataset, shuffle=True, num_repeats=3, seed=None):
        if not isinstance(num_repeats, int) or num_repeats < 1:
            raise ConfigError(
                f'RepeatAugSampler: num_repeats must be an integer >= 1, got {num_repeats!r}'
            )
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.shuffle = shuffle
        self.num_repeats = num_repeats
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        size = len(dataset)
        if self.world_size == 1:
            self.num_samples = size
            return
        self.total_size = math.ceil(size * num_repeats / self.world_size) * self.world_size
        self.num_samples = size // EPOCH_MULTIPLE * EPOCH_MULTIPLE // self.world_size
        if self.num_samples == 0:
            raise ConfigError(
                f'RepeatAugSampler: a dataset of {size} samples gives no sample per rank on '
                f'{self.world_size} processes (epochs are rounded down to multiples of '
                f"{EPOCH_MULTIPLE}); use train_dataloader.sampler=dict(type='DefaultSampler', "
                'shuffle=True) for so small a set'
            )

    def _order(self):
        if not self.shuffle:
            return list(range(len(self.dataset)))
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        return torch.randperm(len(self.dataset), generator=generator).tolist()

    def __iter__(self):
        order = self._order()
        if self.world_size == 1:
            return iter(order)
        repeated = [index for index in order for _ in range(self.num_repeats)]
        # Pad with the list's own start so every rank gets the same number of positions.
        repeated += repeated[: self.total_size - len(repeated)]
        mine = repeated[self.rank : self.total_size : self.world_size]
        return iter(mine[: self.num_samples])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Make the next ``__iter__`` use the permutation of ``epoch`` (DistSamplerSeedHook)."""
        self.epoch = epoch

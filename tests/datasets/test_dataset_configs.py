"""Every shipped config (benchmark, swap, quickstart, custom) reads its data with a checked
dataset: each train/val/test dataset's type resolves, in the config's scope, to a subclass of
``CheckedSamplesMixin``, and builds from its dict (``lazy_init``: no file is read)."""

import glob
import os.path as osp
from pathlib import Path

import pytest
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS as MMSEG_DATASETS

import pvtv2_dense  # noqa: F401  (registers the datasets)
from pvtv2_dense.datasets import CheckedSamplesMixin

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(
    p
    for p in glob.glob(str(ROOT / 'configs' / '**' / '*.py'), recursive=True)
    if '_base_' not in Path(p).parts
)
REGISTRIES = {'mmseg': MMSEG_DATASETS, 'mmdet': MMDET_DATASETS}
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _datasets(cfg):
    """(where, dataset dict) of every dataset the config's loaders build, wrappers opened."""
    found = []
    for loader in LOADERS:
        stack = [(f'{loader}.dataset', cfg.get(loader, {}).get('dataset'))]
        while stack:
            where, ds = stack.pop()
            if not ds:
                continue
            if 'dataset' in ds:  # RepeatDataset, ClassBalancedDataset...
                stack.append((f'{where}.dataset', ds['dataset']))
            for i, inner in enumerate(ds.get('datasets', [])):  # ConcatDataset
                stack.append((f'{where}.datasets[{i}]', inner))
            found.append((where, ds))
    return found


def unchecked_datasets(cfg, name):
    """One line per dataset of ``cfg`` whose type is not a checked dataset ('' entries none)."""
    scope = cfg.get('default_scope', 'mmseg')
    registry = REGISTRIES[scope]
    problems = []
    for where, ds in _datasets(cfg):
        if 'dataset' in ds or 'datasets' in ds:
            continue  # a wrapper: its inner datasets are the ones checked
        kind = ds.get('type')
        with DefaultScope.overwrite_default_scope(scope):
            cls = kind if isinstance(kind, type) else registry.get(kind)
        if cls is None or not issubclass(cls, CheckedSamplesMixin):
            problems.append(f'{name}: {where}.type={kind!r} is not a checked dataset')
        else:
            with DefaultScope.overwrite_default_scope(scope):
                registry.build(ConfigDict(ds, lazy_init=True))
    return problems


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT / 'configs'))
def test_config_reads_with_a_checked_dataset(path):
    cfg = Config.fromfile(path)
    assert _datasets(cfg), f'{path}: no dataset in {LOADERS}'
    assert unchecked_datasets(cfg, osp.relpath(path, ROOT)) == []


def test_every_kind_of_config_is_covered():
    folders = {Path(p).relative_to(ROOT / 'configs').parts[0] for p in CONFIGS}
    assert {'segformer', 'glpn', 'deformable_detr', 'panoptic_segformer', 'pvtv2_cls'} <= folders
    assert {'swap', 'quickstart', 'custom'} <= folders


def test_an_unchecked_dataset_is_named_with_its_config():
    cfg = Config(
        dict(
            default_scope='mmseg',
            train_dataloader=dict(
                dataset=dict(type='RepeatDataset', times=2, dataset=dict(type='ADE20KDataset'))
            ),
            val_dataloader=dict(dataset=dict(type='NoSuchDataset')),
        )
    )
    assert unchecked_datasets(cfg, 'x.py') == [
        "x.py: train_dataloader.dataset.dataset.type='ADE20KDataset' is not a checked dataset",
        "x.py: val_dataloader.dataset.type='NoSuchDataset' is not a checked dataset",
    ]

"""The weights manifest is well formed, names what the configs need, and every shipped config
names its starting weights by manifest name or URL (never a local path a new user lacks)."""

import ast
import glob
import os.path as osp
import re

import pytest

from pvtv2_dense.errors import CheckpointError, ConfigError
from pvtv2_dense.zoo import config_of, get_entry, load_manifest, names
from pvtv2_dense.zoo.manifest import check_entry, files_of
from tests.helpers.common import ROOT

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))
# Keys whose string value is a checkpoint to start from.
WEIGHT_KEYS = {'checkpoint', 'load_from', 'pretrained', 'checkpoint_file'}


def test_manifest_has_the_published_checkpoints():
    entries = load_manifest()
    for v in ('b0', 'b1', 'b2', 'b2_li', 'b3', 'b4', 'b5', 'b5_22k'):
        assert entries[f'pvt_v2_{v}']['kind'] == 'backbone'
    assert {'glpn_nyu', 'glpn_kitti', 'panoptic-segformer_pvtv2-b5_coco-panoptic'} <= set(entries)
    assert len(names('model')) >= 40 and len(names('backbone')) >= 14


@pytest.mark.parametrize('name', sorted(load_manifest()))
def test_entry_is_complete(name):
    entry = get_entry(name)
    for src in entry['sources']:
        assert src['anchor'] and src['layout']
        if 'hash_prefix' in src:  # OpenMMLab's -XXXXXXXX: it must be the one in the file name
            assert osp.basename(src['url']).endswith(f'-{src["hash_prefix"]}.pth')
    if entry.get('config'):
        assert osp.isfile(config_of(name)), entry['config']
    metric = entry.get('metric')
    if metric:
        assert metric['anchor'] and isinstance(metric['value'], float)
    # Cache and mirror file names of one entry never collide.
    files = [f for f, _ in files_of(entry)]
    assert len(set(files)) == len(files)


def test_publisher_comes_first():
    for name in ('pvt_v2_b2', 'pvt_v2_b2_li'):
        urls = [s['url'] for s in get_entry(name)['sources']]
        assert urls[0].startswith('https://github.com/whai362/PVT/releases/download/v2/')
        assert urls[1].startswith('hf://OpenGVLab/')


GOOD_SOURCE = dict(url='https://x/y-0123abcd.pth', layout='official', anchor='a README')


@pytest.mark.parametrize(
    'change, message',
    [
        (dict(), None),
        (dict(kind='weights'), 'kind must be one of'),
        (dict(dataset=None), 'needs its dataset'),
        (dict(sources=[dict(url='ftp://x/y.pth')]), 'needs a url'),
        (dict(sources=[dict(GOOD_SOURCE, sha256='abc')]), '64 hex digits'),
        (dict(sources=[dict(GOOD_SOURCE, hash_prefix='XYZ')]), 'is not lower-case hex'),
        (dict(sources=[dict(url='https://x/y.pth')]), 'its key layout and the anchor'),
        (dict(sources=[]), 'needs a file name and a page'),
        (dict(convert='segformer'), 'needs the config'),
        (dict(convert='magic', config='a.py'), 'convert must be one of'),
    ],
)
def test_malformed_entries_are_refused(change, message):
    entry = dict(kind='model', task='t', dataset='d', eps='official', sources=[GOOD_SOURCE])
    entry.update(change)
    if message is None:
        check_entry('ok_name', entry)
        return
    with pytest.raises(ConfigError, match=message):
        check_entry('some_name', entry)


def test_unknown_name_says_which_are_close():
    with pytest.raises(CheckpointError) as info:
        get_entry('pvt_v2_b9')
    assert "did you mean 'pvt_v2_b" in str(info.value) and '\n' not in str(info.value)


def test_backbone_weights_do_not_run_by_name():
    with pytest.raises(CheckpointError, match='not a released model that runs by name'):
        config_of('mit_b2_mmseg')


def _weight_strings(path):
    """(key, value) of every string a config assigns to a weights key, at any depth."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        pairs = []
        if isinstance(node, ast.Assign):
            pairs = [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
        for key, value in pairs:
            if key in WEIGHT_KEYS and isinstance(value, ast.Constant):
                if isinstance(value.value, str):
                    yield key, value.value


def test_weights_named_by_configs_resolve():
    found, bad = 0, []
    manifest = load_manifest()
    for path in CONFIGS:
        for key, value in _weight_strings(path):
            found += 1
            if re.match(r'^[a-z][a-z0-9+-]*://', value) or value in manifest:
                continue
            bad.append(f'{osp.relpath(path, ROOT)}: {key}={value!r}')
    assert found > 100, 'the scan found too few weights: is the config layout new?'
    assert not bad, 'name these by manifest name or URL:\n' + '\n'.join(bad)


def test_the_scan_catches_a_local_path(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text(
        "checkpoint = 'pretrained/x.pth'\n"
        "model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='y.pth')))\n"
    )
    assert list(_weight_strings(str(path))) == [
        ('checkpoint', 'pretrained/x.pth'),
        ('checkpoint', 'y.pth'),
    ]

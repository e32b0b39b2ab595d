"""Weights by manifest name: fetched once (mirror server or folder, HF endpoint), hash-checked,
read safely; a wrong hash, a malicious pickle and an unknown name each stop in one line, and a
second run reads the cache with no server."""

import os

import pytest
import torch
from mmengine.runner import CheckpointLoader

from pvtv2_dense.checkpoint import UnsafeCheckpointError, to_official
from pvtv2_dense.errors import CheckpointError
from pvtv2_dense.models.backbones import PVTv2
from pvtv2_dense.zoo import MIRROR_ENV, cache_dir, fetch_weights
from tests.helpers.checkpoint_server import serve, write_evil
from tests.helpers.common import TINY_ARCH
from tests.helpers.tools import load_tool


def _official(seed=1):
    """A tiny backbone's weights in the official PVT layout, and ours to compare with."""
    torch.manual_seed(seed)
    ours = PVTv2(arch=TINY_ARCH).state_dict()
    return to_official(ours), ours


def _serve(root, name, file, obj):
    (root / name).mkdir(parents=True, exist_ok=True)
    torch.save(obj, root / name / file)


def _pretrained(name):
    backbone = PVTv2(arch=TINY_ARCH, init_cfg=dict(type='Pretrained', checkpoint=name))
    backbone.init_weights()
    return backbone.state_dict()


def _assert_same(loaded, ours):
    for key, value in ours.items():
        torch.testing.assert_close(loaded[key], value)


def test_init_cfg_name_downloads_once_then_reads_the_cache(mirror, monkeypatch):
    official, ours = _official()
    _serve(mirror['root'], 'pvt_v2_b0', 'pvt_v2_b0.pth', official)
    _assert_same(_pretrained('pvt_v2_b0'), ours)
    assert os.path.isfile(os.path.join(cache_dir(), 'pvt_v2_b0', 'pvt_v2_b0.pth'))
    assert mirror['httpd'].requests == ['GET /pvt_v2_b0/pvt_v2_b0.pth']
    # No server, no mirror: the cache alone.
    monkeypatch.delenv(MIRROR_ENV)
    mirror['httpd'].shutdown()
    _assert_same(_pretrained('pvt_v2_b0'), ours)
    # load_from=NAME goes through mmengine's loader, which the package routes to the zoo.
    ckpt = CheckpointLoader.load_checkpoint('pvt_v2_b0', map_location='cpu')
    assert set(ckpt) == set(official)


def test_mirror_folder_is_read_in_place(zoo_env, monkeypatch):
    official, ours = _official(seed=2)
    folder = zoo_env / 'mirror'
    _serve(folder, 'pvt_v2_b3', 'pvt_v2_b3.pth', official)
    monkeypatch.setenv(MIRROR_ENV, str(folder))
    _assert_same(_pretrained('pvt_v2_b3'), ours)
    assert fetch_weights('pvt_v2_b3')[0] == str(folder / 'pvt_v2_b3' / 'pvt_v2_b3.pth')
    assert not os.path.exists(os.path.join(cache_dir(), 'pvt_v2_b3'))


def test_hf_source_is_fetched_from_the_hf_endpoint(zoo_env, monkeypatch):
    official, ours = _official(seed=3)
    root = zoo_env / 'hub'
    _serve(root, 'nvidia/mit-b0', 'pytorch_model.bin', official)
    with serve(root) as hub:
        monkeypatch.setenv('HF_ENDPOINT', hub['url'])
        _assert_same(_pretrained('mit_b0'), ours)
    assert hub['httpd'].requests == ['GET /nvidia/mit-b0/resolve/main/pytorch_model.bin']


def test_wrong_hash_stops_in_one_line_and_keeps_nothing(mirror):
    _serve(mirror['root'], 'mit_b2_mmseg', 'mit_b2_20220624-66e8bf70.pth', _official()[0])
    with pytest.raises(CheckpointError) as info:
        fetch_weights('mit_b2_mmseg')
    text = str(info.value)
    assert 'does not match the published hash prefix 66e8bf70' in text and '\n' not in text
    assert 'mit_b2_mmseg' in text and 'the download was removed' in text
    assert not os.listdir(os.path.join(cache_dir(), 'mit_b2_mmseg'))


def test_malicious_pickle_by_name_is_refused_and_never_runs(mirror, zoo_env):
    marker = zoo_env / 'pwned'
    (mirror['root'] / 'pvt_v2_b1').mkdir()
    write_evil(mirror['root'] / 'pvt_v2_b1' / 'pvt_v2_b1.pth', marker)
    with pytest.raises(UnsafeCheckpointError) as info:
        _pretrained('pvt_v2_b1')
    text = str(info.value)
    assert 'refused to load checkpoint' in text and 'pvt_v2_b1' in text and '\n' not in text
    assert not marker.exists()


@pytest.mark.parametrize(
    'name, message',
    [
        ('pvt_v2_b9', "nor a name of the weights manifest (did you mean 'pvt_v2_b"),
        ('pvt_v2_b4', 'is not in the mirror PVTV2_DENSE_MIRROR='),
    ],
)
def test_unknown_or_missing_names_stop_in_one_line(mirror, name, message):
    with pytest.raises(CheckpointError) as info:
        _pretrained(name)
    assert message in str(info.value) and '\n' not in str(info.value)


def test_a_page_only_entry_says_where_to_put_the_file(zoo_env):
    with pytest.raises(CheckpointError) as info:
        fetch_weights('retinanet_pvtv2-b0_fpn_1x_coco')
    text = str(info.value)
    assert 'has no direct download' in text and 'drive.google.com' in text
    assert 'retinanet_pvt_v2_b0_fpn_1x_coco.pth' in text


def test_download_tool_fills_a_mirror_folder(mirror, zoo_env, monkeypatch, capsys):
    official, ours = _official(seed=4)
    _serve(mirror['root'], 'pvt_v2_b5', 'pvt_v2_b5.pth', official)
    out = zoo_env / 'for_cluster'
    load_tool('tools/download.py').main(['pvt_v2_b5', '--out', str(out)])
    assert f'pvt_v2_b5: {out}/pvt_v2_b5/pvt_v2_b5.pth' in capsys.readouterr().out
    # An offline machine: a fresh cache, the folder as its mirror.
    monkeypatch.setenv('TORCH_HOME', str(zoo_env / 'other_machine'))
    monkeypatch.setenv(MIRROR_ENV, str(out))
    _assert_same(_pretrained('pvt_v2_b5'), ours)


def test_download_tool_refuses_unknown_names_before_fetching(mirror, capsys):
    with pytest.raises(SystemExit) as info:
        load_tool('tools/download.py').main(['pvt_v2_b0', 'segformer_b0'])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: 'segformer_b0' is neither")
    assert mirror['httpd'].requests == []

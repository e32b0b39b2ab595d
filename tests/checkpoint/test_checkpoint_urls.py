"""Checkpoints named by URL (``http(s)://``, ``hf://``) are downloaded into a cache and then
read by the same safe loader as local files: a good file loads, a malicious one is refused in
one line naming the URL and nothing in it runs. Served from 127.0.0.1 (no network needed)."""

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import CheckpointLoader, Runner

from pvtv2_dense.checkpoint import UnsafeCheckpointError, read_state_dict
from pvtv2_dense.errors import CheckpointError
from pvtv2_dense.models.backbones import PVTv2
from tests.helpers.checkpoint_server import HF_COMMIT, serve, write_evil
from tests.helpers.common import TINY_ARCH, tiny_seg_cfg
from tests.helpers.tools import load_tool


@pytest.fixture
def server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 (a free port) serving ``tmp_path/served``, with fresh torch
    hub and Hugging Face caches; stopped when the test ends."""
    root = tmp_path / 'served'
    root.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with serve(root) as served:
        yield served


def _backbone_weights(seed):
    torch.manual_seed(seed)
    return PVTv2(arch=TINY_ARCH).state_dict()


def _assert_refused(err, url, marker):
    text = str(err)
    assert isinstance(err, UnsafeCheckpointError) and isinstance(err, CheckpointError)
    assert f'refused to load checkpoint {url} (downloaded to ' in text
    assert 'system' in text and '\n' not in text
    assert not marker.exists()


def test_pretrained_backbone_from_url(server, tmp_path):
    good = _backbone_weights(seed=1)
    torch.save(good, server['root'] / 'pvtv2-good.pth')
    url = f'{server["url"]}/pvtv2-good.pth'
    backbone = PVTv2(arch=TINY_ARCH, init_cfg=dict(type='Pretrained', checkpoint=url))
    backbone.init_weights()
    for key, value in good.items():
        torch.testing.assert_close(backbone.state_dict()[key], value)
    cached = tmp_path / 'torch_home' / 'hub' / 'checkpoints' / 'pvtv2-good.pth'
    assert cached.read_bytes() == (server['root'] / 'pvtv2-good.pth').read_bytes()
    # Cached: a second load makes no request.
    count = len(server['httpd'].requests)
    PVTv2(arch=TINY_ARCH, init_cfg=dict(type='Pretrained', checkpoint=url)).init_weights()
    assert len(server['httpd'].requests) == count


def test_malicious_file_by_url_is_refused_and_never_runs(server, tmp_path):
    marker = tmp_path / 'pwned'
    write_evil(server['root'] / 'pvtv2-evil.pth', marker)
    url = f'{server["url"]}/pvtv2-evil.pth'
    backbone = PVTv2(arch=TINY_ARCH, init_cfg=dict(type='Pretrained', checkpoint=url))
    with pytest.raises(UnsafeCheckpointError) as info:
        backbone.init_weights()
    _assert_refused(info.value, url, marker)
    # mmengine's own URL loader (what load_from and other models' Pretrained init use).
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(url, map_location='cpu')
    _assert_refused(info.value, url, marker)


def test_mmengine_model_names_resolve_to_the_safe_loader(server, tmp_path, monkeypatch):
    """torchvision:// (and open-mmlab://, mmcls://) are names for http URLs in mmengine."""
    from mmengine.runner import checkpoint as mmengine_checkpoint

    marker = tmp_path / 'pwned'
    write_evil(server['root'] / 'tv-evil.pth', marker)
    url = f'{server["url"]}/tv-evil.pth'
    monkeypatch.setattr(mmengine_checkpoint, 'get_torchvision_models', lambda: {'evilnet': url})
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint('torchvision://evilnet', map_location='cpu')
    _assert_refused(info.value, url, marker)


def test_download_errors_name_the_url(server):
    url = f'{server["url"]}/missing.pth'
    with pytest.raises(CheckpointError, match=f'cannot download checkpoint {url}: HTTP Error 404'):
        read_state_dict(url)
    with pytest.raises(CheckpointError, match='names no file'):
        read_state_dict(f'{server["url"]}/')


def _tiny_seg_checkpoint(ade_root, tmp_path, seed):
    cfg = tiny_seg_cfg(ade_root, tmp_path / 'work')
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    return cfg, {'state_dict': model.state_dict(), 'meta': {}}


def test_load_from_url_through_the_runner(server, ade_root, tmp_path):
    cfg, ckpt = _tiny_seg_checkpoint(ade_root, tmp_path, seed=3)
    torch.save(ckpt, server['root'] / 'seg-good.pth')
    cfg.load_from = f'{server["url"]}/seg-good.pth'
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    for key, value in ckpt['state_dict'].items():
        torch.testing.assert_close(runner.model.state_dict()[key], value)

    marker = tmp_path / 'pwned'
    write_evil(server['root'] / 'seg-evil.pth', marker)
    evil = tiny_seg_cfg(ade_root, tmp_path / 'work_evil')
    evil.load_from = f'{server["url"]}/seg-evil.pth'
    evil.visualizer.name = 'visualizer_evil_url'
    with pytest.raises(UnsafeCheckpointError) as info:
        Runner.from_cfg(evil).load_or_resume()
    _assert_refused(info.value, evil.load_from, marker)


def _write_config(cfg, tmp_path):
    path = tmp_path / 'tiny_seg.py'
    Config(cfg.to_dict()).dump(str(path))
    return str(path)


def test_test_tool_refuses_a_malicious_url(server, ade_root, tmp_path, capsys):
    marker = tmp_path / 'pwned'
    write_evil(server['root'] / 'tool-evil.pth', marker)
    config = _write_config(tiny_seg_cfg(ade_root, tmp_path / 'work'), tmp_path)
    url = f'{server["url"]}/tool-evil.pth'
    with pytest.raises(SystemExit) as exit_info:
        load_tool('tools/test.py').main([config, url, '--work-dir', str(tmp_path / 'w')])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_info.value.code == 2
    assert err.startswith(f'error: refused to load checkpoint {url} (downloaded to ')
    assert not marker.exists()


@pytest.mark.slow
def test_test_tool_evaluates_a_url_checkpoint(server, ade_root, tmp_path):
    cfg, ckpt = _tiny_seg_checkpoint(ade_root, tmp_path, seed=4)
    torch.save(ckpt, server['root'] / 'tool-good.pth')
    config = _write_config(cfg, tmp_path)
    url = f'{server["url"]}/tool-good.pth'
    work = tmp_path / 'w'
    load_tool('tools/test.py').main([config, url, '--work-dir', str(work)])
    assert (work / 'test_metrics.json').is_file()
    assert any(r.startswith('GET /tool-good.pth') for r in server['httpd'].requests)


@pytest.fixture
def hub(server, tmp_path, monkeypatch):
    """huggingface_hub pointed at the test server (its endpoint) with an empty cache."""
    hf_constants = pytest.importorskip('huggingface_hub.constants')
    from huggingface_hub import file_download

    template = server['url'] + '/{repo_id}/resolve/{revision}/{filename}'
    monkeypatch.setattr(file_download, 'HUGGINGFACE_CO_URL_TEMPLATE', template)
    monkeypatch.setattr(hf_constants, 'ENDPOINT', server['url'])
    monkeypatch.setattr(hf_constants, 'HF_HUB_CACHE', str(tmp_path / 'hf_cache'))
    monkeypatch.setattr(hf_constants, 'HF_HUB_OFFLINE', False)
    (server['root'] / 'owner' / 'pvtv2').mkdir(parents=True)
    return server


def test_hf_url_good_loads_and_malicious_is_refused(hub, tmp_path):
    good = _backbone_weights(seed=5)
    torch.save(good, hub['root'] / 'owner' / 'pvtv2' / 'good.pth')
    backbone = PVTv2(
        arch=TINY_ARCH, init_cfg=dict(type='Pretrained', checkpoint='hf://owner/pvtv2/good.pth')
    )
    backbone.init_weights()
    for key, value in good.items():
        torch.testing.assert_close(backbone.state_dict()[key], value)
    snapshot = tmp_path / 'hf_cache' / 'models--owner--pvtv2' / 'snapshots' / HF_COMMIT
    assert (snapshot / 'good.pth').is_file()

    marker = tmp_path / 'pwned'
    write_evil(hub['root'] / 'owner' / 'pvtv2' / 'evil.pth', marker)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint('hf://owner/pvtv2/evil.pth', map_location='cpu')
    _assert_refused(info.value, 'hf://owner/pvtv2/evil.pth', marker)

    with pytest.raises(CheckpointError, match='expected hf://OWNER/REPO/FILE'):
        read_state_dict('hf://owner/pvtv2')

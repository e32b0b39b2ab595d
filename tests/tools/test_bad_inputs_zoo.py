"""Bad-input rows for names of the weights manifest (tools/download.py, test.py, infer.py): each
stops with exit status 2 and one ``error:`` line saying what to give instead, before any
download."""

import pytest

from pvtv2_dense.zoo import MIRROR_ENV
from tests.helpers.bad_input_workspace import run_tool

CASES = [
    (
        'download-unknown-name',
        'download.py',
        ['pvt_v2_b9'],
        "'pvt_v2_b9' is neither a file nor a URL nor a name of the weights manifest "
        "(did you mean 'pvt_v2_b",
    ),
    ('download-no-name', 'download.py', [], 'name at least one checkpoint (see --list)'),
    (
        'test-weights-only-name',
        'test.py',
        ['segformer_mit-b0_ade20k-512x512_mmseg'],
        'segformer_mit-b0_ade20k-512x512_mmseg is not a released model that runs by name',
    ),
    (
        'test-page-only-model',
        'test.py',
        ['retinanet_pvtv2-b0_fpn_1x_coco'],
        'retinanet_pvtv2-b0_fpn_1x_coco has no direct download: get it by hand from '
        'https://drive.google.com/',
    ),
    (
        'infer-neither-config-nor-name',
        'infer.py',
        ['photo.jpg'],
        'give --config and --checkpoint, or a released model name before the images',
    ),
    (
        'infer-name-without-images',
        'infer.py',
        ['segformer_mit-b0_ade20k-512x512'],
        'no images given after the model name',
    ),
]


@pytest.mark.parametrize('tool, args, expect', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_zoo_bad_input(tool, args, expect, tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    code, _, err = run_tool(tool, args, str(tmp_path))
    last = err.strip().splitlines()[-1]
    assert code == 2, err
    assert last.startswith('error: ') and expect in last, last
    assert 'Traceback' not in err
    assert not (tmp_path / 'torch_home').exists() or not any(
        (tmp_path / 'torch_home').rglob('*.pth')
    )

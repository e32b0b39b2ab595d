"""The corruption suite (ImageCorruption) and the robustness benchmark: every corruption
changes the image more as severity grows, the same image gets the same corruption, and
run_robustness tests a model clean and corrupted and summarises mPC, rPC and mCE."""

import numpy as np
import pytest
from mmengine.runner import Runner

from pvtv2_dense.datasets.synthetic.ade20k import make_sample
from pvtv2_dense.datasets.transforms.corruptions import CORRUPTIONS, ImageCorruption
from pvtv2_dense.errors import ConfigError
from pvtv2_dense.evaluation.robustness import corrupted_pipeline, run_robustness, summarize
from tests.helpers.analysis import is_png
from tests.helpers.common import tiny_seg_cfg


@pytest.fixture(scope='module')
def image():
    img = make_sample(np.random.default_rng(0), size=(64, 64))[0]
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8)


@pytest.mark.parametrize('corruption', sorted(CORRUPTIONS))
def test_each_corruption_grows_with_severity(image, corruption):
    diffs = []
    for severity in (1, 3, 5):
        out = ImageCorruption(corruption, severity)(dict(img=image.copy(), img_path='a.jpg'))['img']
        assert out.shape == image.shape and out.dtype == np.uint8
        diffs.append(np.abs(out.astype(float) - image).mean())
    assert 0 < diffs[0] <= diffs[1] * 1.05 and diffs[1] <= diffs[2] * 1.05, diffs
    again = ImageCorruption(corruption, 5)(dict(img=image.copy(), img_path='a.jpg'))['img']
    assert np.array_equal(again, out)  # seeded by the image path


def test_bad_corruption_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="did you mean 'gaussian_noise'"):
        ImageCorruption('gausian_noise')
    with pytest.raises(ConfigError, match='severity=6'):
        ImageCorruption('fog', 6)
    with pytest.raises(ConfigError, match='no LoadImage'):
        corrupted_pipeline([dict(type='Resize')], 'fog', 1)


def test_summary_numbers():
    table = {'fog': {1: 40.0, 2: 30.0}, 'snow': {1: 20.0, 2: 10.0}}
    s = summarize(50.0, table)
    assert s['mPC'] == 25.0 and s['rPC'] == 0.5 and s['mCE'] == 75.0
    baseline = dict(errors={'fog': 65.0, 'snow': 85.0})  # this model's own errors
    assert summarize(50.0, table, baseline=baseline)['mCE'] == pytest.approx(100.0)
    half = dict(errors={'fog': 130.0, 'snow': 170.0})
    assert summarize(50.0, table, baseline=half)['mCE'] == pytest.approx(50.0)


@pytest.mark.slow  # five test runs of the tiny segmentation model on 4 images (about 15 s)
def test_robustness_run_on_the_synthetic_set(ade_root, tmp_path):
    cfg = tiny_seg_cfg(ade_root, tmp_path / 'work')
    summary, paths = run_robustness(
        Runner.from_cfg, cfg, 'mIoU', str(tmp_path / 'out'), ['gaussian_noise', 'pixelate'], [1, 5]
    )
    assert set(summary['table']) == {'gaussian_noise', 'pixelate'}
    assert set(summary['table']['pixelate']) == {1, 5} and summary['clean'] >= 0
    assert is_png(paths['png'])
    with open(paths['csv']) as f:
        assert len(f.read().strip().splitlines()) == 5

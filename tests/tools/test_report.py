"""Training curves and prediction panels written after a (tiny) run."""

import json

import cv2
import pytest
from mmengine.runner import Runner

from pvtv2_dense.apis.report import plot_training_curves, read_scalars, save_predictions
from tests.helpers.common import tiny_seg_cfg


@pytest.mark.slow
def test_curves_and_prediction_panels(ade_root, tmp_path):
    cfg = tiny_seg_cfg(ade_root, tmp_path / 'work', max_iters=4)
    cfg.train_cfg.val_interval = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    records = read_scalars(str(tmp_path / 'work'))
    assert sum('loss' in r for r in records) == 4
    assert sum('mIoU' in r for r in records) == 2

    curves = plot_training_curves(str(tmp_path / 'work'), 'mIoU', str(tmp_path / 'curves.png'))
    assert cv2.imread(curves).shape[:2] == (400, 700)

    panels = save_predictions(
        runner.model, runner.test_dataloader.dataset, str(tmp_path / 'preds.png'), num=3, scale=2
    )
    # three rows of image | truth | prediction, each 64x64 scaled by 2
    assert cv2.imread(panels).shape == (3 * 128, 3 * 128, 3)


def test_epoch_based_validation_is_plotted_at_the_end_of_its_epoch(tmp_path, monkeypatch):
    import matplotlib.axes

    run = tmp_path / 'work' / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    lines = [
        dict(loss=2.0, epoch=1, iter=5, step=5),
        dict(loss=1.0, epoch=1, iter=10, step=10),
        {'accuracy/top1': 50.0, 'step': 1},
        dict(loss=0.5, epoch=2, iter=20, step=20),
        {'accuracy/top1': 90.0, 'step': 2},
    ]
    run.joinpath('scalars.json').write_text('\n'.join(json.dumps(r) for r in lines))
    plotted = []
    original = matplotlib.axes.Axes.plot
    monkeypatch.setattr(
        matplotlib.axes.Axes, 'plot', lambda ax, *a, **k: plotted.append(a) or original(ax, *a, **k)
    )
    plot_training_curves(str(tmp_path / 'work'), 'accuracy/top1', str(tmp_path / 'c.png'))
    assert plotted[-1][:2] == ((10, 20), (50.0, 90.0))

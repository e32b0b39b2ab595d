"""Training curves and prediction panels written after a (tiny) run."""

import cv2
from mmengine.runner import Runner

from pvtv2_dense.apis.report import plot_training_curves, read_scalars, save_predictions

from .conftest import tiny_seg_cfg


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

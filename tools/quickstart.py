"""Quickstart: train and evaluate a PVTv2-b0 model on generated data, on a CPU, in minutes.

Generates the synthetic set (reused when present), trains, evaluates on held-out images, then
writes training curves and predictions beside the ground truth into the work dir.

Examples:
    python tools/quickstart.py seg          # synthetic ADE20K-layout segmentation (the default)
    python tools/quickstart.py depth        # synthetic NYU-layout depth, PVTv2-b0 + GLPN
    python tools/quickstart.py det          # synthetic COCO-layout detection, Deformable DETR
    python tools/quickstart.py cls          # synthetic ImageNet-layout classification
    python tools/quickstart.py pan          # synthetic COCO panoptic layout, Panoptic SegFormer
"""

import argparse
import json
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from pvtv2_dense.apis.report import plot_training_curves, save_predictions
from pvtv2_dense.cli import ToolParser, check_run_dir, cli_entry
from pvtv2_dense.datasets import (
    generate_ade20k,
    generate_coco,
    generate_coco_panoptic,
    generate_imagenet,
    generate_nyu,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA = osp.join(ROOT, 'data', 'synthetic')
TASKS = {
    'seg': dict(
        config='configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py',
        make_data=lambda: generate_ade20k(DATA),
        metric='mIoU',
    ),
    'depth': dict(
        config='configs/quickstart/glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py',
        make_data=lambda: generate_nyu(DATA, num_train=256, num_val=64),
        metric='d1',
    ),
    'det': dict(
        config='configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py',
        make_data=lambda: generate_coco(DATA),
        metric='coco/bbox_mAP_50',
    ),
    'cls': dict(
        config='configs/quickstart/pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py',
        make_data=lambda: generate_imagenet(DATA),
        metric='accuracy/top1',
    ),
    'pan': dict(
        config='configs/quickstart/panoptic-segformer_pvtv2-b0_1xb8-800iter_synthetic-coco-panoptic-64x64.py',
        make_data=lambda: generate_coco_panoptic(DATA),
        metric='coco_panoptic/PQ',
    ),
}


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('task', choices=sorted(TASKS), nargs='?', default='seg')
    parser.add_argument('--work-dir', default=None, help='default: work_dirs/quickstart_TASK')
    parser.add_argument(
        '--overwrite', action='store_true', help='train afresh over an earlier quickstart run'
    )
    args = parser.parse_args(argv)
    task = TASKS[args.task]
    work_dir = args.work_dir or osp.join(ROOT, 'work_dirs', 'quickstart_' + args.task)
    check_run_dir(work_dir, None, args.overwrite)
    print(f'[quickstart] data (generated once, then reused): {task["make_data"]()}', flush=True)
    cfg = Config.fromfile(osp.join(ROOT, task['config']))
    cfg.work_dir = work_dir
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    with open(osp.join(cfg.work_dir, 'test_metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=2)
    curves = plot_training_curves(
        cfg.work_dir, task['metric'], osp.join(cfg.work_dir, 'training_curves.png')
    )
    preds = save_predictions(
        runner.model, runner.test_dataloader.dataset, osp.join(cfg.work_dir, 'predictions.png')
    )
    print('[quickstart] held-out metrics: ' + json.dumps(metrics))
    print(f'[quickstart] training loss and validation {task["metric"]}: {curves}')
    print(f'[quickstart] predictions (image | ground truth | prediction): {preds}')
    print(f'[quickstart] logs, checkpoints, metrics: {cfg.work_dir}')


if __name__ == '__main__':
    main()

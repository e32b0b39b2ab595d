"""Quickstart: train and evaluate a PVTv2-b0 model on generated data, on a CPU, in minutes.

Examples:
    python tools/quickstart.py seg          # synthetic ADE20K-layout segmentation
"""

import argparse
import json
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from pvtv2_dense.datasets import generate_ade20k

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TASKS = {
    'seg': dict(
        config='configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py',
        make_data=lambda: generate_ade20k(osp.join(ROOT, 'data', 'synthetic')),
    ),
}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('task', choices=sorted(TASKS), nargs='?', default='seg')
    parser.add_argument('--work-dir', default=None)
    args = parser.parse_args()
    task = TASKS[args.task]
    print(f'[quickstart] generating data (reused when present): {task["make_data"]()}')
    cfg = Config.fromfile(osp.join(ROOT, task['config']))
    cfg.work_dir = args.work_dir or osp.join(ROOT, 'work_dirs', 'quickstart_' + args.task)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    out = osp.join(cfg.work_dir, 'test_metrics.json')
    with open(out, 'w') as f:
        json.dump(metrics, f, indent=2)
    print('[quickstart] held-out metrics:', json.dumps(metrics))
    print(f'[quickstart] logs, checkpoints and metrics: {cfg.work_dir}')


if __name__ == '__main__':
    main()

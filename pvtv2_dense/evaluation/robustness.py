"""Robustness to corrupted images: a model's metric on its test set, clean and under each
corruption and severity of :mod:`pvtv2_dense.datasets.transforms.corruptions` (the logic of
``tools/analysis_tools/test_robustness.py``).

Summary numbers, for a metric P in percent (mIoU, mAP x 100, PQ, d1 x 100, ...):

- ``mPC``: P averaged over every corruption and severity (mean performance under corruption);
- ``rPC``: mPC / P_clean, the relative robustness (1.0: corruptions cost nothing);
- ``mCE``: the error E = 100 - P (for a lower-is-better metric such as abs_rel, E = the metric)
  averaged over severities, then over corruptions; with ``baseline`` (another model's summary,
  as ImageNet-C uses AlexNet) each corruption's error is divided by the baseline's first,
  in percent.
"""

import copy
import os.path as osp

import numpy as np

from ..datasets.transforms.corruptions import CORRUPTIONS, SEVERITIES
from ..errors import ConfigError
from .analysis.results_io import new_figure, save_figure, write_csv, write_json


def corrupted_pipeline(pipeline, corruption, severity, seed=0) -> list:
    """``pipeline`` with ``ImageCorruption`` right after its image-loading step."""
    pipeline = copy.deepcopy(list(pipeline))
    for i, step in enumerate(pipeline):
        if 'LoadImage' in str(step.get('type', '')):
            pipeline.insert(
                i + 1,
                dict(type='ImageCorruption', corruption=corruption, severity=severity, seed=seed),
            )
            return pipeline
    raise ConfigError('test_dataloader.dataset.pipeline: no LoadImage* step to corrupt after')


def _check(corruptions, severities):
    unknown = [c for c in corruptions if c not in CORRUPTIONS]
    if unknown:
        raise ConfigError(
            f'unknown corruptions {unknown}; expected some of {", ".join(CORRUPTIONS)}'
        )
    if not severities or any(s not in SEVERITIES for s in severities):
        raise ConfigError(f'severities {list(severities)}: expected values from 1 to 5')


def summarize(clean, table, higher_is_better=True, baseline=None) -> dict:
    """mPC, rPC and mCE (module docstring) of ``table`` {corruption: {severity: P}}."""
    values = [p for per in table.values() for p in per.values()]
    mpc = float(np.mean(values))
    errors = {}
    for corruption, per in table.items():
        e = [(100 - p) if higher_is_better else p for p in per.values()]
        errors[corruption] = float(np.mean(e))
    if baseline:
        ce = {c: 100 * e / baseline['errors'][c] for c, e in errors.items()}
    else:
        ce = errors
    return dict(
        clean=clean,
        mPC=mpc,
        rPC=mpc / clean if clean else float('nan'),
        mCE=float(np.mean(list(ce.values()))),
        errors=errors,
        normalised=bool(baseline),
    )


def run_robustness(
    runner_factory,
    cfg,
    metric,
    out_dir,
    corruptions=None,
    severities=SEVERITIES,
    higher_is_better=True,
    scale=1.0,
    baseline=None,
    seed=0,
):
    """Test clean and under every corruption and severity; write ``robustness.json`` and
    ``robustness.csv`` (+ ``robustness.png``) to ``out_dir``.

    Args:
        runner_factory: builds an mmengine ``Runner`` from a config (``Runner.from_cfg``).
        cfg: the test config, ``load_from`` set to the checkpoint.
        metric: the metric key to report (e.g. ``mIoU``, ``coco/bbox_mAP``).
        out_dir: output folder.
        corruptions: names (default: all of ``CORRUPTIONS``).
        severities: 1-5 (default: all).
        higher_is_better: False for errors (``abs_rel``).
        scale: multiplies the metric into percent (100 for mAP and d1, 1 for mIoU and PQ).
        baseline: another model's ``robustness.json`` summary, to normalise mCE.
        seed: the corruptions' seed.

    Returns:
        (summary dict, {'json', 'csv', 'png'}).
    """
    corruptions = list(corruptions or CORRUPTIONS)
    _check(corruptions, severities)
    runner = runner_factory(cfg)
    loop_cfg = copy.deepcopy(cfg.test_cfg)
    clean_loader = copy.deepcopy(cfg.test_dataloader)

    def run(pipeline):
        loader = copy.deepcopy(clean_loader)
        loader.dataset.pipeline = pipeline
        # mmengine builds the loop and the loader lazily from these; a new pair per run.
        runner._test_dataloader, runner._test_loop = loader, copy.deepcopy(loop_cfg)
        metrics = runner.test()
        if metric not in metrics:
            raise ConfigError(f'metric {metric!r} not reported; the run reported {sorted(metrics)}')
        return float(metrics[metric]) * scale

    base = clean_loader.dataset.pipeline
    clean = run(base)
    table = {
        c: {s: run(corrupted_pipeline(base, c, s, seed)) for s in severities} for c in corruptions
    }
    summary = summarize(clean, table, higher_is_better, baseline)
    summary.update(metric=metric, table=table)
    rows = [
        [c, CORRUPTIONS[c][0], s, f'{p:.2f}'] for c, per in table.items() for s, p in per.items()
    ]
    fig, ax = new_figure(max(6.4, 0.6 * len(corruptions)), 4.8)
    for s in severities:
        ax.plot(
            range(len(corruptions)), [table[c][s] for c in corruptions], 'o-', label=f'severity {s}'
        )
    ax.axhline(clean, color='k', linestyle='--', label='clean')
    ax.set_xticks(range(len(corruptions)))
    ax.set_xticklabels(corruptions, rotation=45, fontsize=8)
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    paths = dict(
        json=write_json(osp.join(out_dir, 'robustness.json'), summary),
        csv=write_csv(
            osp.join(out_dir, 'robustness.csv'), ['corruption', 'family', 'severity', metric], rows
        ),
        png=save_figure(fig, osp.join(out_dir, 'robustness.png')),
    )
    return summary, paths

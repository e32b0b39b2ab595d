"""COCO panoptic result files from a test run: ``tools/test.py CONFIG CKPT --out DIR``.

mmdet's ``CocoPanopticMetric`` writes its predictions in the COCO panoptic results format when
given an ``outfile_prefix``: ``PREFIX.panoptic.json`` (``annotations`` with ``segments_info`` of
COCO category ids) and ``PREFIX.panoptic/`` (one RGB-encoded PNG per image), and still evaluates.
These helpers point it at a staging folder beside ``DIR`` (every process of a distributed run
writes its PNGs there) and, once the run is over, move the results into ``DIR`` as
``DIR/panoptic.json`` and ``DIR/panoptic/``, so that an interrupted run leaves no half-written
results under the name the user gave.
"""

import os
import os.path as osp
import shutil

from ..errors import ConfigError
from ..fileio.outputs import replace_path

PANOPTIC_METRIC = 'CocoPanopticMetric'
# mmdet's metric and ours (``fast_metrics.FastCocoPanopticMetric``), which write the same files.
PANOPTIC_METRICS = (PANOPTIC_METRIC, 'FastCocoPanopticMetric')
_PREFIX = 'panoptic'


def panoptic_evaluators(cfg) -> list:
    """The ``CocoPanopticMetric`` (or ``FastCocoPanopticMetric``) entries of
    ``cfg.test_evaluator`` (a dict or a list)."""
    evaluators = cfg.get('test_evaluator') or []
    if isinstance(evaluators, dict):
        evaluators = evaluators.get('metrics', [evaluators])
        evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
    return [e for e in evaluators if str(e.get('type', '')).split('.')[-1] in PANOPTIC_METRICS]


def staging_dir(out_dir: str) -> str:
    """The folder the run writes into before :func:`publish_panoptic_results` (same for every
    process, so that they all write their share of the PNGs to one place)."""
    return osp.abspath(out_dir).rstrip(os.sep) + '.partial'


def direct_panoptic_results(cfg, out_dir: str, clean: bool = True) -> str:
    """Make every panoptic evaluator of ``cfg`` write its result files to the staging folder of
    ``out_dir`` (emptied first when ``clean``: what an interrupted run left); returns that
    folder. Raises ConfigError when the config has none."""
    evaluators = panoptic_evaluators(cfg)
    if not evaluators:
        raise ConfigError(f'test_evaluator: no {PANOPTIC_METRIC} to write panoptic results')
    staging = staging_dir(out_dir)
    if clean:
        shutil.rmtree(staging, ignore_errors=True)
    for evaluator in evaluators:
        evaluator['outfile_prefix'] = osp.join(staging, _PREFIX)
    return staging


def publish_panoptic_results(out_dir: str) -> tuple:
    """Move the staged results into ``out_dir`` (replacing earlier ones of the same names).

    Returns:
        (json path, PNG folder) in ``out_dir``.
    """
    staging = staging_dir(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    moves = ((f'{_PREFIX}.panoptic.json', f'{_PREFIX}.json'), (f'{_PREFIX}.panoptic', _PREFIX))
    for src, dst in moves:
        src, dst = osp.join(staging, src), osp.join(out_dir, dst)
        if not osp.exists(src):
            raise FileNotFoundError(f'{src}: the test run wrote no panoptic results')
        replace_path(src, dst)
    shutil.rmtree(staging, ignore_errors=True)
    return osp.join(out_dir, f'{_PREFIX}.json'), osp.join(out_dir, _PREFIX)

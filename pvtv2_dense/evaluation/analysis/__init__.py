"""Diagnostics from saved results (``tools/test.py --out``) and work dirs, without re-running a
model: confusion matrices, per-class tables, the worst images, depth error by distance, COCO
error types and training curves. Each writes a PNG and a CSV or JSON; the tools in
``tools/analysis_tools/`` parse arguments and call one of these."""

from .coco_errors import coco_error_analysis
from .confusion import confusion_matrix, det_confusion, seg_confusion
from .depth_ranges import depth_error_by_range
from .logs import analyze_logs
from .per_class import det_per_class, panoptic_per_class, seg_per_class
from .worst import analyze_results

__all__ = [
    'analyze_logs',
    'analyze_results',
    'coco_error_analysis',
    'confusion_matrix',
    'depth_error_by_range',
    'det_confusion',
    'det_per_class',
    'panoptic_per_class',
    'seg_confusion',
    'seg_per_class',
]

"""``tools/infer.py`` as a library: images, videos, cameras and streams through a config's model
in PyTorch or its ONNX export in ONNX Runtime; drawings, raw predictions and annotated videos
written without replacing what a user made.

- :mod:`.options`: the checked options (:class:`InferOptions`).
- :mod:`.sources`: inputs, the pixel limit read from headers, image and frame reading.
- :mod:`.outputs`: output names and the checks of the output folders.
- :mod:`.backends`: :func:`resolve_model`, the PyTorch and ONNX Runtime predictors.
- :mod:`.draw`, :mod:`.raw`: the pictures and the raw prediction files.
- :mod:`.video`, :mod:`.timing`: annotated videos and their frames per second.
- :mod:`.run`: :func:`run_infer`, the whole run.
"""

from .backends import OnnxPredictor, TorchPredictor, resolve_model
from .options import DEFAULT_MAX_PIXELS, InferOptions, OptionError
from .run import run_infer
from .sources import IMAGE_EXTS, VIDEO_EXTS, Source, collect_sources

__all__ = [
    'DEFAULT_MAX_PIXELS',
    'IMAGE_EXTS',
    'VIDEO_EXTS',
    'InferOptions',
    'OnnxPredictor',
    'OptionError',
    'Source',
    'TorchPredictor',
    'collect_sources',
    'resolve_model',
    'run_infer',
]

"""What ``tools/infer.py`` was asked to do, checked before any file is read or model built."""

import math
from dataclasses import dataclass

from ...errors import InputError

# Above the largest phone photos (108 MP); a 20000x20000 PNG (400 MP) is refused undecoded.
DEFAULT_MAX_PIXELS = 120_000_000
# OpenCV refuses to decode more than 2**30 pixels itself (CV_IO_MAX_IMAGE_PIXELS).
DECODER_MAX_PIXELS = 1 << 30
# Video container -> the FourCC OpenCV's writer uses for it (both built into every OpenCV).
VIDEO_CODECS = {'mp4': 'mp4v', 'avi': 'MJPG'}


class OptionError(InputError):
    """A command-line option's value is outside its domain; the message names the option."""


@dataclass(frozen=True)
class InferOptions:
    """The inputs, outputs and drawing settings of one inference run.

    Args:
        inputs (tuple[str]): image files or folders, video files, camera indices, stream URLs.
        config (str): the config file (named in messages).
        checkpoint (str | None): PyTorch weights (the PyTorch backend).
        onnx (str | None): a file of ``tools/deployment/export_onnx.py`` (ONNX Runtime backend).
        out_dir (str): output folder (``vis/`` and ``pred/`` under it).
        save_raw (bool): also write raw predictions.
        overwrite (bool): write over outputs that exist already.
        device (str | None): torch device (None: cuda if present).
        score_thr (float): detection boxes drawn from this score on.
        opacity (float): segmentation overlay alpha.
        max_pixels (int): images (and video frames) with more pixels are refused undecoded.
        max_frames (int): stop a video, camera or stream after this many frames (0: no limit).
        video_format (str): container of the annotated videos, a key of ``VIDEO_CODECS``.
    """

    inputs: tuple
    config: str
    checkpoint: str | None = None
    onnx: str | None = None
    out_dir: str = 'outputs'
    save_raw: bool = False
    overwrite: bool = False
    device: str | None = None
    score_thr: float = 0.3
    opacity: float = 0.5
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_frames: int = 0
    video_format: str = 'mp4'

    def __post_init__(self):
        for flag, value in (('--score-thr', self.score_thr), ('--opacity', self.opacity)):
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise OptionError(f'{flag} {value}: expected a number in [0, 1]')
        if not 0 < self.max_pixels <= DECODER_MAX_PIXELS:
            raise OptionError(
                f'--max-pixels {self.max_pixels:g}: expected 1..{DECODER_MAX_PIXELS} '
                "(OpenCV's own decoding limit)"
            )
        if self.max_frames < 0:
            raise OptionError(f'--max-frames {self.max_frames}: expected 0 (no limit) or more')
        if self.video_format not in VIDEO_CODECS:
            raise OptionError(f'--video-format {self.video_format}: expected one of mp4, avi')
        if bool(self.checkpoint) == bool(self.onnx):
            raise OptionError(
                'give --checkpoint (PyTorch) or --onnx FILE (ONNX Runtime), one of the two'
            )

"""Annotated videos: each frame of a video file, camera or stream is predicted, drawn and
written with OpenCV's ``VideoWriter``, the time of every stage measured."""

import math
import os.path as osp

import cv2
from mmengine.utils import ProgressBar

from ...errors import DataError, OutputError
from ...fileio import atomic_output
from ..inference import task_of
from .options import VIDEO_CODECS
from .raw import save_raw
from .sources import frames, open_capture

# Frame rate of the output when the source does not tell (many cameras and streams).
FALLBACK_FPS = 25.0


def _source_fps(capture):
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if math.isfinite(fps) and 0 < fps <= 240 else FALLBACK_FPS


def _open_writer(path, picture, fps, video_format):
    height, width = picture.shape[:2]
    fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[video_format])
    writer = cv2.VideoWriter(path, fourcc, fps, (width, height))
    if not writer.isOpened():
        raise OutputError(f'cannot write {path} ({VIDEO_CODECS[video_format]}, OpenCV VideoWriter)')
    return writer


def _frame_total(capture, source, max_frames):
    total = 0 if source.live else max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    return total


def annotate_video(source, name, runner, clock):
    """Write ``vis/<name>.<format>`` (and with ``--save-raw`` ``pred/<name>/<frame>.*``).

    A camera or stream runs until it ends, ``--max-frames``, or Ctrl-C (which ends it normally).

    Args:
        source (Source): a video file, camera or stream.
        name (str): the output stem.
        runner: holds ``options``, ``predictor``, ``render``, ``plan`` and ``class_names``.
        clock (StageClock): filled with the time of each stage.

    Returns:
        str: the annotated video.

    Raises:
        DataError: the source cannot be opened or read, or its frames are over the pixel limit.
    """
    options, predictor = runner.options, runner.predictor
    capture = open_capture(source)
    out = osp.join(runner.plan.vis_dir, f'{name}.{options.video_format}')
    raw_dir = osp.join(runner.plan.raw_dir, name) if options.save_raw else None
    try:
        fps = _source_fps(capture)
        bar = ProgressBar(_frame_total(capture, source, options.max_frames))
        with atomic_output(out) as tmp:
            writer = None
            try:
                clock.restart()
                for frame in frames(capture, source, options.max_pixels, options.max_frames):
                    clock.lap('decode')
                    data = predictor.preprocess(frame)
                    clock.lap('preprocess')
                    sample = predictor.infer(data)
                    clock.lap('model')
                    picture = runner.render(frame, sample)
                    clock.lap('draw')
                    writer = writer or _open_writer(tmp, picture, fps, options.video_format)
                    writer.write(cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
                    if raw_dir:
                        stem = osp.join(raw_dir, f'{clock.frames:06d}')
                        save_raw(sample, task_of(sample), stem, runner.class_names)
                    clock.frames += 1
                    clock.lap('write')
                    bar.update()
            except KeyboardInterrupt:
                if not source.live:
                    raise
            finally:
                if writer is not None:
                    writer.release()
            if writer is None:
                raise DataError(f'no frame could be read from {source.kind} {source.location}')
    finally:
        capture.release()
    print(
        f'\n{source.location}: {clock.frames} frames -> {out}; {clock.summary()}, '
        f'backend {predictor.backend}'
    )
    return out

"""What ``tools/infer.py`` reads: image files and folders, video files, cameras and streams.

An image's size is read from its header (Pillow, nothing decoded) and checked against the pixel
limit before OpenCV decodes it, so a small file that expands to gigabytes is refused cheaply.
"""

import os
import os.path as osp
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import mmcv
import numpy as np

from ...datasets.checks import AS_STORED
from ...errors import DataError

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv')
# Opens cameras, files and URLs; tests stand a video file in for a camera by replacing it.
CAPTURE = cv2.VideoCapture
_URL = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*://')


@dataclass(frozen=True)
class Source:
    """One input: ``kind`` is 'image', 'video', 'camera' or 'stream'; ``location`` a path, a
    camera index or a URL."""

    kind: str
    location: str

    @property
    def live(self):
        """A camera or stream: no frame count, runs until it ends or ``--max-frames``."""
        return self.kind in ('camera', 'stream')

    @property
    def stem(self):
        """The base of the output names."""
        if self.kind == 'camera':
            return f'camera{self.location}'
        if self.kind == 'stream':
            return 'stream_' + re.sub(r'[^A-Za-z0-9]+', '_', _URL.sub('', self.location)).strip('_')
        return osp.splitext(osp.basename(self.location))[0]


def _kind_of_file(path):
    return 'video' if path.lower().endswith(VIDEO_EXTS) else 'image'


def collect_sources(inputs):
    """Sources from image and video files, folders (not recursed), camera indices and URLs.

    Args:
        inputs (Sequence[str]): what the user named, in order.

    Returns:
        list[Source]: in the given order; a folder's files sorted by name.

    Raises:
        DataError: an input that does not exist, or a folder with no image or video.
    """
    sources = []
    for item in inputs:
        if osp.isdir(item):
            found = sorted(
                osp.join(item, n) for n in os.listdir(item) if n.lower().endswith(IMAGE_EXTS)
            )
            found += sorted(
                osp.join(item, n) for n in os.listdir(item) if n.lower().endswith(VIDEO_EXTS)
            )
            if not found:
                raise DataError(f'folder {item} holds no images ({", ".join(IMAGE_EXTS)})')
            sources += [Source(_kind_of_file(p), p) for p in found]
        elif osp.isfile(item):
            sources.append(Source(_kind_of_file(item), item))
        elif item.isdigit():
            sources.append(Source('camera', item))
        elif _URL.match(item):
            sources.append(Source('stream', item))
        else:
            raise DataError(f'input {item} does not exist')
    return sources


@contextmanager
def _header_only():
    # Pillow refuses or warns above its own bomb limit on open; only the size is read here,
    # and our limit decides (restored at once: the setting is Pillow's module state).
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            yield Image
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def header_size(path):
    """(width, height) from the file's header without decoding it; None when Pillow does not
    know the format (OpenCV may still decode it)."""
    with _header_only() as image_module:
        try:
            with image_module.open(path) as image:
                return image.size
        except (OSError, SyntaxError, ValueError):  # UnidentifiedImageError is an OSError
            return None


def check_pixels(width, height, max_pixels, what):
    """Refuse a picture (or video frame) of more than ``max_pixels`` pixels."""
    if width * height > max_pixels:
        raise DataError(
            f'{what} is {width}x{height} (WxH), {width * height / 1e6:.1f} MP, over the limit '
            f'of {max_pixels / 1e6:g} MP; raise --max-pixels to read it'
        )


def read_image(path, max_pixels, flag=AS_STORED['color']):
    """A BGR ``uint8`` (H, W, 3) array of any readable image of at most ``max_pixels`` pixels.

    Grayscale and RGBA are converted to 3-channel colour, 16-bit colour scaled to 8 bits. ``flag``
    (mmcv's) says whether EXIF orientation is applied; by default it is not (pixels as stored).

    Raises:
        DataError: the image is over the limit (checked before decoding) or does not decode.
    """
    size = header_size(path)
    if size is not None:
        check_pixels(*size, max_pixels, 'image')
    try:
        img = mmcv.imread(path, flag=flag, channel_order='bgr')
    except (OSError, cv2.error):
        img = None
    if img is None or img.ndim != 3 or img.shape[2] != 3 or not img.size:
        raise DataError('not a readable image')
    if img.dtype != np.uint8:  # 16-bit colour images
        img = (img / max(int(img.max()), 1) * 255).astype(np.uint8)
    return img


def open_capture(source):
    """An opened ``cv2.VideoCapture`` for a video file, camera index or stream URL.

    Raises:
        DataError: OpenCV cannot open it.
    """
    target = int(source.location) if source.kind == 'camera' else source.location
    capture = CAPTURE(target)
    if not capture.isOpened():
        capture.release()
        what = {'camera': 'camera', 'stream': 'stream'}.get(source.kind, 'video')
        raise DataError(f'cannot open {what} {source.location} (OpenCV VideoCapture)')
    return capture


def frames(capture, source, max_pixels, max_frames=0):
    """BGR frames of an opened capture, after checking the frame size against the limit.

    Raises:
        DataError: the frames are over the pixel limit.
    """
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    if width and height:
        check_pixels(width, height, max_pixels, f'{source.kind} frame')
    count = 0
    while not max_frames or count < max_frames:
        ok, frame = capture.read()
        if not ok:
            return
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        count += 1
        yield frame

"""Sample checks shared by every dataset a config can name (segmentation, depth, detection,
panoptic, classification): each failure is a :class:`DataError` naming the file.

Every dataset class is declared the same way::

    @checked_dataset()
    class CheckedFooDataset(CheckedSamplesMixin, FooDataset):
        sample_file_keys = ('img_path', 'seg_map_path')   # what to require, if not the default

:class:`CheckedSamplesMixin` goes first in the bases of an mmengine ``BaseDataset`` subclass. When
the file list is built it requires the annotation file and the ``data_prefix`` folders to exist,
at least one sample, and every file a sample lists; a sample that fails to load later (an image
that does not decode, an annotation the pipeline rejects) names its files in the error.
:func:`checked_dataset` registers the class for mmseg, mmdet (and mmpretrain) configs and refuses,
at import, a class that does not put the mixin before the dataset it checks.
"""

import errno
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from ..errors import DataError
from ..registry import register_dataset

# Keys of a data info dict that name a file of the sample, in the order they are reported.
SAMPLE_FILE_KEYS = ('img_path', 'seg_map_path', 'depth_map_path')
# mmcv decoding flags that rotate an image by its EXIF orientation tag, and their counterparts
# that keep the pixels as stored (the rule for images paired with maps or boxes).
AS_STORED = {'color': 'color_ignore_orientation', 'grayscale': 'grayscale_ignore_orientation'}


def decode_as_stored(transform):
    """Make every image loader in ``transform`` (a ``Compose``, a ``TestTimeAug``, one step)
    ignore EXIF orientation, as the label, depth and panoptic maps are decoded.

    cv2's ``IMREAD_COLOR`` (mmcv's ``'color'``) rotates a JPEG by its orientation tag; the maps
    are read ``'unchanged'``, which does not, so a tagged photo would pair rotated pixels with
    unrotated labels (and boxes, which refer to the stored pixels). Loaders with other flags
    or backends (turbojpeg has no such flag) are left as they are.
    """
    flag = getattr(transform, 'color_type', None)
    if flag in AS_STORED and getattr(transform, 'imdecode_backend', 'cv2') in ('cv2', 'pillow'):
        transform.color_type = AS_STORED[flag]
    for child in getattr(transform, 'transforms', None) or []:
        decode_as_stored(child)
    for branch in getattr(transform, 'subroutines', None) or []:
        decode_as_stored(branch)


def out_of_range(values, num_classes, ignore_index=None):
    """The values (sorted, unique) outside ``0 .. num_classes - 1`` other than ``ignore_index``.

    Args:
        values (array-like): labels of one sample (a label map, class ids, category ids).
        num_classes (int): number of classes.
        ignore_index (int, optional): the one other value allowed.

    Returns:
        list[int]: the offending values; empty when all are fine.
    """
    values = np.unique(np.asarray(values))
    bad = values[(values < 0) | (values >= num_classes)]
    if ignore_index is not None:
        bad = bad[bad != ignore_index]
    return bad.tolist()


def sample_files(info, keys=SAMPLE_FILE_KEYS):
    """``'image a.jpg, annotation a.png'``: the files of one sample, for error messages."""
    names = {'img_path': 'image', 'seg_map_path': 'annotation', 'depth_map_path': 'depth map'}
    return ', '.join(f'{names.get(k, k)} {info[k]}' for k in keys if info.get(k))


def undecodable_files(info, keys=SAMPLE_FILE_KEYS):
    """``'annotation a.png (9 bytes) is not a readable image'`` for each file of a sample that
    does not decode, joined by ``'; '``; empty when every file decodes (or is not an image)."""
    names = {'img_path': 'image', 'seg_map_path': 'annotation', 'depth_map_path': 'depth map'}
    found = []
    for key in keys:
        path = info.get(key)
        if not (isinstance(path, str) and osp.isfile(path)):
            continue
        if cv2.imread(path, cv2.IMREAD_UNCHANGED) is None:
            found.append(
                f'{names.get(key, key)} {path} ({osp.getsize(path)} bytes) is not a readable '
                'image; expected a PNG or JPEG file'
            )
    return '; '.join(found)


# Images this small or this elongated break resizes and crops (a side rounds to 0 pixels, a
# 1x1 map squeezes to a scalar): a pipeline failure on one is put down to its size.
MIN_SIDE = 8
MAX_ASPECT = 64


def odd_size(path):
    """``'image PATH is 1x1 (HxW)'`` when the image at ``path`` has a side under ``MIN_SIDE``
    pixels or an aspect ratio over ``MAX_ASPECT``, else '' (also when it cannot be read)."""
    if not (isinstance(path, str) and osp.isfile(path)):
        return ''
    try:
        with Image.open(path) as img:  # reads the header only
            w, h = img.size
    except Exception:  # noqa: BLE001  (Pillow raises several types for a file it cannot read)
        return ''
    if min(h, w) < MIN_SIDE:
        return f'image {path} is {h}x{w} (HxW), under {MIN_SIDE} pixels on a side'
    if max(h, w) > MAX_ASPECT * min(h, w):
        return f'image {path} is {h}x{w} (HxW), over {MAX_ASPECT} times longer than wide'
    return ''


def loop_link(path):
    """The first symlink on ``path`` that points to a folder holding it (a loop), or None."""
    parts = str(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        prefix = os.sep.join(parts[:i])
        if osp.islink(prefix):
            target, parent = osp.realpath(prefix), osp.realpath(osp.dirname(prefix))
            if parent == target or parent.startswith(target + os.sep):
                return prefix
    return None


class CheckedSamplesMixin:
    """File-list checks at load time and file-naming load errors for an mmengine dataset.

    Subclasses may set ``sample_file_keys`` (the data info keys that are files), ``error_class``
    (the :class:`DataError` subclass raised) and override :meth:`no_samples_message`,
    :meth:`check_sample_files` and :meth:`check_data_list` for checks and messages of their own.
    """

    sample_file_keys = SAMPLE_FILE_KEYS
    error_class = DataError

    def _is_local(self):
        return getattr(self, 'backend_args', None) is None

    def check_sources(self):
        """The annotation file and every ``data_prefix`` folder exist (local storage only)."""
        name = type(self).__name__
        if self.ann_file and not osp.exists(self.ann_file):
            raise self.error_class(f'{name}: annotation file {self.ann_file} does not exist')
        for key, folder in (self.data_prefix or {}).items():
            if isinstance(folder, str) and folder and not osp.isdir(folder):
                raise self.error_class(
                    f'{name}: data_prefix.{key} folder {folder} does not exist '
                    f'(data_root={self.data_root!r})'
                )

    def no_samples_message(self):
        where = self.ann_file or (self.data_prefix or {}).get('img_path') or self.data_root
        return f'{type(self).__name__}: no samples found in {where}'

    def check_sample_files(self, data_list):
        """Every file a sample lists exists."""
        for key in self.sample_file_keys:
            missing = [d for d in data_list if d.get(key) and not osp.isfile(d[key])]
            if missing:
                raise self.error_class(
                    f'{type(self).__name__}: {len(missing)} of {len(data_list)} samples lack '
                    f'their {key}, e.g. {missing[0][key]} ({sample_files(missing[0])})'
                )

    def check_data_list(self, data_list):
        """Checks of the whole list after the files (none here; e.g. the label values)."""

    def full_init(self):
        """mmengine's ``full_init`` (which builds the file list) with the decoding rule applied
        to the pipeline and an OS error while listing or reading the data (a symlink loop, a
        folder that cannot be read) reported as one line naming the path."""
        decode_as_stored(self.pipeline)
        try:
            super().full_init()
        except OSError as err:
            where = err.filename or self.ann_file or self.data_root
            link = loop_link(where) if err.errno == errno.ELOOP else None
            if link:
                raise self.error_class(
                    f'{type(self).__name__}: symlink {link} points to {osp.realpath(link)}, a '
                    'folder that holds it: listing the data never ends (a loop); remove the link'
                ) from None
            raise self.error_class(
                f'{type(self).__name__}: cannot read {where}: {err.strerror or err}'
            ) from None
        except RecursionError:
            raise self.error_class(
                f'{type(self).__name__}: listing {self.data_root or self.ann_file} never ends; '
                'does a symlink in it point to a folder above it (a loop)?'
            ) from None

    def load_data_list(self):
        try:
            if self._is_local():
                self.check_sources()
            data_list = super().load_data_list()
            if not data_list:
                raise self.error_class(self.no_samples_message())
            if self._is_local():
                self.check_sample_files(data_list)
                self.check_data_list(data_list)
        except DataError as err:
            if isinstance(err, self.error_class):
                raise
            raise self.error_class(str(err)) from None
        return data_list

    def prepare_data(self, idx):
        info = self.get_data_info(idx)
        try:
            return self.pipeline(info)
        except self.error_class:
            raise
        except DataError as err:
            raise self.error_class(str(err)) from err.__cause__
        except Exception as err:
            # Decoders name a byte buffer, not the file (PIL: 'cannot identify image file
            # <_io.BytesIO ...>'): say which file it was.
            undecodable = undecodable_files(info, self.sample_file_keys)
            if undecodable:
                raise self.error_class(f'sample {idx}: {undecodable}') from err
            odd = odd_size(info.get('img_path'))
            if odd:
                raise self.error_class(
                    f'sample {idx}: {odd}; its pipeline failed on it ({type(err).__name__}: '
                    f'{str(err).strip()}); drop or crop the image'
                ) from err
            raise self.error_class(
                f'sample {idx} failed to load ({sample_files(info, self.sample_file_keys)}): '
                f'{type(err).__name__}: {err}'
            ) from err


def checked_dataset(name=None):
    """Class decorator for a dataset that configs name: register it in every dataset registry.

    The class must derive from :class:`CheckedSamplesMixin` placed before the mmengine
    ``BaseDataset`` it checks, so that the mixin's ``load_data_list`` and ``prepare_data`` wrap
    the dataset's own; anything else is a programming error, refused at import with a TypeError.

    Args:
        name (str, optional): the registry name; defaults to the class name.
    """

    def wrap(cls):
        mro = cls.__mro__
        if CheckedSamplesMixin not in mro or BaseDataset not in mro:
            raise TypeError(
                f'{cls.__name__}: a registered dataset derives from CheckedSamplesMixin and an '
                'mmengine BaseDataset'
            )
        if mro.index(CheckedSamplesMixin) > mro.index(BaseDataset):
            raise TypeError(
                f'{cls.__name__}: CheckedSamplesMixin must come before the dataset it checks '
                'in the bases'
            )
        return register_dataset(name)(cls)

    return wrap

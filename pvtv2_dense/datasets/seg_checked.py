"""Clear errors for bad segmentation data, each naming the file at fault.

mmseg's loaders fail late and vaguely on bad data, or not at all: a missing annotation surfaces as a
bare "No such file" deep in a worker, a label map of the wrong size is resized or cropped
alongside its image into misaligned labels, and a label above the class count is skipped by the
IoU metric or crashes the loss without saying which file holds it. Two pieces fix that:

- :class:`CheckSegAnnotation`, a transform placed right after ``LoadAnnotations``: the label map
  must have the image's original size, one channel, and only values in ``[0, num_classes)`` or
  the ignore index.
- :class:`CheckedSegDatasetMixin`, the base of the checked segmentation datasets
  (``ade20k.py``, ``cityscapes.py``, ``seg_folder.py``): when the file list is built it requires
  an annotation for every image and reads a few label maps for the label-value traps of
  :mod:`.seg_labels`; a sample that fails to load later names its image and annotation.
"""

import logging
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from ..errors import ConfigError, DataError
from ..registry import register_transform
from .checks import CheckedSamplesMixin, out_of_range
from .seg_labels import interpolation_advice, label_problem, spread


class SegDataError(DataError):
    """A segmentation sample (image or annotation file) is missing, unreadable or invalid."""


@register_transform()
class CheckSegAnnotation(BaseTransform):
    """Check a freshly loaded label map against its image; put it right after ``LoadAnnotations``.

    A sample without ``seg_map_path`` (inference: mmseg's ``MMSegInferencer`` drops
    ``LoadAnnotations`` but keeps this step) passes unchanged; a sample that names an annotation
    which was not loaded fails.

    A map without one valid pixel (every pixel the ignore index, e.g. all 0 with
    ``reduce_zero_label``) teaches nothing and reads as loss 0 and accuracy 100: it is refused,
    or, with ``allow_empty=True``, let through, counted, and reported once per process.

    Args:
        num_classes (int): valid labels are ``0 .. num_classes - 1`` (after ``reduce_zero_label``).
        ignore_index (int): the one other value allowed. Defaults to 255.
        allow_empty (bool): let maps without a valid pixel through. Defaults to False.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255, allow_empty: bool = False):
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ConfigError(
                f'CheckSegAnnotation: num_classes={num_classes!r}; expected an int >= 1'
            )
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.allow_empty = bool(allow_empty)
        self.empty_maps = 0  # maps let through by allow_empty (in this process)

    def transform(self, results: dict) -> dict:
        seg = results.get('gt_seg_map')
        if seg is None and results.get('seg_map_path') is None:
            # Inference (e.g. mmseg's MMSegInferencer): no annotation to check, as for its loader.
            return results
        path = results.get('seg_map_path', '<annotation>')
        if seg is None:
            raise SegDataError(
                f'{path}: no label map loaded; CheckSegAnnotation goes after LoadAnnotations'
            )
        if seg.ndim != 2:
            raise SegDataError(
                f'annotation {path} has shape {seg.shape}; expected a single-channel label map'
            )
        ori = tuple(results.get('ori_shape', seg.shape))[:2]
        if tuple(seg.shape) != ori:
            raise SegDataError(
                f'annotation {path} is {seg.shape[0]}x{seg.shape[1]} (HxW) but its image '
                f'{results.get("img_path")} is {ori[0]}x{ori[1]}'
            )
        bad = out_of_range(seg, self.num_classes, self.ignore_index)
        if bad:
            note = ''
            raw = bad
            if results.get('reduce_zero_label'):
                raw = (np.asarray(bad, np.int64) + 1).tolist()
                note = f' ({raw} in the file, before reduce_zero_label)'
            advice = interpolation_advice(
                f'annotation {path}', bad, self.num_classes, self.ignore_index, in_file=raw
            )
            if advice:
                raise SegDataError(advice)
            raise SegDataError(
                f'annotation {path} holds label value(s) {bad}{note}; expected '
                f'0..{self.num_classes - 1} or the ignore index {self.ignore_index}'
            )
        if not (seg != self.ignore_index).any():
            self._empty_map(path, bool(results.get('reduce_zero_label')))
        return results

    def _empty_map(self, path, reduced):
        note = ' (0 in the file, which reduce_zero_label ignores)' if reduced else ''
        what = (
            f'annotation {path} has no valid pixel: every pixel is the ignore index '
            f'{self.ignore_index}{note}'
        )
        if not self.allow_empty:
            raise SegDataError(
                f'{what}; fix or drop the map, or set allow_empty=True on CheckSegAnnotation'
            )
        self.empty_maps += 1
        if self.empty_maps == 1:
            print_log(
                f'{what}; let through (allow_empty=True): the first of such maps, only this one '
                'is reported',
                logger='current',
                level=logging.WARNING,
            )

    def __repr__(self):
        name = type(self).__name__
        return (
            f'{name}(num_classes={self.num_classes}, ignore_index={self.ignore_index}, '
            f'allow_empty={self.allow_empty})'
        )


class CheckedSegDatasetMixin(CheckedSamplesMixin):
    """:class:`CheckedSamplesMixin` for an mmseg ``BaseSegDataset``, in segmentation words.

    Besides the files, the dataset reads a few label maps when it is built and stops on the
    label-value traps of :mod:`.seg_labels` (0/255 binary masks, ``reduce_zero_label`` on 0/1
    masks, labels above the class count, colour masks), with one line saying what to set.
    """

    error_class = SegDataError

    def no_samples_message(self):
        img_dir = self.data_prefix.get('img_path')
        return f'no images ending in {self.img_suffix!r} found in {img_dir}'

    def check_sample_files(self, data_list):
        missing_img = [d['img_path'] for d in data_list if not osp.isfile(d['img_path'])]
        if missing_img:
            raise SegDataError(
                f'{len(missing_img)} image(s) listed but missing, e.g. {missing_img[0]}'
            )
        missing = [
            d for d in data_list if 'seg_map_path' in d and not osp.isfile(d['seg_map_path'])
        ]
        if missing:
            examples = '; '.join(f'{d["img_path"]} -> {d["seg_map_path"]}' for d in missing[:3])
            raise SegDataError(
                f'{len(missing)} of {len(data_list)} image(s) have no annotation '
                f'(expected suffix {self.seg_map_suffix!r}): {examples}'
            )

    def check_data_list(self, data_list):
        name = type(self).__name__
        classes = self.metainfo.get('classes')
        if not classes:
            raise ConfigError(
                f'{name}: no classes; set metainfo=dict(classes=(...), palette=[...]) on the '
                'dataset'
            )
        for transform in getattr(self.pipeline, 'transforms', []):
            reduce = getattr(transform, 'reduce_zero_label', None)
            if reduce is not None and bool(reduce) != bool(self.reduce_zero_label):
                raise ConfigError(
                    f'{name}: {type(transform).__name__}(reduce_zero_label={reduce}) but the '
                    f'dataset has reduce_zero_label={self.reduce_zero_label}; set it on the '
                    'dataset only'
                )
        paths = [d['seg_map_path'] for d in data_list if d.get('seg_map_path')]
        steps = getattr(self.pipeline, 'transforms', [])
        allow_empty = any(getattr(t, 'allow_empty', False) for t in steps)
        problem = label_problem(
            spread(paths), len(classes), self.ignore_index, self.reduce_zero_label, allow_empty
        )
        if problem:
            raise SegDataError(problem)

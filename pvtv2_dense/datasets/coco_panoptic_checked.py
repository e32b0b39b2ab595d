"""mmdet's COCO panoptic dataset and annotation loading, with the annotations checked.

mmdet reads COCO panoptic data trustingly: a segment of an unknown category fails with a bare
``KeyError`` inside ``parse_data_info``; a segment listed in the JSON but absent from its PNG
becomes an empty mask (a ground-truth instance no prediction can match); a PNG whose size differs
from its image gives masks and a semantic map that no longer line up with the pixels. Two pieces
catch these with one line naming the file and the segment:

- :class:`CheckedCocoPanopticDataset` checks the JSON as it is loaded: image, annotation and
  segment fields, known images and categories, unique segment ids, boxes inside their image;
  and that every listed image and PNG exists.
- :class:`CheckedLoadPanopticAnnotations` (in place of ``LoadPanopticAnnotations``) checks each
  PNG as it is decoded: it exists, has its image's size, and holds every segment of the JSON.
"""

import os.path as osp
from functools import partial

import mmcv
import numpy as np
from mmdet.datasets import CocoPanopticDataset
from mmdet.datasets.api_wrappers import COCOPanoptic
from mmdet.datasets.transforms import LoadPanopticAnnotations
from mmdet.structures.mask import BitmapMasks
from mmengine.fileio import get

from ..errors import DataError
from ..registry import register_transform
from .checks import CheckedSamplesMixin, checked_dataset
from .coco_checked import BOX_TOLERANCE, MAX_REPORTED, CheckedAPIMixin, index_images, is_number
from .confine import name_problem

SEGMENT_FIELDS = ('id', 'category_id', 'area', 'bbox', 'iscrowd')


class PanopticDataError(DataError):
    """A COCO panoptic annotation (JSON entry or PNG) that does not follow the format."""


def _check_segment(seg, img, cat_ids) -> str:
    """The problem with one entry of ``segments_info``, or '' when it is fine."""
    missing = [k for k in SEGMENT_FIELDS if k not in seg]
    if missing:
        return f'missing field(s) {missing}; every segment needs {list(SEGMENT_FIELDS)}'
    if not isinstance(seg['id'], int) or isinstance(seg['id'], bool) or seg['id'] <= 0:
        return f'id {seg["id"]!r} is not a positive integer (0 is VOID in the PNG)'
    if seg['category_id'] not in cat_ids:
        return f'unknown category_id {seg["category_id"]!r}; "categories" has {sorted(cat_ids)}'
    box = seg['bbox']
    if not (isinstance(box, (list, tuple)) and len(box) == 4 and all(map(is_number, box))):
        return f'bbox {box!r} is not [x, y, width, height] (4 numbers)'
    x, y, w, h = box
    tol = BOX_TOLERANCE
    if w < 0 or h < 0 or x < -tol or y < -tol:
        return f'bbox {box!r} has a negative width, height or origin'
    if x + w > img['width'] + tol or y + h > img['height'] + tol:
        return f'bbox {box!r} lies outside its {img["width"]}x{img["height"]} (WxH) image'
    if not is_number(seg['area']) or seg['area'] < 0:
        return f'area {seg["area"]!r} is not a non-negative number'
    if seg['iscrowd'] not in (0, 1):
        return f'iscrowd {seg["iscrowd"]!r} is not 0 or 1'
    return ''


def _check_annotation(ann, images, cat_ids, problems) -> None:
    if not isinstance(ann, dict) or not {'image_id', 'file_name', 'segments_info'} <= set(ann):
        problems.append(
            f'annotation {str(ann)[:80]}: expected a dict with "image_id", '
            '"file_name" and "segments_info"'
        )
        return
    img = images.get(ann['image_id'])
    where = f'{ann["file_name"]} (image id {ann["image_id"]!r})'
    if name_problem(ann['file_name']):
        problems.append(
            f'{where}: PNG file_name {ann["file_name"]!r} {name_problem(ann["file_name"])}; '
            'expected a path inside the PNG folder'
        )
        return
    if img is None:
        problems.append(f'{where}: image_id is not in "images"')
        return
    if not isinstance(ann['segments_info'], list):
        problems.append(f'{where}: "segments_info" is not a list')
        return
    seen = set()
    for seg in ann['segments_info']:
        if not isinstance(seg, dict):
            problems.append(f'{where}: segment {seg!r} is not a dict')
            continue
        problem = _check_segment(seg, img, cat_ids)
        if not problem and seg['id'] in seen:
            problem = 'duplicated segment id in this image'
        seen.add(seg.get('id'))
        if problem:
            problems.append(f'{where}, segment id {seg.get("id")!r}: {problem}')


def check_coco_panoptic_dict(data: dict, source: str, classes=None) -> None:
    """Check a loaded COCO panoptic JSON; raise PanopticDataError listing what is wrong.

    Args:
        data: the parsed JSON.
        source: the file name, used in the error message.
        classes: class names the dataset will use; each must be a category of the file.

    Raises:
        PanopticDataError: naming ``source``, the PNG, the image and the segment ids.
    """
    if not isinstance(data, dict):
        raise PanopticDataError(f'{source}: expected a JSON object, got {type(data).__name__}')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise PanopticDataError(f'{source}: missing the "{key}" list of a COCO panoptic file')
    problems = []
    cat_ids = set()
    for cat in data['categories']:
        if not isinstance(cat, dict) or not {'id', 'name', 'isthing'} <= set(cat):
            problems.append(f'category {cat!r}: expected a dict with "id", "name" and "isthing"')
        else:
            cat_ids.add(cat['id'])
    if classes is not None:
        names = {c.get('name') for c in data['categories'] if isinstance(c, dict)}
        unknown = [c for c in classes if c not in names]
        if unknown:
            problems.append(f'classes {unknown} of the dataset are not among its categories')
    images = index_images(data['images'], problems)
    for ann in data['annotations']:
        _check_annotation(ann, images, cat_ids, problems)
        if len(problems) > MAX_REPORTED:
            break
    if problems:
        more = ' (and more)' if len(problems) > MAX_REPORTED else ''
        raise PanopticDataError(
            f'{source}: invalid COCO panoptic annotation file{more}:\n  '
            + '\n  '.join(problems[:MAX_REPORTED])
        )


class _CheckedCOCOPanoptic(CheckedAPIMixin, COCOPanoptic):
    """mmdet's COCO panoptic API that checks the file before indexing it."""

    check = staticmethod(check_coco_panoptic_dict)
    error_class = PanopticDataError


@checked_dataset()
class CheckedCocoPanopticDataset(CheckedSamplesMixin, CocoPanopticDataset):
    """CocoPanopticDataset that validates its JSON on load (same arguments).

    Every image needs ``id, file_name, width, height``; every annotation ``image_id, file_name,
    segments_info`` of a known image; every segment ``id`` (> 0, unique in its image),
    ``category_id`` (a known category), ``bbox`` inside its image, ``area`` and ``iscrowd``.
    Any violation raises ``PanopticDataError`` naming the file, the PNG and the segment ids.
    The image and PNG folders and every listed image and PNG must exist, and a sample that fails
    to load is named (:class:`CheckedSamplesMixin`). Pair it with
    ``CheckedLoadPanopticAnnotations``, which checks each PNG's content.
    """

    sample_file_keys = ('img_path', 'seg_map_path')
    error_class = PanopticDataError

    def load_data_list(self):
        # get_local_path may hand the API a temporary copy; errors name the configured file.
        self.COCOAPI = partial(
            _CheckedCOCOPanoptic, source=self.ann_file, classes=self.metainfo.get('classes')
        )
        return super().load_data_list()


@register_transform()
class CheckedLoadPanopticAnnotations(LoadPanopticAnnotations):
    """``LoadPanopticAnnotations`` that checks each panoptic PNG against its image and JSON.

    Same arguments and outputs as mmdet's transform. The PNG must exist, have the size of its
    image (``height``/``width`` of the JSON and the decoded image) and contain the id of every
    segment listed for it; otherwise ``PanopticDataError`` names the PNG and the segment.
    """

    def _read_ids(self, results: dict) -> np.ndarray:
        path = results['seg_map_path']
        image = results.get('img_path', 'its image')
        try:
            # As stored (EXIF orientation ignored), like the image (checks.decode_as_stored).
            png = mmcv.imfrombytes(
                get(path, backend_args=self.backend_args),
                flag='color_ignore_orientation',
                backend='cv2',
            )
        except FileNotFoundError:
            raise PanopticDataError(f'{path}: no such panoptic PNG (for {image})') from None
        if png is None or png.ndim != 3:
            raise PanopticDataError(f'{path}: not a readable RGB panoptic PNG (for {image})')
        png = png[..., ::-1]  # BGR -> RGB: ids are R + 256 G + 256^2 B
        sizes = {(results['height'], results['width'])}
        if 'ori_shape' in results:
            sizes.add(tuple(results['ori_shape'][:2]))
        h, w = png.shape[:2]
        if {(h, w)} != sizes:
            expected = ' / '.join(f'{a}x{b}' for a, b in sorted(sizes))
            raise PanopticDataError(
                f'{path} is {h}x{w} (HxW) but its image {osp.basename(image)} is {expected}'
            )
        return self.rgb2id(png)

    def _load_masks_and_semantic_segs(self, results: dict) -> None:
        if results.get('seg_map_path', None) is None:  # inference without ground truth
            return
        ids = self._read_ids(results)
        present = set(np.unique(ids).tolist())
        gt_masks = []
        gt_seg = np.full(ids.shape, 255, dtype=np.uint8)  # 255 = VOID (ignored)
        for segment in results['segments_info']:
            if segment['id'] not in present:
                raise PanopticDataError(
                    f'{results["seg_map_path"]}: segment id {segment["id"]} (category label '
                    f'{segment["category"]}) of the JSON is absent from the PNG'
                )
            mask = ids == segment['id']
            gt_seg[mask] = segment['category']
            if segment.get('is_thing'):  # crowd segments are not things here (mmdet's rule)
                gt_masks.append(mask.astype(np.uint8))
        if self.with_mask:
            h, w = ids.shape
            results['gt_masks'] = BitmapMasks(gt_masks, h, w)
        if self.with_seg:
            results['gt_seg_map'] = gt_seg

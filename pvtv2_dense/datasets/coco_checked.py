"""mmdet's CocoDataset with the annotation file checked before use.

mmdet reads a COCO file trustingly: an annotation without ``bbox`` fails with a bare KeyError,
one with an unknown category or a box outside its image is silently dropped or clipped, and a
missing ``area`` only fails later, inside pycocotools' evaluation. ``CheckedCocoDataset`` checks
the whole file once, as it is loaded, and raises one error naming the file, the annotation ids
and what was expected.
"""

import json
from functools import partial

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO

from ..errors import DataError
from .checks import CheckedSamplesMixin, checked_dataset
from .confine import name_problem

IMAGE_FIELDS = ('id', 'file_name', 'width', 'height')
ANNOTATION_FIELDS = ('id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd')
# Real COCO boxes overshoot their image by rounding (up to about a pixel); allow that much.
BOX_TOLERANCE = 1.0
MAX_REPORTED = 10


class AnnotationError(DataError):
    """A COCO annotation file that does not follow the format."""


def is_number(v) -> bool:
    """A real number: not a bool, not NaN."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def _check_annotation(ann, images, cat_ids) -> str:
    """The problem with one annotation, or '' when it is fine."""
    missing = [k for k in ANNOTATION_FIELDS if k not in ann]
    if missing:
        return f'missing field(s) {missing}; every annotation needs {list(ANNOTATION_FIELDS)}'
    img = images.get(ann['image_id'])
    if img is None:
        return f'image_id {ann["image_id"]!r} is not in "images"'
    if ann['category_id'] not in cat_ids:
        return f'unknown category_id {ann["category_id"]!r}; "categories" has {sorted(cat_ids)}'
    box = ann['bbox']
    if not (isinstance(box, (list, tuple)) and len(box) == 4 and all(map(is_number, box))):
        return f'bbox {box!r} is not [x, y, width, height] (4 numbers)'
    x, y, w, h = box
    if w < 0 or h < 0:
        return f'bbox {box!r} has a negative width or height'
    tol = BOX_TOLERANCE
    if x < -tol or y < -tol or x + w > img['width'] + tol or y + h > img['height'] + tol:
        return (
            f'bbox {box!r} (x, y, w, h) lies outside its image {img["id"]!r} of '
            f'{img["width"]}x{img["height"]} (width x height)'
        )
    if not is_number(ann['area']) or ann['area'] < 0:
        return f'area {ann["area"]!r} is not a non-negative number'
    if ann['iscrowd'] not in (0, 1):
        return f'iscrowd {ann["iscrowd"]!r} is not 0 or 1'
    return ''


def index_images(entries, problems) -> dict:
    """The well-formed entries of a COCO ``images`` list by id; what is wrong with the others
    goes to ``problems`` (shared by the detection and panoptic checks)."""
    images = {}
    for img in entries:
        missing = [k for k in IMAGE_FIELDS if not isinstance(img, dict) or k not in img]
        if missing:
            ident = img.get('id') if isinstance(img, dict) else img
            problems.append(
                f'image id {ident!r}: missing field(s) {missing}; '
                f'every image needs {list(IMAGE_FIELDS)}'
            )
        elif not all(is_number(img[k]) and img[k] > 0 for k in ('width', 'height')):
            problems.append(f'image id {img["id"]!r}: width/height must be positive numbers')
        elif img['id'] in images:
            problems.append(f'image id {img["id"]!r}: duplicated')
        else:
            images[img['id']] = img
            if name_problem(img['file_name']):
                problems.append(
                    f'image id {img["id"]!r}: file_name {img["file_name"]!r} '
                    f'{name_problem(img["file_name"])}; expected a path inside the image folder'
                )
    return images


def check_coco_dict(data: dict, source: str, classes=None) -> None:
    """Check a loaded COCO detection file; raise AnnotationError listing what is wrong.

    Args:
        data: the parsed JSON.
        source: the file name, used in the error message.
        classes: class names the dataset will use; each must be a category of the file.

    Raises:
        AnnotationError: naming ``source`` and the offending image / annotation ids.
    """
    if not isinstance(data, dict):
        raise AnnotationError(f'{source}: expected a JSON object, got {type(data).__name__}')
    for key in ('images', 'categories'):
        if not isinstance(data.get(key), list):
            raise AnnotationError(f'{source}: missing the "{key}" list of a COCO file')
    # A test-set file may lack "annotations"; one that has it needs a list.
    if 'annotations' in data and not isinstance(data['annotations'], list):
        raise AnnotationError(
            f'{source}: "annotations" is {json.dumps(data["annotations"])[:40]}; expected a list '
            '(empty for images without objects)'
        )
    problems = []
    cat_ids = set()
    for cat in data['categories']:
        if not isinstance(cat, dict) or 'id' not in cat or 'name' not in cat:
            problems.append(f'category {cat!r}: expected a dict with "id" and "name"')
        else:
            cat_ids.add(cat['id'])
    images = index_images(data['images'], problems)
    if classes is not None:
        names = {c.get('name') for c in data['categories'] if isinstance(c, dict)}
        unknown = [c for c in classes if c not in names]
        if unknown:
            problems.append(f'classes {unknown} of the dataset are not among its categories')
    seen = set()
    for ann in data.get('annotations', []):
        if not isinstance(ann, dict):
            problems.append(f'annotation {ann!r}: expected a dict')
            continue
        problem = _check_annotation(ann, images, cat_ids)
        if not problem and ann['id'] in seen:
            problem = 'duplicated annotation id'
        seen.add(ann.get('id'))
        if problem:
            problems.append(f'annotation id {ann.get("id")!r}: {problem}')
        if len(problems) > MAX_REPORTED:
            break
    if problems:
        shown = problems[:MAX_REPORTED]
        more = ' (and more)' if len(problems) > MAX_REPORTED else ''
        raise AnnotationError(
            f'{source}: invalid COCO annotation file{more}:\n  ' + '\n  '.join(shown)
        )


def read_annotation_json(path, source, error_class=AnnotationError):
    """The parsed JSON at ``path``, or ``error_class`` naming ``source`` when the file cannot be
    read, is empty or is not valid JSON (e.g. truncated by an interrupted download)."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as err:
        raise error_class(f'{source}: cannot be read ({err.strerror or err})') from None
    if not raw.strip():
        raise error_class(f'{source}: the file is empty; expected a COCO JSON object')
    try:
        return json.loads(raw)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise error_class(
            f'{source}: not valid JSON ({err}); is the file complete (not truncated)?'
        ) from None


class CheckedAPIMixin:
    """A pycocotools-style API that reads its file with :func:`read_annotation_json` and checks
    it with ``check`` before indexing it; put it before the API class in the bases."""

    check = staticmethod(check_coco_dict)
    error_class = AnnotationError

    def __init__(self, annotation_file, source=None, classes=None):
        self._source = source or annotation_file
        self._classes = classes
        super().__init__(None)  # pycocotools would json.load the file, tracebacks and all
        self.dataset = read_annotation_json(annotation_file, self._source, self.error_class)
        self.createIndex()
        # mmdet's COCO aliases, set in its __init__ before there was an index.
        self.img_ann_map, self.cat_img_map = self.imgToAnns, self.catToImgs

    def createIndex(self):  # noqa: N802  (pycocotools' name)
        self.check(self.dataset, self._source, self._classes)
        super().createIndex()


class _CheckedCOCO(CheckedAPIMixin, COCO):
    """mmdet's COCO API that checks the file before indexing it."""


@checked_dataset()
class CheckedCocoDataset(CheckedSamplesMixin, CocoDataset):
    """CocoDataset that validates its annotation file (same arguments as ``CocoDataset``).

    Every image needs ``id, file_name, width, height``; every annotation needs
    ``id, image_id, category_id, bbox, area, iscrowd`` with a known image and category and a box
    inside its image (1 pixel tolerance). Any violation raises ``AnnotationError`` naming the
    file and the annotation ids. The image folder and every listed image must exist, and an
    image that fails to load is named (:class:`CheckedSamplesMixin`).
    """

    sample_file_keys = ('img_path',)

    def load_data_list(self):
        # get_local_path may hand CocoDataset a temporary copy; errors name the configured file.
        self.COCOAPI = partial(
            _CheckedCOCO, source=self.ann_file, classes=self.metainfo.get('classes')
        )
        return super().load_data_list()

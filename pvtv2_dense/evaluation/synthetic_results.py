"""Synthetic COCO ground truth and detections for checking evaluators against each other.

The set is shaped like a COCO val run: 80 categories, 640x480 images, 1-15 objects per image
with sizes spread over COCO's small/medium/large ranges, a few crowd regions, and a fixed
number of detections per image (jittered copies of the objects, some with the wrong class, and
false positives), as boxes (``bbox``) and as RLE masks (``segm``, mmdet's result format). The
numbers it scores have no meaning; only that two evaluators score them the same does.
"""

import numpy as np
from pycocotools import mask as mask_utils


def _polygon(rng, x, y, w, h, vertices=8):
    """A star-shaped polygon (flat [x0, y0, x1, y1, ...]) filling most of the box."""
    t = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radius = rng.uniform(0.7, 1.0, vertices)
    px = x + w / 2 + w / 2 * radius * np.cos(t)
    py = y + h / 2 + h / 2 * radius * np.sin(t)
    return np.stack([px, py], 1).ravel()


def _polygon_area(flat):
    x, y = flat[0::2], flat[1::2]
    return float(0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _random_box(rng, width, height):
    # Log-uniform sizes give COCO-like shares of small (< 32^2), medium and large objects.
    w, h = np.exp(rng.uniform(np.log(4), np.log(0.8 * np.array([width, height]))))
    return rng.uniform(0, width - w), rng.uniform(0, height - h), w, h


def _image_objects(rng, img_id, first_ann_id, num_classes, width, height):
    anns = []
    for k in range(int(rng.integers(1, 16))):
        x, y, w, h = _random_box(rng, width, height)
        poly = _polygon(rng, x, y, w, h)
        anns.append(
            dict(
                id=first_ann_id + k,
                image_id=img_id,
                category_id=int(rng.integers(1, num_classes + 1)),
                bbox=[float(x), float(y), float(w), float(h)],
                segmentation=[poly.tolist()],
                area=_polygon_area(poly),
                iscrowd=int(rng.random() < 0.01),
            )
        )
    return anns


def _image_detections(rng, anns, count, num_classes, width, height):
    """``count`` detections: jittered copies of ``anns`` first, then false positives."""
    boxes, polys, cats = [], [], []
    for ann in anns:
        x, y, w, h = ann['bbox']
        poly = np.asarray(ann['segmentation'][0])
        for _ in range(int(rng.integers(1, 5))):
            scale = rng.normal(1, 0.12, 2).clip(0.5, 1.5)
            dx, dy = rng.normal(0, 0.12, 2) * (w, h)
            cx, cy = x + w / 2, y + h / 2
            boxes.append(
                (cx + dx - w * scale[0] / 2, cy + dy - h * scale[1] / 2) + tuple((w, h) * scale)
            )
            moved = poly.reshape(-1, 2) - (cx, cy)
            polys.append((moved * scale + (cx + dx, cy + dy)).ravel())
            wrong = rng.random() < 0.1
            cats.append(int(rng.integers(1, num_classes + 1)) if wrong else ann['category_id'])
    boxes, polys, cats = boxes[:count], polys[:count], cats[:count]
    while len(boxes) < count:
        box = _random_box(rng, width, height)
        boxes.append(box)
        polys.append(_polygon(rng, *box))
        cats.append(int(rng.integers(1, num_classes + 1)))
    rles = mask_utils.frPyObjects([p.tolist() for p in polys], height, width)
    return boxes, rles, cats


def make_detection_results(
    num_images=5000, dets_per_image=100, num_classes=80, size=(480, 640), seed=0
):
    """Ground truth and detections for ``num_images`` images.

    Args:
        num_images: number of images.
        dets_per_image: detections per image (COCO's evaluation keeps at most 100).
        num_classes: number of categories (ids 1..num_classes).
        size: (height, width) of every image.
        seed: seed of the generator; the same options give the same set.

    Returns:
        (gt, bbox_results, segm_results): ``gt`` a COCO instances dict (polygon masks), the
        results lists in the COCO results format (``image_id, category_id, score`` and
        ``bbox`` xywh, or ``segmentation`` a compressed RLE with str counts).
    """
    rng = np.random.default_rng(seed)
    height, width = size
    images, anns, bbox_results, segm_results = [], [], [], []
    for img_id in range(1, num_images + 1):
        images.append(dict(id=img_id, file_name=f'{img_id:012d}.jpg', height=height, width=width))
        objects = _image_objects(rng, img_id, len(anns) + 1, num_classes, width, height)
        anns += objects
        boxes, rles, cats = _image_detections(
            rng, objects, dets_per_image, num_classes, width, height
        )
        scores = rng.random(len(boxes))
        for box, rle, cat, score in zip(boxes, rles, cats, scores):
            common = dict(image_id=img_id, category_id=cat, score=float(score))
            bbox_results.append(dict(common, bbox=[float(v) for v in box]))
            counts = rle['counts'].decode('ascii')
            segm_results.append(dict(common, segmentation=dict(size=rle['size'], counts=counts)))
    categories = [
        dict(id=c, name=f'class_{c}', supercategory='thing') for c in range(1, num_classes + 1)
    ]
    gt = dict(images=images, annotations=anns, categories=categories)
    return gt, bbox_results, segm_results

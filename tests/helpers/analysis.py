"""Saved test results (``tools/test.py --out`` pickles) with planted mistakes, for the tests of
the diagnostics (``pvtv2_dense.evaluation.analysis`` and its tools)."""

import json
import os.path as osp
import pickle

import cv2
import torch

from pvtv2_dense.datasets import generate_coco


def dump_results(path, samples):
    """Write ``samples`` as ``tools/test.py --out`` does (a pickled list); returns the path."""
    with open(path, 'wb') as f:
        pickle.dump(samples, f)
    return str(path)


def is_png(path):
    """``path`` is an image file OpenCV reads."""
    return osp.isfile(path) and cv2.imread(path) is not None


def planted_det_results(folder):
    """The synthetic COCO val objects (6 images) as predictions, labels = category index:
    image 0's first object gets the wrong class, image 1's is missed, and every image gets one
    false positive.

    Returns:
        (pickle path, annotation file, class names, the COCO dict).
    """
    root = generate_coco(osp.join(folder, 'src'), num_train=1, num_val=6, seed=2)
    ann_file = osp.join(root, 'annotations/instances_val2017.json')
    with open(ann_file) as f:
        coco = json.load(f)
    cat_index = {c['id']: i for i, c in enumerate(coco['categories'])}
    samples = []
    for k, img in enumerate(coco['images']):
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)])
        labels = torch.tensor([cat_index[a['category_id']] for a in anns])
        pred_boxes, pred_labels = boxes.clone(), labels.clone()
        if k == 0:
            pred_labels[0] = (labels[0] + 1) % 3
        if k == 1:
            pred_boxes, pred_labels = pred_boxes[1:], pred_labels[1:]
        pred_boxes = torch.cat([pred_boxes, torch.tensor([[0.0, 0.0, 3.0, 3.0]])])
        pred_labels = torch.cat([pred_labels, torch.tensor([0])])
        scores = torch.linspace(0.9, 0.5, len(pred_boxes))
        samples.append(
            dict(
                img_id=img['id'],
                img_path=osp.join(root, 'val2017', img['file_name']),
                ori_shape=(img['height'], img['width']),
                gt_instances=dict(bboxes=boxes.float(), labels=labels),
                pred_instances=dict(bboxes=pred_boxes.float(), labels=pred_labels, scores=scores),
            )
        )
    names = tuple(c['name'] for c in coco['categories'])
    return dump_results(osp.join(folder, 'preds.pkl'), samples), ann_file, names, coco

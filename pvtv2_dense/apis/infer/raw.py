"""Raw predictions of ``tools/infer.py --save-raw``, one file (or two) per image or frame,
each written under a temporary name and renamed when complete."""

import json

import mmcv
import numpy as np

from ...fileio import atomic_output


def _write_json(obj, path):
    with atomic_output(path) as tmp, open(tmp, 'w') as f:
        json.dump(obj, f, indent=1)


def _write_png(array, path):
    with atomic_output(path) as tmp:
        mmcv.imwrite(array, tmp)


def save_raw(sample, task, path_stem, class_names):
    """Write the raw prediction of ``sample`` at ``path_stem`` plus the task's extension.

    Args:
        sample: the model's data sample.
        task (str): 'seg', 'depth', 'pan', 'det' or 'cls' (see ``task_of``).
        path_stem (str): the output path without extension.
        class_names (list[str]): the model's classes.

    Returns:
        str: the file written (the PNG of a panoptic prediction).
    """
    if task == 'seg':
        labels = sample.pred_sem_seg.data.squeeze(0).cpu().numpy()
        dtype = np.uint8 if labels.max(initial=0) < 256 else np.uint16
        _write_png(labels.astype(dtype), path_stem + '.png')
        return path_stem + '.png'
    if task == 'depth':
        with atomic_output(path_stem + '.npy') as tmp:
            depth = sample.pred_depth_map.data.squeeze(0).cpu().numpy()
            np.save(tmp, depth.astype(np.float32))
        return path_stem + '.npy'
    if task == 'pan':
        ids = sample.pred_panoptic_seg.sem_seg[0].cpu().numpy()
        return save_panoptic(ids, path_stem, class_names)
    if task == 'cls':
        records = classification_records(sample, class_names)
    else:
        records = detection_records(sample, class_names)
    _write_json(records, path_stem + '.json')
    return path_stem + '.json'


def _named(label, class_names):
    return {'class': class_names[label]} if 0 <= label < len(class_names) else {}


def detection_records(sample, class_names):
    """Boxes, scores and labels (with class names) of a detection sample."""
    inst = sample.pred_instances
    return [
        dict(
            bbox=[round(float(v), 2) for v in box],
            score=round(float(score), 4),
            label=int(label),
            **_named(int(label), class_names),
        )
        for box, score, label in zip(
            inst.bboxes.cpu().tolist(), inst.scores.cpu(), inst.labels.cpu().tolist()
        )
    ]


def classification_records(sample, class_names, top=5):
    """The ``top`` classes of a classification sample, best first, with their scores."""
    scores = sample.pred_score.detach().cpu().float()
    order = scores.argsort(descending=True)[:top].tolist()
    return [
        dict(label=i, score=round(float(scores[i]), 4), **_named(i, class_names)) for i in order
    ]


def save_panoptic(panoptic, path_stem, class_names):
    """``path_stem.png`` (COCO panoptic: id = R + 256 G + 256^2 B, 0 = VOID) and
    ``path_stem.json`` (its segments: id, label, class, isthing, area); returns the PNG."""
    from mmdet.evaluation import INSTANCE_OFFSET
    from panopticapi.utils import id2rgb

    ids = panoptic.astype(np.int64)
    void = ids % INSTANCE_OFFSET >= len(class_names)
    segments = []
    for seg_id in np.unique(ids[~void]):
        label = int(seg_id % INSTANCE_OFFSET)
        segments.append(
            {
                'id': int(seg_id),
                'label': label,
                'class': class_names[label],
                'isthing': bool(seg_id >= INSTANCE_OFFSET),
                'area': int((ids == seg_id).sum()),
            }
        )
    ids[void] = 0
    _write_png(np.asarray(id2rgb(ids), np.uint8)[..., ::-1], path_stem + '.png')
    _write_json(segments, path_stem + '.json')
    return path_stem + '.png'

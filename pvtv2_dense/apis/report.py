"""Pictures a person can look at after a run: training curves and predictions beside the truth."""

import glob
import json
import os.path as osp

import cv2
import mmcv
import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from ..datasets.checks import AS_STORED
from ..errors import DataError


def _scalars_files(work_dir: str) -> list[str]:
    """mmengine's ``*/vis_data/scalars.json`` files of the runs in ``work_dir``, oldest first."""
    return sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))


def _records(path: str) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_scalars(work_dir: str) -> list[dict]:
    """Every record of the newest run's ``vis_data/scalars.json`` under ``work_dir``.

    Raises:
        DataError: ``work_dir`` holds no run's scalars.
    """
    files = _scalars_files(work_dir)
    if not files:
        raise DataError(f'no */vis_data/scalars.json under {work_dir}: was it trained?')
    return _records(files[-1])


def _lookup(metrics: dict, name: str):
    """``metrics[name]``, or the one value whose key ends in ``/name`` (e.g. ``coco/bbox_mAP``)."""
    if name in metrics:
        return metrics[name]
    hits = [v for k, v in metrics.items() if k.split('/')[-1] == name]
    return hits[0] if len(hits) == 1 else None


def read_metric(work_dir: str, name: str):
    """The metric ``name`` of the run in ``work_dir``: from ``test_metrics.json``
    (``tools/test.py``) when it has it, else its last value in the newest ``scalars.json`` that
    has one.

    Returns:
        tuple: ``(value, source file)``, or ``(None, None)`` when the run has no such metric.
    """
    path = osp.join(work_dir, 'test_metrics.json')
    if osp.isfile(path):
        with open(path) as f:
            value = _lookup(json.load(f), name)
        if value is not None:
            return float(value), path
    for path in reversed(_scalars_files(work_dir)):
        values = [v for v in (_lookup(r, name) for r in _records(path)) if v is not None]
        if values:
            return float(values[-1]), path
    return None, None


def plot_training_curves(work_dir: str, metric: str, out_file: str) -> str:
    """Training loss and the validation ``metric`` against the iteration, in one PNG."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    records = read_scalars(work_dir)
    train = [(r['step'], r['loss']) for r in records if 'loss' in r]
    val = [(r['step'], r[metric]) for r in records if metric in r]
    # Epoch-based runs log validation with the epoch as its step: plot it at that epoch's end.
    epoch_end = {}
    for r in records:
        if 'loss' in r and 'epoch' in r:
            epoch_end[r['epoch']] = max(epoch_end.get(r['epoch'], 0), r['step'])
    if epoch_end:
        val = [(epoch_end.get(step, step), value) for step, value in val]
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train), color='tab:blue', label='training loss')
    ax.set_xlabel('iteration')
    ax.set_ylabel('loss')
    if val:
        ax2 = ax.twinx()
        ax2.plot(*zip(*val), 'o-', color='tab:orange', label=f'validation {metric}')
        ax2.set_ylabel(metric)
        ax2.legend(loc='center right')
    ax.legend(loc='upper right')
    ax.set_title(osp.basename(osp.normpath(work_dir)))
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def _read_image(path, flag=AS_STORED['color']):
    """The BGR image as the dataset decoded it (by default EXIF orientation ignored)."""
    return mmcv.imread(path, flag=flag, channel_order='bgr')


def _palette(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    colours = rng.integers(40, 256, size=(n + 1, 3), dtype=np.uint8)
    colours[-1] = 0  # ignore index drawn black
    return colours


def _colour_labels(labels: np.ndarray, palette: np.ndarray, ignore_index=255) -> np.ndarray:
    idx = np.where(labels == ignore_index, len(palette) - 1, labels.clip(0, len(palette) - 2))
    return palette[idx]


def _seg_panels(result, dataset):
    palette = _palette(len(dataset.metainfo['classes']))
    image = _read_image(result.img_path)
    h, w = image.shape[:2]
    panels = [image]
    for labels in (result.gt_sem_seg.data[0], result.pred_sem_seg.data[0]):
        labels = labels.cpu().numpy().astype(np.uint8)
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        panels.append(_colour_labels(labels, palette)[..., ::-1])
    return panels


def _depth_panels(result, dataset):
    image = _read_image(result.img_path)
    h, w = image.shape[:2]
    gt = result.gt_depth_map.data[0].cpu().numpy()
    pred = result.pred_depth_map.data[0].cpu().numpy()
    top = max(float(gt.max()), 1e-3)  # one colour scale for truth and prediction
    panels = [image]
    for depth in (gt, pred):
        depth = cv2.resize(depth.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
        grey = (np.clip(depth / top, 0, 1) * 255).astype(np.uint8)
        colour = cv2.applyColorMap(grey, cv2.COLORMAP_MAGMA)
        colour[depth <= 0] = 0  # invalid truth drawn black
        panels.append(colour)
    return panels


def _det_panels(result, dataset, score_thr=0.3):
    image = _read_image(result.img_path)
    panels = []
    for instances, colour in ((result.gt_instances, (0, 200, 0)), (result.pred_instances, None)):
        canvas = image.copy()
        keep = instances.scores >= score_thr if 'scores' in instances else slice(None)
        for box in instances.bboxes[keep].cpu().numpy().round().astype(int):
            cv2.rectangle(canvas, tuple(box[:2]), tuple(box[2:]), colour or (0, 0, 230), 1)
        panels.append(canvas)
    return [image, *panels]


def _text_panel(image, lines, colour):
    canvas = np.full_like(image, 255)
    for k, line in enumerate(lines):
        y = 12 + 12 * k
        cv2.putText(canvas, line, (2, y), cv2.FONT_HERSHEY_PLAIN, 0.7, colour, 1, cv2.LINE_AA)
    return canvas


def _cls_panels(result, dataset):
    image = _read_image(result.img_path, 'color')  # CheckedLoadImage applies EXIF orientation
    classes = dataset.metainfo.get('classes') or []
    gt, pred = int(result.gt_label[0]), int(result.pred_label[0])
    name = lambda i: str(classes[i]) if i < len(classes) else str(i)  # noqa: E731
    score = float(result.pred_score[pred])
    colour = (0, 160, 0) if gt == pred else (0, 0, 220)
    return [
        image,
        _text_panel(image, ['truth', name(gt)], (0, 0, 0)),
        _text_panel(image, ['predicted', name(pred), f'{score:.2f}'], colour),
    ]


def _panoptic_panels(result, dataset):
    from mmdet.evaluation import INSTANCE_OFFSET

    from ..engine.panoptic_visualizer import segment_colours

    image = _read_image(result.img_path)
    h, w = image.shape[:2]
    classes = dataset.metainfo['classes']
    # Ground truth in the prediction's convention: stuff labels, things label + k * offset.
    truth = result.gt_sem_seg.sem_seg[0].cpu().numpy().astype(np.int64)
    truth[truth == 255] = len(classes)
    for k, (mask, label) in enumerate(zip(result.gt_instances.masks, result.gt_instances.labels)):
        truth[np.asarray(mask, bool)] = int(label) + (k + 1) * INSTANCE_OFFSET
    panels = [image]
    for pan in (truth, result.pred_panoptic_seg.sem_seg[0].cpu().numpy()):
        pan = cv2.resize(pan.astype(np.int32), (w, h), interpolation=cv2.INTER_NEAREST)
        canvas = np.zeros((h, w, 3), np.uint8)  # VOID stays black
        ids = [i for i in np.unique(pan) if i % INSTANCE_OFFSET < len(classes)]
        palette = dataset.metainfo.get('palette')
        for seg_id, colour in zip(ids, segment_colours(ids, len(classes), palette)):
            canvas[pan == seg_id] = colour[::-1]
        panels.append(canvas)
    return panels


def save_predictions(model, dataset, out_file: str, num: int = 4, scale: int = 4) -> str:
    """Rows of image | ground truth | prediction for the first ``num`` samples of ``dataset``.

    Works for segmentation (colour-coded classes), depth (one colour scale per row), detection
    (ground-truth boxes green, predicted boxes with score >= 0.3 red), classification (class
    names; the prediction green when right, red when wrong) and panoptic segmentation (a colour
    per segment: its class colour, shaded per instance; VOID black).
    """
    rows = []
    model.eval()
    for i in range(min(num, len(dataset))):
        with torch.no_grad():
            result = model.test_step(pseudo_collate([dataset[i]]))[0]
        if 'pred_sem_seg' in result:
            panels = _seg_panels(result, dataset)
        elif 'pred_label' in result:
            panels = _cls_panels(result, dataset)
        elif 'pred_depth_map' in result:
            panels = _depth_panels(result, dataset)
        elif 'pred_panoptic_seg' in result:
            panels = _panoptic_panels(result, dataset)
        else:
            panels = _det_panels(result, dataset)
        row = np.concatenate(panels, axis=1)
        rows.append(cv2.resize(row, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    cv2.imwrite(out_file, np.concatenate(rows, axis=0))
    return out_file

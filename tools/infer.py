"""Run a trained model on images or folders: segmentation, depth, detection or panoptic
segmentation (the config decides).

Examples:
    python tools/infer.py demo.jpg --config CONFIG --checkpoint CKPT
    python tools/infer.py segformer_mit-b0_ade20k-512x512 demo.jpg   # a released model by name
    python tools/infer.py photos/ --config CONFIG --checkpoint CKPT --out-dir out/ --save-raw
    python tools/infer.py a.png b.jpg --config DET_CONFIG --checkpoint CKPT --score-thr 0.5

Any size and format OpenCV reads works (JPEG, PNG, BMP, TIFF, WebP; grayscale and RGBA are
converted to 3-channel colour). Writes OUT_DIR/vis/<name>.png (overlay, colourised depth, boxes,
or panoptic segments: a colour and class name per segment) and, with --save-raw,
OUT_DIR/pred/<name>: a label PNG (segmentation, uint8 or uint16), a float32 .npy in the model's
depth unit (depth), a .json of boxes, scores and labels (detection), or a COCO panoptic PNG
(segment ids RGB-encoded, 0 = VOID) with a .json of its segments (panoptic). A folder is read
without recursion and shows a progress bar; an unreadable file is skipped with a warning (the
others still come out) and ends the run with an 'error: ...' line and exit status 2, as every
input error does.
"""

import argparse
import json
import os
import os.path as osp
import sys
from collections import Counter

import mmcv
import numpy as np
from mmengine.config import DictAction
from mmengine.registry import VISUALIZERS
from mmengine.utils import ProgressBar

from pvtv2_dense.apis.inference import (
    build_model,
    build_test_pipeline,
    default_device,
    predict,
    task_of,
)
from pvtv2_dense.cli import CLIError, ToolParser, cli_entry, load_config
from pvtv2_dense.zoo import infer_args

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('inputs', nargs='+', metavar='IMAGE', help='image files or folders')
    parser.add_argument('--config', help='config file (default: that of a released model NAME)')
    parser.add_argument('--checkpoint', help='checkpoint that fits the config')
    parser.add_argument('--out-dir', default='outputs', help='output folder (default: outputs)')
    parser.add_argument('--save-raw', action='store_true', help='also write raw predictions')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='write over predictions an earlier run left in --out-dir (refused otherwise)',
    )
    parser.add_argument('--device', default=None, help='torch device (default: cuda if present)')
    parser.add_argument('--score-thr', type=float, default=0.3, help='detection: boxes to draw')
    parser.add_argument('--opacity', type=float, default=0.5, help='segmentation overlay alpha')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys; the parent of each key must exist in the config',
    )
    return parser.parse_args(argv)


def collect_images(inputs):
    """Image paths from files and (non-recursively) folders, in a stable order."""
    paths = []
    for item in inputs:
        if osp.isdir(item):
            found = sorted(
                osp.join(item, n) for n in os.listdir(item) if n.lower().endswith(IMAGE_EXTS)
            )
            if not found:
                raise CLIError(f'folder {item} holds no images ({", ".join(IMAGE_EXTS)})')
            paths += found
        elif osp.isfile(item):
            paths.append(item)
        else:
            raise CLIError(f'input {item} does not exist')
    return paths


def output_names(paths):
    """A unique output stem per input: the file stem, plus the extension where stems collide."""
    stems = [osp.splitext(osp.basename(p))[0] for p in paths]
    counts = Counter(stems)
    names, seen = [], set()
    for path, stem in zip(paths, stems):
        name = stem if counts[stem] == 1 else f'{stem}_{osp.splitext(path)[1][1:]}'
        base, i = name, 1
        while name in seen:  # same file name in two folders
            name, i = f'{base}_{i}', i + 1
        seen.add(name)
        names.append(name)
    return names


def refuse_earlier_outputs(args, names, vis_dir, raw_dir):
    """Stop before writing if any output file of this run exists already, unless --overwrite."""
    if args.overwrite:
        return
    for folder in (vis_dir, raw_dir) if args.save_raw else (vis_dir,):
        if not osp.isdir(folder):
            continue
        taken = {osp.splitext(n)[0] for n in os.listdir(folder)}
        clash = [n for n in names if n in taken]
        if clash:
            raise CLIError(
                f'--out-dir {args.out_dir}: {folder} already holds {len(clash)} of the outputs, '
                f'e.g. {clash[0]} (an earlier run?); choose another --out-dir, or pass '
                '--overwrite to write over them'
            )


def read_image(path):
    """BGR uint8 (H, W, 3) from any readable image, or None."""
    try:
        img = mmcv.imread(path, flag='color', channel_order='bgr')
    except Exception:
        return None
    if img is None or img.ndim != 3 or img.shape[2] != 3:
        return None
    if img.dtype != np.uint8:  # 16-bit colour images
        img = (img / max(int(img.max()), 1) * 255).astype(np.uint8)
    return img


def save_raw(sample, task, path_stem, class_names):
    """Write the raw prediction next to ``path_stem``; returns the file written."""
    if task == 'seg':
        labels = sample.pred_sem_seg.data.squeeze(0).cpu().numpy()
        dtype = np.uint8 if labels.max(initial=0) < 256 else np.uint16
        out = path_stem + '.png'
        mmcv.imwrite(labels.astype(dtype), out)
    elif task == 'depth':
        out = path_stem + '.npy'
        np.save(out, sample.pred_depth_map.data.squeeze(0).cpu().numpy().astype(np.float32))
    elif task == 'pan':
        out = save_panoptic(
            sample.pred_panoptic_seg.sem_seg[0].cpu().numpy(), path_stem, class_names
        )
    else:
        inst = sample.pred_instances
        labels = inst.labels.cpu().tolist()
        records = [
            dict(
                bbox=[round(float(v), 2) for v in box],
                score=round(float(score), 4),
                label=int(label),
                **({'class': class_names[label]} if label < len(class_names) else {}),
            )
            for box, score, label in zip(inst.bboxes.cpu().tolist(), inst.scores.cpu(), labels)
        ]
        out = path_stem + '.json'
        with open(out, 'w') as f:
            json.dump(records, f, indent=1)
    return out


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
        thing = bool(seg_id >= INSTANCE_OFFSET)
        area = int((ids == seg_id).sum())
        segments.append(
            {
                'id': int(seg_id),
                'label': label,
                'class': class_names[label],
                'isthing': thing,
                'area': area,
            }
        )
    ids[void] = 0
    mmcv.imwrite(np.asarray(id2rgb(ids), np.uint8)[..., ::-1], path_stem + '.png')
    with open(path_stem + '.json', 'w') as f:
        json.dump(segments, f, indent=1)
    return path_stem + '.png'


def build_visualizer(cfg, model, opacity):
    vis_cfg = dict(cfg.visualizer)
    # A fresh, unique instance: no save_dir, we pass out_file per image.
    vis_cfg.update(name=f'infer_{id(model)}', save_dir=None)
    vis_cfg.pop('vis_backends', None)
    if 'Seg' in vis_cfg['type']:
        vis_cfg['alpha'] = opacity
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = model.dataset_meta
    return visualizer


def draw(visualizer, image_bgr, sample, out_file, score_thr):
    kwargs = dict(draw_gt=False, draw_pred=True, show=False, out_file=out_file)
    if 'pred_instances' in sample:
        kwargs['pred_score_thr'] = score_thr
    visualizer.add_datasample(osp.basename(out_file), image_bgr[..., ::-1], sample, **kwargs)


def run_one(model, pipeline, visualizer, path, name, args, dirs, class_names):
    """Predict, draw and save one image; returns why it was skipped, or None."""
    image = read_image(path)
    if image is None:
        return 'not a readable image'
    try:
        sample = predict(model, pipeline, image)
    except ValueError as err:  # e.g. an image too small for the model
        return str(err)
    draw(visualizer, image, sample, osp.join(dirs[0], name + '.png'), args.score_thr)
    if args.save_raw:
        save_raw(sample, task_of(sample), osp.join(dirs[1], name), class_names)
    return None


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    # infer.py NAME IMAGES...: a released model by name (pvtv2_dense/zoo/manifest.yml).
    args.inputs, args.config, args.checkpoint, args.cfg_options = infer_args(
        args.inputs, args.config, args.checkpoint, args.cfg_options
    )
    paths = collect_images(args.inputs)
    cfg = load_config(args.config, args.cfg_options)
    names = output_names(paths)
    vis_dir, raw_dir = osp.join(args.out_dir, 'vis'), osp.join(args.out_dir, 'pred')
    sources = {osp.realpath(p) for p in paths}
    for d in (vis_dir, raw_dir):
        if any(osp.realpath(osp.join(d, n + '.png')) in sources for n in names):
            raise CLIError(f'--out-dir {args.out_dir} would overwrite an input; choose another')
    refuse_earlier_outputs(args, names, vis_dir, raw_dir)
    model = build_model(cfg, args.checkpoint, args.device or default_device(), args.config)
    pipeline = build_test_pipeline(cfg)
    visualizer = build_visualizer(cfg, model, args.opacity)
    class_names = list(model.dataset_meta.get('classes', ()))
    os.makedirs(vis_dir, exist_ok=True)
    if args.save_raw:
        os.makedirs(raw_dir, exist_ok=True)
    bar = ProgressBar(len(paths)) if len(paths) > 1 else None
    skipped, dirs = [], (vis_dir, raw_dir)
    for path, name in zip(paths, names):
        reason = run_one(model, pipeline, visualizer, path, name, args, dirs, class_names)
        if reason:
            skipped.append(f'{path}: {reason}')
        if bar:
            bar.update()
    if bar:
        sys.stdout.write('\n')
    raw = f', raw predictions in {raw_dir}' if args.save_raw else ''
    print(f'{len(paths) - len(skipped)} images: visualisations in {vis_dir}{raw}')
    for reason in skipped:
        print(f'warning: skipped {reason}', file=sys.stderr)
    if skipped:
        rest = 'nothing written' if len(skipped) == len(paths) else f'the others are in {vis_dir}'
        raise CLIError(
            f'{len(skipped)} of {len(paths)} input(s) skipped, e.g. {skipped[0]}; {rest}'
        )


if __name__ == '__main__':
    main()

"""Synthetic street scenes with sparse LiDAR-like depth, in the BTS/GLPDepth KITTI layout.

Each frame is a ray-cast street seen by a forward-looking car camera (height ~1.65 m, small
pitch, roll and yaw): road, building facades of random height on both sides, sky, and a few
cars (boxes) on the road. The ground truth is what the KITTI depth benchmark's projected LiDAR
gives: z-depth on a random subset of pixels from a few degrees above the horizon down, none in
the sky or beyond 80 m, stored as uint16 PNG in metres x 256 (0 = no measurement). Frames of
different drives differ by a few pixels in size, as KITTI's (375x1242, 370x1224, ...), and
frames alternate between two drives that each number their frames from 5, so frame numbers
repeat across drives as on KITTI.

Layout (as ``KITTIDepthDataset`` reads it, data/README.md)::

    kitti/raw/2011_09_26/2011_09_26_drive_{%04d}_sync/image_02/data/{%010d}.png
    kitti/gt_depth/2011_09_26_drive_{%04d}_sync/proj_depth/groundtruth/image_02/{%010d}.png
    kitti/splits/eigen_{train,test}_files_with_gt.txt   # "IMAGE DEPTH FOCAL" per line

The test split ends with one frame that has an image but no ground truth (``DEPTH = None``),
as BTS's split files have.
"""

import os
import os.path as osp

import cv2
import numpy as np

from .common import is_complete, mark_complete
from .nyu import _box_hits, _plane_hits, _rotation, _texture

MAX_DEPTH = 80.0  # metres, as KITTI's evaluation
DATE = '2011_09_26'
KITTI_FOCAL_RATIO = 721.5377 / 1242  # fx / frame width of KITTI's left colour camera


def render_street(rng: np.random.Generator, size=(72, 148)):
    """One (BGR uint8 image, float32 sparse z-depth in metres) pair; depth 0 = no LiDAR return."""
    h, w = size
    f = KITTI_FOCAL_RATIO * w
    vv, uu = np.mgrid[0:h, 0:w].astype(np.float64)
    cam_dirs = np.stack([(uu + 0.5 - w / 2) / f, (vv + 0.5 - h / 2) / f, np.ones_like(uu)], -1)
    rot = _rotation(rng.uniform(-0.03, 0.03), rng.uniform(-0.02, 0.02))
    yaw = rng.uniform(-0.15, 0.15)
    cy, sy = np.cos(yaw), np.sin(yaw)
    rot = rot @ np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    dirs = cam_dirs @ rot.T  # world frame: x right, y down, z along the street; camera at origin

    cam_height = rng.uniform(1.55, 1.75)
    left, right = rng.uniform(5.0, 12.0), rng.uniform(5.0, 12.0)
    t_all, normals = [], []
    t_all.append(_plane_hits(dirs, np.array([0.0, 1.0, 0.0]), cam_height))  # road
    normals.append(np.array([0.0, -1.0, 0.0]))
    for normal, offset in ((np.array([-1.0, 0.0, 0.0]), left), (np.array([1.0, 0.0, 0.0]), right)):
        t = _plane_hits(dirs, normal, offset)
        roof = cam_height - rng.uniform(6.0, 20.0)  # facade top (y points down)
        with np.errstate(invalid='ignore'):
            t = np.where(dirs[..., 1] * t >= roof, t, np.inf)  # above the roof: sky
        t_all.append(t)
        normals.append(-normal)
    for _ in range(rng.integers(1, 4)):  # cars: ~1.7 x 1.5 x 4 m boxes on the road
        cx, cz = rng.uniform(-4.0, 4.0), rng.uniform(5.0, 40.0)
        lo = np.array([cx - 0.85, cam_height - rng.uniform(1.4, 1.7), cz - 2.0])
        hi = np.array([cx + 0.85, cam_height, cz + 2.0])
        t, axis = _box_hits(dirs, lo, hi)
        t_all.append(t)
        normals.append(np.eye(3)[axis])
    t_all = np.stack(t_all)
    which = t_all.argmin(0)
    t = np.take_along_axis(t_all, which[None], 0)[0]
    sky = ~np.isfinite(t)
    points = dirs * np.where(sky, 0.0, t)[..., None]

    palette = rng.uniform(50, 220, size=(len(t_all), 3))
    palette[0] = rng.uniform(70, 110)  # grey road
    kinds, freqs = rng.integers(0, 3, len(t_all)), rng.uniform(0.3, 1.5, len(t_all))
    img = np.zeros((h, w, 3))
    for s in range(len(t_all)):
        mask = (which == s) & ~sky
        if mask.any():
            pattern = _texture(points[mask], kinds[s], freqs[s], rng.uniform(0, 2))
            img[mask] = palette[s] * (1.0 + 0.25 * pattern[:, None])
    sun = np.array([0.3, -0.8, 0.5]) / np.linalg.norm([0.3, -0.8, 0.5])
    normal = np.stack([np.broadcast_to(n, dirs.shape) for n in normals])
    normal = np.take_along_axis(normal, which[None, ..., None], 0)[0]
    distance = np.linalg.norm(points, axis=-1)
    shade = (0.45 + 0.55 * np.abs((normal * sun).sum(-1))) * np.exp(-distance / 250.0)
    img *= shade[..., None]
    img[sky] = np.array([150.0, 200.0, 235.0]) * (0.8 + 0.2 * (vv[sky] / h))[:, None]  # RGB
    img += rng.normal(0, 3, size=img.shape)

    depth = (points @ rot)[..., 2].astype(np.float32)  # z in the camera frame
    # LiDAR: returns below a few degrees above the horizon, on a sparse subset of pixels.
    elevation = np.arctan2(-cam_dirs[..., 1], np.hypot(cam_dirs[..., 0], 1.0))
    beams = (elevation < np.deg2rad(rng.uniform(7.0, 9.0))) & (rng.random((h, w)) < 0.35)
    depth[sky | ~beams | (depth >= MAX_DEPTH) | (depth <= 0)] = 0
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., ::-1].copy(), depth


def _frame_sizes(window, num_drives):
    """Frame size per drive: the KB window plus a margin that shrinks a little per drive."""
    wh, ww = window
    return [(wh + 8 - d, ww + 20 - 2 * d) for d in range(num_drives)]


def generate_kitti(root: str, num_train=4, num_val=2, window=(64, 128), seed=0) -> str:
    """Write the set under ``root/kitti`` (reused when already complete).

    Args:
        root (str): parent folder (e.g. ``data/synthetic``).
        num_train (int): frames listed in ``eigen_train_files_with_gt.txt``.
        num_val (int): frames with ground truth in ``eigen_test_files_with_gt.txt`` (which
            also lists one more frame without ground truth, as ``None``).
        window (tuple[int, int]): height and width of the KB crop the frames must hold
            (``KBCrop(height, width)`` in the config); frames are a few pixels larger.
        seed (int): the same seed gives the same bytes.

    Returns:
        str: the dataset root to give ``KITTIDepthDataset`` (``.../kitti``).
    """
    data_root = osp.join(root, 'kitti')
    params = dict(
        kind='kitti', num_train=num_train, num_val=num_val, window=list(window), seed=seed
    )
    if is_complete(data_root, params):
        return data_root
    rng = np.random.default_rng(seed)
    drives = [f'{DATE}_drive_{n:04d}_sync' for n in (1, 2)]
    sizes = _frame_sizes(window, len(drives))
    os.makedirs(osp.join(data_root, 'splits'), exist_ok=True)
    # Per-drive frame numbers from 5, where KITTI's annotated depth starts.
    frames = [5] * len(drives)
    for split, count in (('train', num_train), ('test', num_val + 1)):
        lines = []
        for i in range(count):
            d = i % len(drives)
            drive, size = drives[d], sizes[d]
            img, depth = render_street(rng, size)
            name = f'{frames[d]:010d}.png'
            frames[d] += 1
            img_rel = f'{DATE}/{drive}/image_02/data/{name}'
            os.makedirs(osp.dirname(osp.join(data_root, 'raw', img_rel)), exist_ok=True)
            cv2.imwrite(osp.join(data_root, 'raw', img_rel), img)
            focal = f'{KITTI_FOCAL_RATIO * size[1]:.4f}'
            if split == 'test' and i == count - 1:  # an image without ground truth
                lines.append(f'{img_rel} None {focal}')
                continue
            gt_rel = f'{drive}/proj_depth/groundtruth/image_02/{name}'
            os.makedirs(osp.dirname(osp.join(data_root, 'gt_depth', gt_rel)), exist_ok=True)
            depth_png = np.round(depth * 256.0).astype(np.uint16)
            cv2.imwrite(osp.join(data_root, 'gt_depth', gt_rel), depth_png)
            lines.append(f'{img_rel} {gt_rel} {focal}')
        split_file = osp.join(data_root, 'splits', f'eigen_{split}_files_with_gt.txt')
        with open(split_file, 'w') as f:
            f.write('\n'.join(lines) + '\n')
    mark_complete(data_root, params)
    return data_root

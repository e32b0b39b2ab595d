"""Synthetic indoor depth scenes with known geometry, in mmseg's NYU Depth v2 layout.

Each scene is a ray-cast room seen by a pinhole camera with random height, pitch and roll:
floor, ceiling, two side walls and a back wall turned by a random yaw (so every plane is tilted
in the image), plus up to three boxes standing on the floor. Surfaces carry world-space
textures (their perspective foreshortening is a depth cue) and a light at the camera shades them
with distance and incidence, as a flash would. The depth written is the z-depth in millimetres
(uint16, 0 = invalid) like NYU's; a few scenes get a rectangular hole of invalid depth, as
Kinect maps have.

Layout (as mmseg's NYUDataset reads it)::

    nyu/images/{train,test}/{room}_{%05d}.jpg
    nyu/annotations/{train,test}/{room}_{%05d}.png      # uint16 depth in mm, 0 = invalid
"""

import os
import os.path as osp

import cv2
import numpy as np

from .common import is_complete, mark_complete

ROOMS = ('bedroom', 'kitchen', 'office', 'living_room', 'bathroom')
MAX_DEPTH = 10.0  # metres, as NYU


def _rotation(pitch, roll):
    cp, sp, cr, sr = np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ rx


def _plane_hits(origin_free_dirs, normal, offset):
    """Ray parameter t of X = t * dir on the plane n.X = offset (inf when behind or parallel)."""
    denom = origin_free_dirs @ normal
    with np.errstate(divide='ignore', invalid='ignore'):
        t = offset / denom
    return np.where((t > 1e-6) & np.isfinite(t), t, np.inf)


def _box_hits(dirs, lo, hi):
    """Slab test of rays from the origin against an axis-aligned box; t and the hit axis."""
    with np.errstate(divide='ignore', invalid='ignore'):
        t1, t2 = lo / dirs, hi / dirs
    tmin, tmax = np.minimum(t1, t2), np.maximum(t1, t2)
    t_near, axis = tmin.max(-1), tmin.argmax(-1)
    hit = (t_near <= tmax.min(-1)) & (t_near > 1e-6)
    return np.where(hit, t_near, np.inf), axis


def _texture(points, kind, freq, phase):
    """A world-space pattern in [-1, 1] on the hit points (checks, stripes or flat)."""
    u, v = points[..., 0] * freq + phase, (points[..., 1] + points[..., 2]) * freq + phase
    if kind == 0:
        return np.sign(np.sin(np.pi * u) * np.sin(np.pi * v))
    if kind == 1:
        return np.sin(np.pi * (u + v))
    return np.zeros_like(u)


def render_scene(rng: np.random.Generator, size=(64, 64)):
    """One (BGR uint8 image, float32 z-depth in metres) pair; depth 0 marks invalid pixels."""
    h, w = size
    f = 0.85 * w  # ~ NYU's field of view (fx ~ 518 px at 640 px wide)
    vv, uu = np.mgrid[0:h, 0:w].astype(np.float64)
    cam_dirs = np.stack([(uu + 0.5 - w / 2) / f, (vv + 0.5 - h / 2) / f, np.ones_like(uu)], -1)
    rot = _rotation(rng.uniform(-0.2, 0.2), rng.uniform(-0.1, 0.1))
    dirs = cam_dirs @ rot.T  # world frame: x right, y down, z forward; camera at the origin

    cam_height, room_height = rng.uniform(1.0, 1.6), rng.uniform(2.4, 3.0)
    half_width, back = rng.uniform(1.5, 3.0), rng.uniform(3.5, 8.5)
    yaw = rng.uniform(-0.5, 0.5)
    surfaces = [
        (np.array([0.0, 1.0, 0.0]), cam_height),  # floor (y down)
        (np.array([0.0, -1.0, 0.0]), room_height - cam_height),  # ceiling
        (np.array([-1.0, 0.0, 0.0]), half_width),  # left wall
        (np.array([1.0, 0.0, 0.0]), half_width),  # right wall
        (np.array([np.sin(yaw), 0.0, np.cos(yaw)]), back * np.cos(yaw)),  # back wall
    ]
    t_all = [_plane_hits(dirs, n, d) for n, d in surfaces]
    normals = [np.broadcast_to(n, dirs.shape) for n, _ in surfaces]
    for _ in range(rng.integers(0, 4)):
        sx, sy, sz = rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.0)
        cx, cz = rng.uniform(-half_width + sx, half_width - sx), rng.uniform(1.5, back - 1.0)
        lo = np.array([cx - sx / 2, cam_height - sy, cz - sz / 2])
        hi = np.array([cx + sx / 2, cam_height, cz + sz / 2])
        t, axis = _box_hits(dirs, lo, hi)
        t_all.append(t)
        normals.append(np.eye(3)[axis])
    t_all = np.stack(t_all)
    which = t_all.argmin(0)
    t = np.take_along_axis(t_all, which[None], 0)[0]
    normal = np.take_along_axis(np.stack(normals), which[None, ..., None], 0)[0]
    points = dirs * t[..., None]

    palette = rng.uniform(40, 230, size=(len(t_all), 3))
    kinds, freqs = rng.integers(0, 3, len(t_all)), rng.uniform(1.0, 3.0, len(t_all))
    img = np.zeros((h, w, 3))
    for s in range(len(t_all)):
        mask = which == s
        if mask.any():
            pattern = _texture(points[mask], kinds[s], freqs[s], rng.uniform(0, 2))
            img[mask] = palette[s] * (1.0 + 0.25 * pattern[:, None])
    unit = dirs / np.linalg.norm(dirs, axis=-1, keepdims=True)
    incidence = np.abs((unit * normal).sum(-1))
    distance = np.linalg.norm(points, axis=-1)
    img *= ((0.3 + 0.7 * incidence) * np.clip(2.5 / (1.0 + distance), 0.1, 1.2))[..., None]
    img += rng.normal(0, 3, size=img.shape)

    depth = (points @ rot)[..., 2].astype(np.float32)  # z in the camera frame
    depth[(depth > MAX_DEPTH) | ~np.isfinite(depth)] = 0
    if rng.random() < 0.3:  # a sensor hole
        y0, x0 = rng.integers(0, h - h // 4), rng.integers(0, w - w // 4)
        depth[y0 : y0 + h // 8, x0 : x0 + w // 8] = 0
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., ::-1].copy(), depth


def generate_nyu(root: str, num_train=48, num_val=16, size=(64, 64), seed=0) -> str:
    """Write the set under ``root/nyu`` (reused when already complete).

    Args:
        root (str): parent folder (e.g. ``data/synthetic``).
        num_train (int): training scenes (``images/train``).
        num_val (int): held-out scenes (``images/test``).
        size (tuple[int, int]): image height and width.
        seed (int): the same seed gives the same bytes.

    Returns:
        str: the dataset root to give mmseg's ``NYUDataset`` (``.../nyu``).
    """
    data_root = osp.join(root, 'nyu')
    params = dict(kind='nyu', num_train=num_train, num_val=num_val, size=list(size), seed=seed)
    if is_complete(data_root, params):
        return data_root
    rng = np.random.default_rng(seed)
    for split, count in (('train', num_train), ('test', num_val)):
        img_dir = osp.join(data_root, 'images', split)
        ann_dir = osp.join(data_root, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(count):
            img, depth = render_scene(rng, size)
            name = f'{ROOMS[int(rng.integers(len(ROOMS)))]}_{i:05d}'
            cv2.imwrite(osp.join(img_dir, name + '.jpg'), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            depth_mm = np.round(depth * 1000.0).astype(np.uint16)
            cv2.imwrite(osp.join(ann_dir, name + '.png'), depth_mm)
    mark_complete(data_root, params)
    return data_root

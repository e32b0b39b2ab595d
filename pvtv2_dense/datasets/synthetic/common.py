"""Shared pieces of the synthetic dataset generators: seeding, reuse and textures."""

import json
import os
import os.path as osp

import numpy as np

_MARKER = '.synthetic_complete.json'


def is_complete(root: str, params: dict) -> bool:
    """True when ``root`` already holds a finished set generated with exactly ``params``."""
    marker = osp.join(root, _MARKER)
    if not osp.isfile(marker):
        return False
    with open(marker) as f:
        return json.load(f) == params


def mark_complete(root: str, params: dict) -> None:
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, _MARKER), 'w') as f:
        json.dump(params, f, sort_keys=True)


def texture(rng: np.random.Generator, h: int, w: int, base_rgb, kind: int) -> np.ndarray:
    """An RGB texture (uint8) around a base colour: flat, stripes, checks or noise by ``kind``."""
    yy, xx = np.mgrid[0:h, 0:w]
    phase = rng.uniform(0, 2 * np.pi)
    if kind % 4 == 0:
        pattern = np.zeros((h, w))
    elif kind % 4 == 1:
        pattern = np.sin(xx * 0.8 + phase)
    elif kind % 4 == 2:
        pattern = np.sign(np.sin(xx * 0.6 + phase) * np.sin(yy * 0.6 + phase))
    else:
        pattern = np.sin((xx + yy) * 0.5 + phase)
    img = np.asarray(base_rgb, np.float32)[None, None] + 30.0 * pattern[..., None]
    img += rng.normal(0, 8, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)

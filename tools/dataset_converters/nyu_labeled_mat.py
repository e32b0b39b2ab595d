"""Official NYU Depth v2 labeled set (nyu_depth_v2_labeled.mat) -> mmseg's NYU layout.

The .mat file is MATLAB v7.3 (HDF5; read with h5py): ``images`` is stored as
(N, 3, W, H) uint8 and ``depths`` as (N, W, H) float metres, the transpose of MATLAB's
H x W x 3 x N. With the official ``splits.mat`` (``trainNdxs``/``testNdxs``, 1-based) the 795
training and 654 test frames go to ``train`` and ``test`` (the 654 are the standard Eigen test
set); without it every frame goes to ``--split`` (default ``test``).

Output (what mmseg's NYUDataset and configs/_base_/datasets/nyu_448x576.py read)::

    OUT/images/{train,test}/{scene_type}_{index:05d}.jpg       # RGB frames, 640x480
    OUT/annotations/{train,test}/{scene_type}_{index:05d}.png  # uint16 depth in mm, 0 = invalid

Example:
    python tools/dataset_converters/nyu_labeled_mat.py nyu_depth_v2_labeled.mat data/nyu \\
        --splits splits.mat
"""

import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np

from pvtv2_dense.cli import CLIError, ToolParser, atomic_output, cli_entry, one_line
from pvtv2_dense.datasets.confine import name_problem


def _scene_types(f, n):
    """Scene type of every frame from the ``sceneTypes`` cell array (None when absent)."""
    if 'sceneTypes' not in f:
        return [None] * n
    refs = np.asarray(f['sceneTypes']).reshape(-1)
    names = []
    for ref in refs[:n]:
        chars = np.asarray(f[ref]).reshape(-1)
        names.append(''.join(chr(int(c)) for c in chars).strip().replace(' ', '_') or None)
    return names + [None] * (n - len(names))


def _check_scene_names(mat_path, scenes):
    """Scene names become file names: each must be one plain name (nothing that leaves the
    output folder, such as ``../x`` or ``/x``)."""
    for i, scene in enumerate(scenes):
        if scene is None:
            continue
        problem = name_problem(scene) or ("holds a '/'" if '/' in scene else '')
        if problem:
            raise CLIError(
                f'{mat_path}: scene name {scene!r} of frame {i + 1} {problem}; expected a plain '
                'file name (letters, digits, _)'
            )


def _read_splits(path, n):
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
        train, test = mat['trainNdxs'], mat['testNdxs']
    except (OSError, ValueError, NotImplementedError, KeyError) as err:
        raise CLIError(
            f'{path}: expected a .mat with trainNdxs and testNdxs ({one_line(err)})'
        ) from None
    split = {}
    for name, idx in (('train', train), ('test', test)):
        for i in np.asarray(idx).reshape(-1).astype(int):
            if not 1 <= i <= n:
                raise CLIError(f'{path}: {name} index {i} outside 1..{n}')
            split[i - 1] = name
    return split


def convert(mat_path, out_dir, splits=None, default_split='test', force=False):
    """Write the layout; returns {split: count}. Refuses to overwrite unless ``force``."""
    import h5py

    if not osp.isfile(mat_path):
        raise CLIError(f'{mat_path} does not exist')
    try:
        f = h5py.File(mat_path, 'r')
    except OSError as err:
        raise CLIError(f'{mat_path}: not a MATLAB v7.3 (HDF5) file ({one_line(err)})') from None
    with f:
        for key in ('images', 'depths'):
            if key not in f:
                raise CLIError(f'{mat_path}: no {key!r} dataset (keys: {sorted(f.keys())})')
        images, depths = f['images'], f['depths']
        if (
            images.ndim != 4
            or images.shape[1] != 3
            or depths.shape != (images.shape[0], images.shape[2], images.shape[3])
        ):
            sys.exit(
                f'error: {mat_path}: expected images (N, 3, W, H) and depths (N, W, H), got '
                f'{images.shape} and {depths.shape}'
            )
        n = images.shape[0]
        split_of = _read_splits(splits, n) if splits else {i: default_split for i in range(n)}
        scenes = _scene_types(f, n)
        _check_scene_names(mat_path, scenes)
        targets = []
        for i in sorted(split_of):
            name = f'{scenes[i] or "nyu"}_{i + 1:05d}'
            targets.append(
                (
                    i,
                    split_of[i],
                    *(
                        osp.join(out_dir, kind, split_of[i], name + ext)
                        for kind, ext in (('images', '.jpg'), ('annotations', '.png'))
                    ),
                )
            )
        # Every target is checked before the first is written: a refusal changes nothing.
        existing = [p for t in targets for p in t[2:] if osp.exists(p)] if not force else []
        if existing:
            raise CLIError(
                f'{existing[0]} exists ({len(existing)} of the {2 * len(targets)} output files '
                'do); pass --overwrite to write over them'
            )
        counts = {}
        for i, split, img_path, ann_path in targets:
            os.makedirs(osp.dirname(img_path), exist_ok=True)
            os.makedirs(osp.dirname(ann_path), exist_ok=True)
            rgb = np.asarray(images[i]).transpose(2, 1, 0)  # (3, W, H) -> (H, W, 3)
            depth_m = np.asarray(depths[i], dtype=np.float64).T
            depth_mm = np.where(np.isfinite(depth_m) & (depth_m > 0), depth_m * 1000.0, 0)
            with atomic_output(img_path) as tmp:
                cv2.imwrite(tmp, rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])
            with atomic_output(ann_path) as tmp:
                cv2.imwrite(tmp, np.clip(np.round(depth_mm), 0, 65535).astype(np.uint16))
            counts[split] = counts.get(split, 0) + 1
    return counts


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('mat', help='nyu_depth_v2_labeled.mat')
    parser.add_argument('out_dir', help='output root, e.g. data/nyu')
    parser.add_argument('--splits', help='official splits.mat (trainNdxs / testNdxs)')
    parser.add_argument('--split', default='test', help='split name for all frames w/o --splits')
    parser.add_argument(
        '--overwrite', '--force', action='store_true', help='write over existing files'
    )
    args = parser.parse_args(argv)
    counts = convert(args.mat, args.out_dir, args.splits, args.split, args.overwrite)
    print(f'wrote {counts} frames under {args.out_dir}')


if __name__ == '__main__':
    main()

"""Draw what a config's data pipeline feeds the model: augmented images with their annotations.

Each sample goes through the split's full pipeline (loading, resizing, cropping, flipping, ...)
and is drawn with the config's visualizer: segmentation masks, depth maps or boxes, whichever the
task's annotations hold. Images are written as OUT_DIR/<index>_<image name>.png.

Examples:
    python tools/analysis_tools/browse_dataset.py CONFIG --out-dir browse/ --num 20
    python tools/analysis_tools/browse_dataset.py CONFIG --split val --num 5 --seed 1
"""

import argparse
import os
import os.path as osp

import numpy as np
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope
from mmengine.runner import set_random_seed
from mmengine.utils import ProgressBar

from pvtv2_dense.cli import CLIError, ToolParser, cli_entry, load_config, refuse_overwrite


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('--out-dir', default='browse_dataset', help='where the drawings go')
    parser.add_argument(
        '--overwrite', action='store_true', help='draw into an --out-dir that holds drawings'
    )
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--num', type=int, default=20, help='how many samples (default 20)')
    parser.add_argument('--seed', type=int, default=0, help='seed for the random augmentations')
    parser.add_cfg_options()
    return parser.parse_args(argv)


def to_rgb_image(inputs):
    """The pipeline's CHW (BGR, any dtype) tensor as an HWC uint8 RGB array."""
    img = inputs.numpy().transpose(1, 2, 0)
    if img.dtype != np.uint8:
        lo, hi = float(img.min()), float(img.max())
        img = ((img - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[..., ::-1])


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    refuse_overwrite(args.out_dir, '--out-dir', args.overwrite)
    cfg = load_config(args.config, args.cfg_options)
    loader = cfg.get(f'{args.split}_dataloader')
    if not loader or not loader.get('dataset'):
        raise CLIError(f'{args.config} has no {args.split}_dataloader.dataset')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    set_random_seed(args.seed)
    dataset = DATASETS.build(loader.dataset)
    vis_cfg = dict(cfg.visualizer)
    vis_cfg.update(name=f'browse_{id(dataset)}', save_dir=None)
    vis_cfg.pop('vis_backends', None)
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(args.out_dir, exist_ok=True)
    count = min(args.num, len(dataset))
    bar = ProgressBar(count)
    for i in range(count):
        item = dataset[i]
        sample = item['data_samples']
        name = osp.splitext(osp.basename(sample.metainfo.get('img_path') or f'{i}'))[0]
        out_file = osp.join(args.out_dir, f'{i:04d}_{name}.png')
        visualizer.add_datasample(
            name,
            to_rgb_image(item['inputs']),
            sample,
            draw_gt=True,
            draw_pred=False,
            show=False,
            out_file=out_file,
        )
        bar.update()
    print(f'\n{count} samples of the {args.split} split drawn in {args.out_dir}')


if __name__ == '__main__':
    main()

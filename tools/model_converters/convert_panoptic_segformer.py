"""Convert an official Panoptic SegFormer checkpoint (PVTv2 backbone) into our PanopticSegFormer.

SRC is a checkpoint of github.com/zhiqi-li/Panoptic-SegFormer (mmdet 2.x key layout), e.g.
``panoptic_segformer_pvtv2b5_2x.pth``. The output loads with ``tools/test.py CONFIG OUT.pth``
(or ``load_from``) in the matching ``configs/panoptic_segformer/`` config; the script prints the
backbone, class and query counts to check the config against.

Examples:
    python tools/model_converters/convert_panoptic_segformer.py \\
        panoptic_segformer_pvtv2b5_2x.pth pretrained/panoptic-segformer_pvtv2-b5_coco.pth
    python tools/test.py \\
        configs/panoptic_segformer/panoptic-segformer_pvtv2-b5_8xb1-24e_coco-panoptic.py \\
        pretrained/panoptic-segformer_pvtv2-b5_coco.pth
"""

import argparse
import os
import os.path as osp

import torch

from pvtv2_dense.checkpoint import describe, norm_eps_hint, read_state_dict
from pvtv2_dense.checkpoint.panoptic_segformer import panoptic_segformer_to_pvtv2_dense
from pvtv2_dense.cli import CLIError, ToolParser, cli_entry, one_line, refuse_overwrite
from pvtv2_dense.errors import CheckpointError


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='official Panoptic SegFormer checkpoint (.pth)')
    parser.add_argument('dst', help='output .pth')
    parser.add_argument('--overwrite', action='store_true', help='write over dst if it exists')
    return parser.parse_args(argv)


def summary(ours):
    """Lines describing the converted model, to compare with the config."""
    backbone = {k[len('backbone.') :]: v for k, v in ours.items() if k.startswith('backbone.')}
    things = ours['bbox_head.cls_branches.0.weight'].shape[0]
    stuff = ours['bbox_head.stuff_query.weight'].shape[0]
    queries = ours['query_embedding.weight'].shape[0]

    def layers(prefix):
        return len({k.split('.')[3] for k in ours if k.startswith(prefix + '.layers.')})

    return [
        f'  backbone: {describe(backbone)}',
        f'  LayerNorm eps: {norm_eps_hint("official")}',
        f'  classes: {things} things + {stuff} stuff; {queries} thing queries',
        f'  mask decoders: {layers("bbox_head.thing_mask_decoder")} thing layers, '
        f'{layers("bbox_head.stuff_mask_decoder")} stuff layers',
    ]


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    refuse_overwrite(args.dst, 'dst', args.overwrite)
    state = read_state_dict(args.src)  # its errors name the file already
    try:
        ours, ignored = panoptic_segformer_to_pvtv2_dense(state)
    except (CheckpointError, KeyError) as err:
        raise CLIError(f'{args.src}: {one_line(err)}') from None
    meta = {'source': osp.basename(args.src), 'format': 'official_panoptic_segformer'}
    print(f'{args.src}: official Panoptic SegFormer layout')
    for line in summary(ours):
        print(line)
    tmp = args.dst + '.partial'
    torch.save({'state_dict': {k: v.contiguous() for k, v in ours.items()}, 'meta': meta}, tmp)
    os.replace(tmp, args.dst)
    print(f'wrote {len(ours)} tensors to {args.dst}; left out {len(ignored)} keys {ignored[:5]}')


if __name__ == '__main__':
    main()

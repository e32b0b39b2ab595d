"""Convert an HF DeformableDetrForObjectDetection with a PvtV2Backbone into our Deformable DETR.

HF_DIR is a save_pretrained folder (config.json + weights). CONFIG is one of our Deformable
DETR configs: its data, evaluation and runtime are kept, and its model takes the HF model's
shape (layers, widths, queries, labels, refine/two-stage, backbone arch and eps). The tool
writes OUT_CKPT and the config to evaluate it with (--out-config, default OUT_CKPT with .py),
after comparing our model with HF's (logits and boxes, float32) on random inputs. What our
mmdet model cannot express (another backbone, learned position embeddings, a non-ReLU FFN,
two-stage with d_model != 256) is refused in one line.

Examples:
    python tools/model_converters/convert_deformable_detr_hf.py hf/ddetr-refine-b0 \\
        configs/deformable_detr/deformable-detr-refine_pvtv2-b0_16xb2-50e_coco.py \\
        work_dirs/ddetr-refine-b0-hf.pth
    python tools/test.py work_dirs/ddetr-refine-b0-hf.py work_dirs/ddetr-refine-b0-hf.pth
"""

import argparse
import os.path as osp
import sys

from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    atomic_output,
    cli_entry,
    load_config,
    refuse_overwrite,
    save_torch_atomically,
)


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('hf_dir', help='HF model folder (save_pretrained)')
    parser.add_argument('config', help='our Deformable DETR config (data, evaluation, runtime)')
    parser.add_argument('out_ckpt', help='output .pth')
    parser.add_argument('--out-config', help='output config (default: OUT_CKPT with .py)')
    parser.add_argument('--tolerance', type=float, default=1e-5, help='largest output difference')
    parser.add_argument('--overwrite', action='store_true', help='replace existing outputs')
    parser.add_cfg_options()
    return parser.parse_args(argv)


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    out_config = args.out_config or f'{osp.splitext(args.out_ckpt)[0]}.py'
    refuse_overwrite(args.out_ckpt, 'OUT_CKPT', args.overwrite)
    refuse_overwrite(out_config, '--out-config', args.overwrite)
    from pvtv2_dense.checkpoint.hf_deformable_detr import load_hf_detr
    from pvtv2_dense.deploy.hf_detr import compare_detr, from_hf_detr

    cfg = load_config(args.config, args.cfg_options)
    hf_model = load_hf_detr(args.hf_dir)
    cfg, model = from_hf_detr(hf_model, cfg)
    diff = compare_detr(model, hf_model)
    if not diff <= args.tolerance:
        raise CLIError(f'ours differs from the HF model by {diff:.3g} (> {args.tolerance:g})')
    meta = dict(
        dataset_meta=model.dataset_meta,
        source=osp.basename(osp.normpath(args.hf_dir)),
        format='hf_deformable_detr',
    )
    save_torch_atomically(dict(state_dict=model.state_dict(), meta=meta), args.out_ckpt)
    with atomic_output(out_config) as tmp:
        cfg.dump(tmp)
    print(f'wrote {args.out_ckpt} and {out_config}')
    print(f'  max |transformers - ours| = {diff:.2e} (float32)')
    return 0


if __name__ == '__main__':
    sys.exit(main())

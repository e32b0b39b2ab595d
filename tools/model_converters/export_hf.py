"""Export a trained model as an HF transformers folder that ``from_pretrained`` loads.

- PVTv2ImageClassifier -> PvtV2ForImageClassification;
- SegFormer (all-MLP head on PVTv2 or MiT) -> SegformerForSemanticSegmentation, with the
  label names of the config's dataset (or of the checkpoint's dataset_meta);
- GLPN (DepthEstimator with GLPNHead) -> GLPNForDepthEstimation, with its max depth;
- Deformable DETR (plain, refine, two-stage) -> DeformableDetrForObjectDetection with an HF
  PvtV2Backbone (pvtv2_dense/deploy/hf_detr.py says what maps and what is refused).

OUT_DIR gets config.json, model.safetensors and preprocessor_config.json: the HF image processor
that reproduces the config's test pipeline (resize, crop, ImageNet mean/std), so that
transformers.pipeline('image-segmentation' | 'depth-estimation' | 'image-classification' |
'object-detection', model=OUT_DIR) answers what tools/infer.py answers. The folder is loaded
back with from_pretrained and its outputs compared with ours (model(inputs, mode='tensor'))
before it is renamed into place; a difference above --tolerance fails. What transformers'
configs cannot express is refused in one line: linear SRA or qkv_bias=False in Segformer/GLPN.

LayerNorm eps: HF's configs have one eps in every norm (Segformer/GLPN: 1e-5; PvtV2: one
value), our configs the official code's mix (1e-5 in the patch embeddings and the spatial
reduction, 1e-6 elsewhere). Such a model is exported with HF's eps: the measured difference is
printed, and the export fails only above 1e-3 (or --tolerance, if larger). --exact refuses it
instead; a model trained with --cfg-options model.backbone.layer_norm_eps=1e-5 (Segformer,
GLPN) or 1e-6 (PvtV2) exports exactly.

Examples:
    python tools/model_converters/export_hf.py CONFIG CKPT hf/segformer-b0-ade
    python -c "from transformers import SegformerForSemanticSegmentation as S; \\
        S.from_pretrained('hf/segformer-b0-ade')"
"""

import argparse
import sys

from pvtv2_dense.cli import ToolParser, cli_entry, load_config, refuse_overwrite
from pvtv2_dense.deploy.outputs import check_writable


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint that fits the config')
    parser.add_argument('out_dir', help='output folder (absent or empty)')
    parser.add_argument('--tolerance', type=float, default=1e-5, help='largest output difference')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing out_dir')
    parser.add_argument(
        '--exact', action='store_true', help="refuse a LayerNorm eps HF's config cannot express"
    )
    parser.add_cfg_options()
    return parser.parse_args(argv)


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    refuse_overwrite(args.out_dir, 'OUT_DIR', args.overwrite)
    check_writable(args.out_dir, 'OUT_DIR')
    from pvtv2_dense.deploy.hf import export_hf
    from pvtv2_dense.deploy.hf_detr import export_hf_detr, is_deformable_detr
    from pvtv2_dense.deploy.plain import build_plain_model

    cfg = load_config(args.config, args.cfg_options)
    model = build_plain_model(cfg, args.checkpoint, args.config)
    export = export_hf_detr if is_deformable_detr(model) else export_hf
    info = export(model, args.out_dir, args.tolerance, exact=args.exact)
    print(f'wrote {args.out_dir}: {info["hf_class"]}')
    print(f'  max |transformers - ours| = {info["max_diff"]:.2e} (float32)')
    if info['eps_note']:
        print(f'  note: {info["eps_note"]}')
    print(f"  image processor: {info['processor']} (the config's test pipeline)")
    for note in info['processor_notes']:
        print(f'  note: {note}')
    if info['unused']:
        print(f'  kept HF init for {len(info["unused"])} unused keys: {info["unused"][:4]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

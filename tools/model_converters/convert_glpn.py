"""Convert a GLPN checkpoint into a DepthEstimator(PVTv2, GLPNHead) one.

Two layouts, told apart by their keys:
- HF GLPNForDepthEstimation (glpn.*, decoder.stages.*, head.head.*): SRC is an HF model folder
  (config.json + model.safetensors or pytorch_model.bin) or a weights file. With a folder, the
  printed config overrides rebuild the same network in our configs.
- the official GLPDepth code's (vinvino02/GLPDepth: encoder.*, decoder.bot_conv / skip_conv1,2 /
  fusion1-3, last_layer_depth.*, 'module.' prefix allowed): a weights file, for the
  configs/glpn/glpn_mit-b4-pvtv2_* configs as they are (the official eps mix).

Examples:
    python tools/model_converters/convert_glpn.py PATH/glpn-nyu pretrained/glpn_nyu_converted.pth
    python tools/model_converters/convert_glpn.py PATH/glpdepth_nyu.ckpt \\
        pretrained/glpdepth_nyu_converted.pth
    python tools/test.py configs/glpn/glpn_mit-b4-pvtv2_4xb3-25e_nyu-448x576.py \\
        pretrained/glpn_nyu_converted.pth
"""

import argparse
import json
import os.path as osp

from pvtv2_dense.checkpoint import norm_eps_hint, read_state_dict
from pvtv2_dense.checkpoint.glpdepth import glpdepth_to_depth_estimator, is_glpdepth
from pvtv2_dense.checkpoint.hf_glpn import glpn_model_cfg, hf_glpn_to_depth_estimator
from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    cli_entry,
    one_line,
    refuse_overwrite,
    save_torch_atomically,
)
from pvtv2_dense.errors import CheckpointError

_WEIGHTS = ('model.safetensors', 'pytorch_model.bin')


def _resolve(src):
    if not osp.isdir(src):
        return src, None
    weights = next((osp.join(src, w) for w in _WEIGHTS if osp.isfile(osp.join(src, w))), None)
    if weights is None:
        raise CLIError(f'{src} holds none of {_WEIGHTS}')
    config = osp.join(src, 'config.json')
    return weights, config if osp.isfile(config) else None


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='HF model folder or weights file')
    parser.add_argument('dst', help='output .pth (refuses to overwrite unless --overwrite)')
    parser.add_argument(
        '--overwrite',
        '--force',
        action='store_true',
        help='write over dst if it exists (refused otherwise)',
    )
    args = parser.parse_args(argv)
    refuse_overwrite(args.dst, 'dst', args.overwrite)
    weights, config = _resolve(args.src)
    state = read_state_dict(weights)  # its errors name the file already
    fmt = 'glpdepth' if is_glpdepth(state) else 'hf_glpn'
    convert = glpdepth_to_depth_estimator if fmt == 'glpdepth' else hf_glpn_to_depth_estimator
    try:
        ours, ignored = convert(state)
    except CheckpointError as err:  # the keys are not of the expected format
        raise CLIError(
            f'{weights}: {one_line(err)} (expected HF GLPNForDepthEstimation or GLPDepth keys)'
        ) from None
    meta = {'source': osp.basename(osp.normpath(args.src)), 'format': fmt}
    if fmt == 'glpdepth':
        print('layout: official GLPDepth; configs/glpn/glpn_mit-b4-pvtv2_* build its network')
        config = None  # a GLPDepth run folder's config.json (if any) is not HF's
    if config:
        with open(config) as f:
            meta['model_cfg'] = glpn_model_cfg(json.load(f))
        print('model overrides for the config:', json.dumps(meta['model_cfg']))
    print(f'LayerNorm eps: {norm_eps_hint("official" if fmt == "glpdepth" else "hf_segformer")}')
    state = {k: v.contiguous() for k, v in ours.items()}
    save_torch_atomically({'state_dict': state, 'meta': meta}, args.dst)
    print(f'wrote {len(ours)} tensors to {args.dst}; left out {len(ignored)} keys {ignored[:5]}')


if __name__ == '__main__':
    main()

"""Convert a whole SegFormer checkpoint (encoder + all-MLP decode head) into our EncoderDecoder.

Inputs: HF transformers ``SegformerForSemanticSegmentation`` (``model.safetensors`` or
``pytorch_model.bin``, or the folder holding it) or an official NVlabs/SegFormer ``.pth``.
The output loads with ``load_from = 'OUT.pth'`` in a config (or
``model = dict(init_cfg=dict(type='Pretrained', checkpoint='OUT.pth'))``) whose backbone and
``AllMLPHead`` match it: the script prints the widths and class count to put in the config.
Without converting, ``init_cfg=dict(type='Pretrained', checkpoint=HF_FILE)`` on both the backbone
and the decode head also reads the HF/official file directly.

Examples:
    python tools/model_converters/convert_segformer.py segformer-b0-ade/ segformer_b0_ade.pth
    python tools/model_converters/convert_segformer.py segformer.b0.512x512.ade.160k.pth out.pth
"""

import argparse
import os.path as osp

from pvtv2_dense.checkpoint import (
    describe,
    norm_eps_hint,
    read_state_dict,
    segformer_to_pvtv2_dense,
)
from pvtv2_dense.checkpoint.hf_segformer import describe_head
from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    cli_entry,
    one_line,
    refuse_overwrite,
    save_torch_atomically,
)
from pvtv2_dense.errors import CheckpointError

_HF_FILES = ('model.safetensors', 'pytorch_model.bin')


def _resolve(src):
    if not osp.isdir(src):
        return src
    for name in _HF_FILES:
        if osp.isfile(osp.join(src, name)):
            return osp.join(src, name)
    raise CLIError(f'{src} holds none of {_HF_FILES}')


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='input checkpoint file, or an HF model folder')
    parser.add_argument('dst', help='output .pth (refuses to overwrite unless --overwrite)')
    parser.add_argument(
        '--overwrite',
        '--force',
        action='store_true',
        help='write over dst if it exists (refused otherwise)',
    )
    args = parser.parse_args(argv)
    refuse_overwrite(args.dst, 'dst', args.overwrite)
    src = _resolve(args.src)
    state = read_state_dict(src)  # its errors name the file already
    try:
        ours, fmt, ignored = segformer_to_pvtv2_dense(state)
    except CheckpointError as err:  # the keys are not of the expected format
        raise CLIError(f'{src}: {one_line(err)}') from None
    backbone = {k[len('backbone.') :]: v for k, v in ours.items() if k.startswith('backbone.')}
    head = {k[len('decode_head.') :]: v for k, v in ours.items() if k.startswith('decode_head.')}
    meta = {'source': osp.basename(src), 'format': fmt}
    save_torch_atomically(
        {'state_dict': {k: v.contiguous() for k, v in ours.items()}, 'meta': meta}, args.dst
    )
    print(f'{src}: {fmt} format')
    print(f'  backbone: {describe(backbone)}')
    hint = norm_eps_hint(fmt.split('+')[0])
    if hint:
        print(f'  LayerNorm eps: {hint}')
    print(f'  decode head: {describe_head(head)}')
    print(f'wrote {len(ours)} tensors to {args.dst}; left out {len(ignored)} keys {ignored[:5]}')


if __name__ == '__main__':
    main()

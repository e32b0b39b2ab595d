"""HF ``GLPNForDepthEstimation`` weights -> our ``DepthEstimator(PVTv2, GLPNHead)`` weights.

HF's decoder lists its stages deepest first (``decoder.stages.0`` takes the last encoder
level); ours indexes levels shallow to deep like the backbone, so stage ``k`` of ``n`` becomes
level ``n - 1 - k``. The encoder goes through ``to_pvtv2_dense`` (HF Segformer-style keys).
"""

import re

from ..errors import CheckpointError, ConfigError
from .formats import to_pvtv2_dense

_STAGE = re.compile(r'^decoder\.stages\.(\d+)\.(.+)$')
_FUSION_PARTS = [
    (r'^convolutional_layer1\.0\.', 'conv1.conv.'),
    (r'^convolutional_layer1\.1\.', 'conv1.bn.'),
    (r'^convolutional_layer2\.0\.', 'conv2.conv.'),
    (r'^convolutional_layer2\.1\.', 'conv2.bn.'),
    (r'^convolutional_layer3\.', 'attn.'),
]


def _fusion_key(rest: str, key: str) -> str:
    for pattern, repl in _FUSION_PARTS:
        new, n = re.subn(pattern, repl, rest)
        if n:
            return new
    raise CheckpointError(f'HF GLPN key {key!r}: unknown selective-feature-fusion part')


def hf_glpn_to_depth_estimator(state_dict: dict) -> tuple:
    """Convert an HF GLPN state dict (keys ``glpn.*``, ``decoder.*``, ``head.*``).

    Args:
        state_dict (dict): the tensors of ``GLPNForDepthEstimation.state_dict()``.

    Returns:
        tuple[dict, list[str]]: our state dict (``backbone.*``, ``decode_head.*``) and the keys
        that were left out.

    Raises:
        CheckpointError: when the dict holds no GLPN decoder or head keys.
    """
    sd = {k[len('module.') :] if k.startswith('module.') else k: v for k, v in state_dict.items()}
    decoder = {k: v for k, v in sd.items() if k.startswith(('decoder.', 'head.head.'))}
    if not any(k.startswith('decoder.stages.') for k in decoder):
        sample = ', '.join(list(sd)[:5])
        raise CheckpointError(
            f'not an HF GLPNForDepthEstimation state dict (no decoder.stages.* keys); '
            f'first keys: {sample}'
        )
    stages = {int(_STAGE.match(k)[1]) for k in decoder if _STAGE.match(k)}
    n = max(stages) + 1
    out, ignored = {}, []
    for key, value in decoder.items():
        m = _STAGE.match(key)
        if key.startswith('head.head.'):
            out['decode_head.depth_head.' + key[len('head.head.') :]] = value
        elif m and m[2].startswith('convolution.'):
            out[f'decode_head.projections.{n - 1 - int(m[1])}.{m[2][len("convolution.") :]}'] = (
                value
            )
        elif m and m[2].startswith('fusion.'):
            part = _fusion_key(m[2][len('fusion.') :], key)
            out[f'decode_head.fusions.{n - 1 - int(m[1])}.{part}'] = value
        else:
            ignored.append(key)
    encoder = {k: v for k, v in sd.items() if k.startswith('glpn.')}
    backbone, _, enc_ignored = to_pvtv2_dense(encoder)
    out.update({'backbone.' + k: v for k, v in backbone.items()})
    ignored += enc_ignored + [k for k in sd if not k.startswith(('glpn.', 'decoder.', 'head.'))]
    return out, ignored


def glpn_model_cfg(hf_config: dict) -> dict:
    """The ``backbone`` and ``decode_head`` overrides that rebuild an HF GLPN config in ours.

    Args:
        hf_config (dict): the contents of an HF GLPN ``config.json``.
    """
    arch = {
        key: hf_config[key]
        for key in (
            'hidden_sizes',
            'depths',
            'num_attention_heads',
            'mlp_ratios',
            'sr_ratios',
            'patch_sizes',
            'strides',
            'hidden_act',
            'num_encoder_blocks',
        )
        if key in hf_config
    }
    # HF's GLPN builds every LayerNorm with torch's default eps, whatever its config says.
    arch['layer_norm_eps'] = 1e-5
    if hf_config.get('head_in_index', -1) != -1:
        raise ConfigError(
            f'GLPN config head_in_index={hf_config["head_in_index"]}: only -1 (the last decoder '
            'stage, the only one HF trains) is supported'
        )
    return dict(
        backbone=dict(arch=arch),
        decode_head=dict(
            in_channels=list(hf_config['hidden_sizes']),
            channels=int(hf_config.get('decoder_hidden_size', 64)),
            max_depth=float(hf_config.get('max_depth', 10)),
        ),
    )

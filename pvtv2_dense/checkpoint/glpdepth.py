"""Official GLPDepth weights (vinvino02/GLPDepth ``code/models/model.py``) -> our
``DepthEstimator(PVTv2, GLPNHead)`` weights.

GLPDepth's model has an ``encoder`` (SegFormer's MiT, official key names), a ``decoder`` whose
1x1 convs ``bot_conv``, ``skip_conv1`` and ``skip_conv2`` take levels 4, 3 and 2 to the decoder
width (level 1 enters at that width, without a conv), whose fusions ``fusion1..3`` join levels
3, 2 and 1 (each: ``conv1`` and ``conv2`` = Sequential(conv, BN, ReLU), ``conv3`` the 2-channel
conv), and ``last_layer_depth`` = Sequential(conv, ReLU, conv). Our head indexes levels shallow
to deep: ``fusionK`` becomes ``fusions.{3 - K}``.
"""

import re

from ..errors import CheckpointError
from .formats import to_pvtv2_dense

# GLPDepth's test.py strips a 'module.' prefix (DistributedDataParallel) before loading.
_PREFIX = 'module.'
_SIGNATURE = re.compile(r'^(decoder\.(bot_conv|skip_conv\d|fusion\d)\.|last_layer_depth\.)')
_PROJECTIONS = {'bot_conv': 3, 'skip_conv1': 2, 'skip_conv2': 1}
_FUSION_PARTS = {
    'conv1.0': 'conv1.conv',
    'conv1.1': 'conv1.bn',
    'conv2.0': 'conv2.conv',
    'conv2.1': 'conv2.bn',
    'conv3': 'attn',
}


def is_glpdepth(state_dict: dict) -> bool:
    """Whether ``state_dict`` has GLPDepth's decoder or depth-layer key names."""
    return any(_SIGNATURE.match(k.removeprefix(_PREFIX)) for k in state_dict)


def _decoder_key(key: str):
    m = re.match(r'^decoder\.(bot_conv|skip_conv1|skip_conv2)\.(weight|bias)$', key)
    if m:
        return f'decode_head.projections.{_PROJECTIONS[m[1]]}.{m[2]}'
    m = re.match(r'^decoder\.fusion([123])\.(conv[12]\.[01]|conv3)\.(\w+)$', key)
    if m:
        return f'decode_head.fusions.{3 - int(m[1])}.{_FUSION_PARTS[m[2]]}.{m[3]}'
    m = re.match(r'^last_layer_depth\.([02])\.(weight|bias)$', key)  # conv, ReLU, conv
    if m:
        return f'decode_head.depth_head.{m[1]}.{m[2]}'
    return None


def glpdepth_to_depth_estimator(state_dict: dict) -> tuple:
    """Convert a GLPDepth state dict (keys ``encoder.*``, ``decoder.*``, ``last_layer_depth.*``).

    Args:
        state_dict (dict): the tensors of GLPDepth's ``model.state_dict()``.

    Returns:
        tuple[dict, list[str]]: our state dict (``backbone.*``, ``decode_head.*``) and the keys
        that were left out.

    Raises:
        CheckpointError: when the dict holds no GLPDepth decoder keys.
    """
    sd = {k.removeprefix(_PREFIX): v for k, v in state_dict.items()}
    if not is_glpdepth(sd):
        sample = ', '.join(list(sd)[:5])
        raise CheckpointError(
            f'not a GLPDepth state dict (no decoder.bot_conv.*); first keys: {sample}'
        )
    out, ignored = {}, []
    for key, value in sd.items():
        if key.startswith('encoder.'):
            continue
        new = _decoder_key(key)
        if new is None:
            ignored.append(key)
        else:
            out[new] = value
    encoder = {k[len('encoder.') :]: v for k, v in sd.items() if k.startswith('encoder.')}
    backbone, _, enc_ignored = to_pvtv2_dense(encoder, 'official')
    out.update({'backbone.' + k: v for k, v in backbone.items()})
    return out, ignored + ['encoder.' + k for k in enc_ignored]

"""The one init step that loads pretrained weights of any supported format into our models.

Models never import this package: ``pvtv2_dense.models.utils.pretrained`` finds this class in
mmengine's ``WEIGHT_INITIALIZERS`` by name, when a model's ``init_cfg`` is
``dict(type='Pretrained', checkpoint=PATH)``, and calls it with the part the model is.
"""

from mmengine.logging import print_log
from mmengine.registry import WEIGHT_INITIALIZERS

from ..errors import ConfigError
from .classifier import classifier_to_pvtv2_dense
from .formats import to_pvtv2_dense
from .hf_segformer import load_head_pretrained
from .loading import load_pretrained, norm_eps_note

# The name models look this step up by (pvtv2_dense.models.utils.pretrained.PRETRAINED_STEP).
PRETRAINED_STEP = 'PretrainedAnyFormat'


@WEIGHT_INITIALIZERS.register_module(name=PRETRAINED_STEP)
class PretrainedAnyFormat:
    """Load a checkpoint, in any format this package reads, into one part of a model.

    Args:
        checkpoint (str): path, URL or ``hf://`` id of the checkpoint.
        part (str): 'backbone' (a :class:`PVTv2`, keys found by format) or 'decode_head' (an
            ``AllMLPHead``, from a SegFormer checkpoint).
        prefix (str, optional): take only the keys under it (backbone only).
        **kwargs: other keys of mmengine's ``Pretrained`` init config (e.g. ``map_location``),
            which the loaders do not need.

    Raises:
        ConfigError: an unknown ``part``.
    """

    LOADERS = ('backbone', 'decode_head')

    def __init__(self, checkpoint, part='backbone', prefix=None, **kwargs):
        if part not in self.LOADERS:
            raise ConfigError(f'{PRETRAINED_STEP}: part={part!r}; expected one of {self.LOADERS}')
        self.checkpoint = checkpoint
        self.part = part
        self.prefix = prefix

    def __call__(self, module):
        if self.part == 'backbone':
            load_pretrained(module, self.checkpoint, prefix=self.prefix)
        else:
            load_head_pretrained(module, self.checkpoint)

    @staticmethod
    def convert(part, state_dict, layer_norm_eps=None, note=True):
        """Our key names for a released ``part`` checkpoint ('classifier': official, HF or timm
        classifiers); ``state_dict`` itself when it needs no conversion. With ``note``, logs a
        line when the checkpoint's implementation normalises with another LayerNorm eps than
        ``layer_norm_eps``."""
        if part != 'classifier':
            raise ConfigError(f"{PRETRAINED_STEP}: convert part={part!r}; expected 'classifier'")
        converted = classifier_to_pvtv2_dense(state_dict)
        if note and converted is not state_dict:
            fmt = to_pvtv2_dense(state_dict)[1]
            note = norm_eps_note(fmt, layer_norm_eps)
            if note:
                print_log(f'{fmt} classifier checkpoint: {note}', logger='current')
        return converted

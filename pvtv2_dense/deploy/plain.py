"""The model of a config in its plain, published definition, for export.

Shipped configs select checked speed-ups; they branch on device and grad mode and loop over
bands and chunks in Python, which a traced graph would freeze. Export builds the plain
definitions instead (same parameters, same state dict, same outputs): each speed-up named in the
config is replaced by the plain twin the implementation registry names for it
(``pvtv2_dense.models.implementations``), so this module holds no implementation names.
"""

import copy

import torch
from torch import nn

from ..errors import ConfigError, InputError
from ..models.implementations import plain_config


def plain_model_cfg(model_cfg: dict) -> dict:
    """A copy of ``model_cfg`` with every speed-up replaced by its plain twin and no pretrained
    file to read for a PVTv2 backbone (the weights come from the checkpoint).

    Args:
        model_cfg (dict): a config's ``model`` (a segmentor, depth estimator, detector or
            classifier, with a PVTv2 backbone).

    Returns:
        dict: the modified copy.
    """
    cfg = plain_config(copy.deepcopy(dict(model_cfg)))
    backbone = cfg.get('backbone')
    if isinstance(backbone, dict) and backbone.get('type') == 'PVTv2':
        backbone.pop('init_cfg', None)
    return cfg


def build_plain_model(cfg, checkpoint: str, config_path: str = None) -> nn.Module:
    """Build a config's model in its plain definition, in eval mode on the CPU, with the
    checkpoint's weights (checked to fit; see :func:`pvtv2_dense.checkpoint.check_checkpoint`).

    Args:
        cfg (Config): the full config.
        checkpoint (str): the trained weights.
        config_path (str, optional): named in error messages.
    """
    from ..apis.inference import build_model

    cfg = copy.deepcopy(cfg)
    cfg.model = plain_model_cfg(cfg.model)
    try:
        return build_model(cfg, checkpoint, device='cpu', config_path=config_path)
    except InputError:  # names the file or key already
        raise
    except (KeyError, TypeError, ValueError) as err:
        where = config_path or 'the config'
        raise ConfigError(f'cannot build the model of {where}: {err}') from None


class TensorForward(nn.Module):
    """What ``model(inputs, data_samples, mode='tensor')`` computes, as a module of one tensor
    argument (for export, its checks and FLOP counting).

    Every model of the configs is an mmengine ``BaseModel`` (mmseg segmentors and depth
    estimators, mmdet detectors, our classifier); the output is a tensor or a tuple of them.

    Args:
        model (nn.Module): the model, in eval mode.
        data_samples (list, optional): fixed data samples for models whose tensor mode reads
            image metas (mmdet detectors, see :func:`pvtv2_dense.benchmark.dummy.dummy_batch`).
    """

    def __init__(self, model: nn.Module, data_samples=None):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, self.data_samples, mode='tensor')

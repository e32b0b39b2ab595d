"""One registration that serves mmseg and mmdet configs alike.

mmseg and mmdet keep sibling registries under mmengine's root, so a module registered in only one
of them is invisible from the other's default scope. Everything in pvtv2_dense that a config can
name goes through the decorators below, which put it in both, so a single ``type=`` name works
in segmentation, depth and detection configs. mmpretrain's registries (classification) join
the tuples when mmpretrain imports; on the CPU stack it does not (its transforms and metrics need
torchvision, and the only torchvision build for torch 2.13 on the index links CUDA), and the
classification configs use mmengine/mmseg components plus ours instead.
"""

from mmdet import registry as mmdet_registry
from mmseg import registry as mmseg_registry

MODEL_REGISTRIES = (mmseg_registry.MODELS, mmdet_registry.MODELS)
TRANSFORM_REGISTRIES = (mmseg_registry.TRANSFORMS, mmdet_registry.TRANSFORMS)
HOOK_REGISTRIES = (mmseg_registry.HOOKS, mmdet_registry.HOOKS)
DATASET_REGISTRIES = (mmseg_registry.DATASETS, mmdet_registry.DATASETS)
METRIC_REGISTRIES = (mmseg_registry.METRICS, mmdet_registry.METRICS)
PARAM_SCHEDULER_REGISTRIES = (mmseg_registry.PARAM_SCHEDULERS, mmdet_registry.PARAM_SCHEDULERS)

try:
    from mmpretrain import registry as mmpretrain_registry
except Exception:  # noqa: BLE001  (ImportError, or torchvision's own failure to load its ops)
    mmpretrain_registry = None
if mmpretrain_registry is not None:
    MODEL_REGISTRIES += (mmpretrain_registry.MODELS,)
    TRANSFORM_REGISTRIES += (mmpretrain_registry.TRANSFORMS,)
    HOOK_REGISTRIES += (mmpretrain_registry.HOOKS,)
    DATASET_REGISTRIES += (mmpretrain_registry.DATASETS,)
    METRIC_REGISTRIES += (mmpretrain_registry.METRICS,)
    PARAM_SCHEDULER_REGISTRIES += (mmpretrain_registry.PARAM_SCHEDULERS,)


def _register_in(registries, name=None):
    def wrap(cls):
        for registry in registries:
            registry.register_module(name=name, module=cls)
        return cls

    return wrap


def register_model(name=None):
    """Class decorator: register a model component in the mmseg and mmdet MODELS registries."""
    return _register_in(MODEL_REGISTRIES, name)


def register_transform(name=None):
    """Class decorator: register a data transform in the mmseg and mmdet TRANSFORMS registries."""
    return _register_in(TRANSFORM_REGISTRIES, name)


def register_hook(name=None):
    """Class decorator: register a runner hook in the mmseg and mmdet HOOKS registries."""
    return _register_in(HOOK_REGISTRIES, name)


def register_dataset(name=None):
    """Class decorator: register a dataset in the mmseg and mmdet DATASETS registries."""
    return _register_in(DATASET_REGISTRIES, name)


def register_metric(name=None):
    """Class decorator: register an evaluation metric in the mmseg and mmdet METRICS registries."""
    return _register_in(METRIC_REGISTRIES, name)


def register_param_scheduler(name=None):
    """Class decorator: register a parameter scheduler in the mmseg and mmdet PARAM_SCHEDULERS."""
    return _register_in(PARAM_SCHEDULER_REGISTRIES, name)

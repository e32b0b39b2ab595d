"""What the diagnostics read from a config: class names, the ignored label, annotation files."""

from ...errors import ConfigError
from ...registry import DATASET_REGISTRIES


def dataset_classes(cfg) -> tuple:
    """Class names of the config's test dataset, in label order (its ``metainfo`` override, or
    the dataset class's ``METAINFO``)."""
    dataset = cfg.test_dataloader.dataset
    meta = dataset.get('metainfo') or {}
    if meta.get('classes'):
        return tuple(meta['classes'])
    name = str(dataset.get('type', '')).split('.')[-1]
    for registry in DATASET_REGISTRIES:
        cls = registry.get(name)
        if cls is not None and getattr(cls, 'METAINFO', {}).get('classes'):
            return tuple(cls.METAINFO['classes'])
    raise ConfigError(f'test_dataloader.dataset: {name!r} names no classes (set metainfo.classes)')


def ignore_index(cfg) -> int:
    """The label the segmentation head ignores (255 when the config does not say)."""
    head = cfg.get('model', {}).get('decode_head') or {}
    return int(head.get('ignore_index', 255))


def _evaluators(cfg):
    evaluators = cfg.get('test_evaluator') or []
    return evaluators if isinstance(evaluators, list) else [evaluators]


def evaluator_value(cfg, key: str, type_contains: str) -> str:
    """``key`` of the first test evaluator whose type contains ``type_contains``.

    Raises:
        ConfigError: no such evaluator or key (pass the file on the command line instead).
    """
    for evaluator in _evaluators(cfg):
        if type_contains in str(evaluator.get('type', '')) and evaluator.get(key):
            return evaluator[key]
    raise ConfigError(f'test_evaluator: no {type_contains} with {key} in the config; give it')

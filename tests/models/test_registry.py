import pytest
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS as MMSEG_MODELS

from pvtv2_dense.models import PVTv2
from pvtv2_dense.registry import MODEL_REGISTRIES


@pytest.mark.parametrize('scope,registry', [('mmseg', MMSEG_MODELS), ('mmdet', MMDET_MODELS)])
def test_backbone_builds_from_each_scope(scope, registry):
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.build(dict(type='PVTv2', arch='b0', out_indices=(3,)))
    assert isinstance(model, PVTv2)
    assert model.num_features == [256]


def test_every_registered_model_is_in_both_registries():
    names = [set(r.module_dict) for r in MODEL_REGISTRIES]
    ours = {n for n, cls in MMSEG_MODELS.module_dict.items() if cls.__module__.startswith('pvtv2')}
    assert 'PVTv2' in ours
    for registry_names in names:
        assert ours <= registry_names


def test_classification_builds_from_mmpretrain_scope_where_it_imports():
    """mmpretrain joins the registries when it imports (not on the CPU stack: torchvision)."""
    mmpretrain_registry = pytest.importorskip('mmpretrain.registry')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = mmpretrain_registry.MODELS.build(dict(type='PVTv2', arch='b0', out_indices=(3,)))
    assert isinstance(model, PVTv2)


def test_classification_components_are_in_every_registry():
    from pvtv2_dense import registry

    names = {
        registry.MODEL_REGISTRIES: ('PVTv2ImageClassifier', 'ClsDataPreprocessor'),
        registry.DATASET_REGISTRIES: ('ImageNetFolder',),
        registry.TRANSFORM_REGISTRIES: ('CheckedLoadImage', 'ClsRandAugment', 'PackClsInputs'),
        registry.METRIC_REGISTRIES: ('ClsAccuracy',),
        registry.PARAM_SCHEDULER_REGISTRIES: ('DeiTCosineLR',),
    }
    for registries, wanted in names.items():
        for r in registries:
            assert set(wanted) <= set(r.module_dict), (r.name, wanted)

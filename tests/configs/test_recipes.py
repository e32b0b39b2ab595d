"""Our recipes against the ones shipped inside the installed mmseg and mmdet wheels.

Every field the Runner reads (model, optimizer and paramwise rules, lr schedulers, loops, data
loaders and their pipelines, evaluators, test-time settings, losses, matcher, hooks) is compared
leaf by leaf. A difference fails unless it is listed below, once, with its reason; a listed
difference that no longer occurs fails too, so the list stays the list of what really differs.
The helper variables of a config (``crop_size``, ``train_pipeline``, ``checkpoint``...) are not
compared: only what they feed into is.
"""

import os
import os.path as osp
import re

import mmdet
import mmseg
import pytest
from mmengine.config import Config

from tests.helpers.common import ROOT

MMSEG_CONFIGS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')
MMDET_CONFIGS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')

# What the Runner reads from a config.
RECIPE_KEYS = ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg', 'test_cfg',
               'auto_scale_lr', 'train_dataloader', 'val_dataloader', 'test_dataloader',
               'val_evaluator', 'test_evaluator', 'tta_model', 'tta_pipeline', 'default_hooks',
               'custom_hooks', 'env_cfg', 'randomness', 'log_processor', 'log_level', 'load_from',
               'resume', 'default_scope')  # fmt: skip

# Our transforms that check a sample and change nothing: left out before pipelines are compared.
CHECK_ONLY_TRANSFORMS = ('CheckSegAnnotation',)

# Both families: the backbone is PVTv2(arch=...), whose structure is checked against the papers
# and the reference implementations in tests/models/test_backbone*.py and
# tests/models/test_float64_parity.py.
BACKBONE = {
    'model.backbone.*': 'type=PVTv2 with arch=... replaces MixVisionTransformer / ResNet-50; '
    'the architecture is tested against the references elsewhere (drop_path_rate is compared)',
}
RNG_HOOK = {
    'custom_hooks': 'TorchRNGStateHook: checkpoints keep torch RNG state so --resume is exact',
}
SEG_RUNTIME = {
    'env_cfg.cudnn_benchmark': 'a speed switch, not part of the recipe: ours keeps cuDNN '
    'deterministic by default (reproducible runs and resumes); set it to True for speed',
    'train_dataloader.num_workers': 'loader processes: throughput, not the recipe',
}
SEGFORMER = {
    **BACKBONE,
    **RNG_HOOK,
    **SEG_RUNTIME,
    'model.pretrained': "mmseg's legacy `pretrained=None` field; ours loads weights only "
    'through backbone.init_cfg',
    'model.decode_head.type': "FoldedAllMLPHead is SegFormer's published all-MLP decoder "
    "(NVlabs/SegFormer's SegFormerHead: per-stage linear embeddings, then the fuse conv), with "
    "the fuse conv folded into the embeddings; mmseg's SegformerHead puts a conv + BN + ReLU on "
    'every stage before fusing, which is not the published design',
    'model.decode_head.loss_decode.type': "FusedCrossEntropyLoss: mmseg's CrossEntropyLoss "
    '(same values, gradients and options) without the full-size log-softmax buffer',
    'model.decode_head.channels': 'the embedding width C of the all-MLP decoder is 256 for '
    "B0/B1 and 768 for B2-B5 in the SegFormer paper and NVlabs/SegFormer's configs; mmseg "
    'keeps 256 for every size',
    'tta_pipeline[1].transforms[2][0].reduce_zero_label': 'stated; mmseg leaves it to '
    "ADE20KDataset's reduce_zero_label=True, the same",
    '*_dataloader.dataset.data_root': "'data/cityscapes' without the trailing slash: the "
    'same folder',
    'model.decode_head.norm_cfg.type': 'LocalSyncBN is SyncBN in multi-process GPU runs and '
    'BN in one process (SyncBN fails there)',
    '*_dataloader.dataset.type': 'Checked{ADE20K,Cityscapes}Dataset: mmseg datasets that '
    'fail on a missing or mismatched label file with one line naming it',
    'auto_scale_lr': "mmseg's configs have none; ours states the recipe's batch (16 on ADE20K, "
    '8 on Cityscapes) so --auto-scale-lr scales the lr from it; disabled by default',
}
DEFORMABLE_DETR = {
    **BACKBONE,
    **RNG_HOOK,
    'model.neck.in_channels*': "the widths of PVTv2 stages 1-3, which replace ResNet-50's "
    'C3-C5 (same strides 8, 16, 32)',
    '*_dataloader.dataset.type': "CheckedCocoDataset: mmdet's CocoDataset that fails on a "
    'malformed annotation with one line naming the file and annotation id',
    '*_dataloader.dataset.pipeline[0].color_type': "mmcv's default ('color') stated: grayscale "
    'and RGBA files decode to 3-channel BGR; same behaviour',
    'auto_scale_lr.enable': "mmdet's default (disabled) stated; base_batch_size is compared",
}
BACKBONE_DROP_PATH = 'model.backbone.drop_path_rate'
DETR_DROP_PATH = 0.1  # whai362/PVT v2's detection/pvt_v2.py (every size); ResNet has none


def _load(path):
    cfg = Config.fromfile(path, import_custom_modules=False).to_dict()
    return {key: cfg[key] for key in RECIPE_KEYS if key in cfg}


def _drop_checks(node):
    """``node`` with every check-only transform left out of every list of transforms in it."""
    if isinstance(node, dict):
        return {k: _drop_checks(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        kept = [x for x in node if not (isinstance(x, dict) and x.get('type') in
                                        CHECK_ONLY_TRANSFORMS)]  # fmt: skip
        # A TestTimeAug branch that held only a check goes with it.
        return [_drop_checks(x) for x in kept if not (isinstance(x, list) and x and
                                                      not _drop_checks(x))]  # fmt: skip
    return node


def _leaf_diff(ours, theirs, path=''):
    """{dotted path: (ours, theirs)} for every leaf where the two configs differ."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = {}
        for key in sorted(set(ours) | set(theirs), key=str):
            sub = f'{path}.{key}' if path else str(key)
            if key not in ours or key not in theirs:
                out[sub] = (ours.get(key, '<absent>'), theirs.get(key, '<absent>'))
            else:
                out.update(_leaf_diff(ours[key], theirs[key], sub))
        return out
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)):
        if len(ours) != len(theirs):
            return {path: (ours, theirs)}
        out = {}
        for i, (a, b) in enumerate(zip(ours, theirs)):
            out.update(_leaf_diff(a, b, f'{path}[{i}]'))
        return out
    return {} if ours == theirs else {path: (ours, theirs)}


def _matches(path, pattern):
    """Whether a dotted path matches a listed one, where only ``*`` is a wildcard."""
    return re.fullmatch(re.escape(pattern).replace(r'\*', '.*'), path) is not None


def _unexplained(ours_path, theirs_path, intended, used):
    ours, theirs = _drop_checks(_load(ours_path)), _load(theirs_path)
    diff = _leaf_diff(ours, theirs)
    unexplained = {}
    for path, values in diff.items():
        matches = [p for p in intended if _matches(path, p)]
        if path == BACKBONE_DROP_PATH or not matches:
            unexplained[path] = values
        used.update(matches)
    return ours, unexplained


def _pairs(ours_dir, theirs_dir, names):
    return [(osp.join(ROOT, 'configs', ours_dir, a), osp.join(theirs_dir, b)) for a, b in names]


SEG = osp.join(MMSEG_CONFIGS, 'segformer')
_SIZES = ('b0', 'b1', 'b2', 'b3', 'b4', 'b5')
_ADE640 = 'segformer_{}_8xb2-160k_ade20k-640x640.py'
_SEG_TASKS = ('8xb2-160k_ade20k-512x512', '8xb1-160k_cityscapes-1024x1024')
MIT_PAIRS = _pairs('segformer', SEG, [
    *[(f'segformer_mit-{b}_{t}.py',) * 2 for b in _SIZES for t in _SEG_TASKS],
    (_ADE640.format('mit-b5'),) * 2,
])  # fmt: skip
PVTV2_SEG_PAIRS = _pairs('segformer', SEG, [
    *[(f'segformer_pvtv2-{b}_{t}.py', f'segformer_mit-{b[:2]}_{t}.py')
      for b in (*_SIZES, 'b2-li') for t in _SEG_TASKS],
    (_ADE640.format('pvtv2-b5'), _ADE640.format('mit-b5')),
])  # fmt: skip
_DETR = ('deformable-detr', 'deformable-detr-refine', 'deformable-detr-refine-twostage')
DETR_PAIRS = _pairs('deformable_detr', osp.join(MMDET_CONFIGS, 'deformable_detr'), [
    (f'{v}_pvtv2-{b}_16xb2-50e_coco.py', f'{v}_r50_16xb2-50e_coco.py')
    for v in _DETR for b in (*_SIZES, 'b2-li')
])  # fmt: skip
DETR_PAIRS_OURS = {ours for ours, _ in DETR_PAIRS}


@pytest.mark.parametrize(
    ('pairs', 'intended'),
    [(MIT_PAIRS, SEGFORMER), (PVTV2_SEG_PAIRS, SEGFORMER), (DETR_PAIRS, DEFORMABLE_DETR)],
    ids=['segformer-mit', 'segformer-pvtv2', 'deformable-detr'],
)
def test_recipes_match_the_wheels_but_for_the_listed_differences(pairs, intended):
    used, failures = set(), []
    for ours_path, theirs_path in pairs:
        assert osp.isfile(ours_path) and osp.isfile(theirs_path), (ours_path, theirs_path)
        ours, unexplained = _unexplained(ours_path, theirs_path, intended, used)
        if ours_path in DETR_PAIRS_OURS:  # ResNet-50 has no drop path; PVTv2's recipe has 0.1
            assert ours['model']['backbone']['drop_path_rate'] == DETR_DROP_PATH, ours_path
            unexplained.pop(BACKBONE_DROP_PATH, None)
        failures += [f'{osp.basename(ours_path)}: {p}: ours {a!r}, {osp.basename(theirs_path)} '
                     f'{b!r}' for p, (a, b) in unexplained.items()]  # fmt: skip
    assert not failures, 'unlisted differences from the wheel recipes:\n' + '\n'.join(failures)
    assert used == set(intended), f'listed differences that no longer occur: {set(intended) - used}'


def test_every_segformer_and_detr_config_is_compared():
    compared = {osp.basename(o) for o, _ in (*MIT_PAIRS, *PVTV2_SEG_PAIRS, *DETR_PAIRS)}
    for sub in ('segformer', 'deformable_detr'):
        shipped = {n for n in os.listdir(osp.join(ROOT, 'configs', sub)) if n.endswith('.py')}
        assert shipped <= compared, f'configs/{sub} not compared: {sorted(shipped - compared)}'


def test_the_comparison_sees_a_drifted_field(tmp_path):
    """A recipe changed in one leaf is reported at that leaf, and only there."""
    ours_path, theirs_path = MIT_PAIRS[0]
    drifted = tmp_path / 'drifted.py'
    drifted.write_text(
        f'_base_ = [{ours_path!r}]\n'
        'optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))\n'
        "train_dataloader = dict(dataset=dict(pipeline=[dict(type='LoadImageFromFile')]))\n"
    )
    _, unexplained = _unexplained(str(drifted), theirs_path, SEGFORMER, set())
    assert set(unexplained) == {
        'optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult',
        'train_dataloader.dataset.pipeline',
    }

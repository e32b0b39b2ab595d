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
RECIPE_KEYS = (
    'model',
    'optim_wrapper',
    'param_scheduler',
    'train_cfg',
    'val_cfg',
    'test_cfg',
    'auto_scale_lr',
    'train_dataloader',
    'val_dataloader',
    'test_dataloader',
    'val_evaluator',
    'test_evaluator',
    'tta_model',
    'tta_pipeline',
    'default_hooks',
    'custom_hooks',
    'env_cfg',
    'randomness',
    'log_processor',
    'log_level',
    'load_from',
    'resume',
    'default_scope',
)

# Our transforms that check a sample and change nothing: left out before pipelines are compared.
CHECK_ONLY_TRANSFORMS = ('CheckSegAnnotation',)
# Transforms our recipes add on purpose: taken out of our pipelines before the comparison and
# reported as '<pipeline path>+<type>', a difference the intended list then has to name.
ADDED_TRANSFORMS = ('ResizeToMultiple',)

# Both families: the backbone is PVTv2(arch=...), whose structure is checked against the papers
# and the reference implementations in tests/models/test_backbone*.py and
# tests/models/test_float64_parity.py.
BACKBONE = {
    'model.backbone.*': 'type=PVTv2 with arch=... replaces MixVisionTransformer / ResNet-50; '
    'the architecture is tested against the references elsewhere (drop_path_rate is compared)',
}
RNG_HOOK = {
    'custom_hooks': 'TorchRNGStateHook: checkpoints keep torch RNG state so --resume is exact',
    'default_hooks.checkpoint.type': "SafeCheckpointHook: mmengine's CheckpointHook (same "
    'options) whose saves survive a kill (temporary file, fsync, rename; the older checkpoint '
    'removed last), docs/reliability.md',
}
SEG_RUNTIME = {
    'env_cfg.cudnn_benchmark': 'a speed switch, not part of the recipe: ours keeps cuDNN '
    'deterministic by default (reproducible runs and resumes); set it to True for speed',
    'train_dataloader.num_workers': 'loader processes: throughput, not the recipe',
}
_ALIGNED = (
    "NVlabs/SegFormer's ADE20K test resize (AlignedResize) and whai362/PVTv2-Seg's (AlignResize): "
    'the keep-ratio resize, then a bilinear resize up to the next multiple of 32, the pixels '
    "mmseg's ResizeToMultiple gives after Resize (tests/configs/test_aligned_test_resize.py); "
    "mmseg's configs stop after the first resize, which costs 0.5-1.0 mIoU (mmseg issue #2435)"
)
ALIGNED_TEST_RESIZE = {
    'val_dataloader.dataset.pipeline+ResizeToMultiple': _ALIGNED,
    'test_dataloader.dataset.pipeline+ResizeToMultiple': _ALIGNED,
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
    **ALIGNED_TEST_RESIZE,
}
_REALTIME = (
    "NVlabs/SegFormer's real-time B0 Cityscapes configs (segformer.b0.{512x1024,640x1280,768x768}"
    '.city.160k.py): smaller crops of frames resized around a smaller scale, tested at that scale '
    '(whole image; 768x768 by 768-pixel windows); mmseg ships only the 1024x1024 one'
)
_NOT_IN_B0_CITYSCAPES = (
    'model.decode_head.channels',  # 256 for B0 in both
    'train_dataloader.num_workers',
    'tta_pipeline[1].transforms[2][0].reduce_zero_label',  # an ADE20K setting
    *ALIGNED_TEST_RESIZE,
)
SEGFORMER_REALTIME = {
    **{k: v for k, v in SEGFORMER.items() if k not in _NOT_IN_B0_CITYSCAPES},
    'model.data_preprocessor.size*': _REALTIME,
    'model.test_cfg*': _REALTIME,
    'train_dataloader.dataset.pipeline[2].scale*': _REALTIME,
    'train_dataloader.dataset.pipeline[3].crop_size*': _REALTIME,
    '*_dataloader.dataset.pipeline[1].scale*': _REALTIME,
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
    'model.type': "DeformableDETRMSDA: mmdet's DeformableDETR (same arguments and parameters) "
    'whose deformable attention kernel is chosen by msda_impl (docs/extending.md)',
    'model.msda_impl': "'auto': the lean kernel on the CPU, mmcv's own on a GPU; equal to "
    "mmcv's in float64 (tests/models/test_lean_msda.py)",
    '*_evaluator.type': "FastCocoMetric: mmdet's CocoMetric computed by faster-coco-eval, "
    'equal to pycocotools to 1e-4 (tests/evaluation/test_fast_metrics.py)',
    'tta_model': "test-time augmentation (tools/test.py --tta), mmdet's DetTTAModel; not used "
    'unless asked for',
    'tta_pipeline': 'the flip and three-scale pipeline of --tta (configs/_base_/tta/)',
}
COCO_DATA = {
    '*_dataloader.dataset.type': DEFORMABLE_DETR['*_dataloader.dataset.type'],
    '*_evaluator.type': DEFORMABLE_DETR['*_evaluator.type'],
    '*_dataloader.dataset.pipeline[0].color_type': DEFORMABLE_DETR[
        '*_dataloader.dataset.pipeline[0].color_type'
    ],
}
# RetinaNet against mmdet's configs/pvt (the same recipe, whai362/PVT's, ported by mmdet).
RETINANET = {**BACKBONE, **RNG_HOOK, **COCO_DATA}
_PVT_NECK = {
    'model.neck.in_channels*': "the widths of PVTv2's four stages replace ResNet-50's (same "
    'strides 4-32)'
}
_B4_B5_BATCH = (
    'b4 and b5: 8 GPUs x 1 image with the lr / 1.4, as whai362/PVT trained them (and as mmdet '
    'ports it for RetinaNet b4/b5)'
)
_BATCH_1 = {
    'train_dataloader.batch_size': _B4_B5_BATCH,
    'train_dataloader.num_workers': _B4_B5_BATCH,
    'auto_scale_lr.base_batch_size': _B4_B5_BATCH,
}
# Mask R-CNN 1x against mmdet's R50 1x: whai362/PVT changes the backbone and the optimizer only.
MASK_RCNN = {
    **BACKBONE,
    **RNG_HOOK,
    **COCO_DATA,
    **_PVT_NECK,
    **_BATCH_1,
    'optim_wrapper.optimizer.*': "whai362/PVT's Mask R-CNN optimizer: AdamW lr 2e-4 (/ 1.4 for "
    "b4, b5), weight decay 1e-4, replaces mmdet's SGD 0.02 for ResNet",
}
# Mask R-CNN 3x multi-scale + crop against mmdet's Swin-T recipe of the same augmentation.
MASK_RCNN_3X = {
    **BACKBONE,
    **RNG_HOOK,
    **COCO_DATA,
    **_PVT_NECK,
    'param_scheduler[0].end': "500 warmup iterations: the official configs inherit mmdet 2.13's "
    "schedule_1x; mmdet's Swin 3x warms up for 1000",
    'optim_wrapper.type': 'b2-li: AmpOptimWrapper, for the apex fp16 the official b2-li run used',
}
# ATSS / GFL 3x multi-scale + crop against mmdet's R-50 1x recipes of the same detectors.
_OFFICIAL_3X = (
    "whai362/PVT's 3x recipe: DETR's multi-scale + crop augmentation, AdamW lr 1e-4, weight decay "
    '0.05, no decay on norms, 36 epochs with steps at 27 and 33, mixed precision (apex fp16 in the '
    "official runs), replacing mmdet's 1x single-scale SGD recipe for ResNet"
)
DENSE_3X = {
    **BACKBONE,
    **RNG_HOOK,
    **COCO_DATA,
    **_PVT_NECK,
    'train_dataloader.dataset.pipeline[2]*': _OFFICIAL_3X,
    'train_dataloader.dataset.pipeline[3]*': _OFFICIAL_3X,
    'optim_wrapper.*': _OFFICIAL_3X,
    'train_cfg.max_epochs': _OFFICIAL_3X,
    'param_scheduler[1].*': _OFFICIAL_3X,
}
# Sparse R-CNN against mmdet's R-50 recipe of the same schedule and augmentation.
SPARSE_RCNN = {
    **BACKBONE,
    **RNG_HOOK,
    **COCO_DATA,
    **_PVT_NECK,
    'optim_wrapper.optimizer.lr': "b2: 8 GPUs x 1 image with lr 2.5e-5 / 1.4, as whai362/PVT's "
    'b2 config (its b2-li config keeps 8 x 2 and 2.5e-5, as mmdet)',
    'train_dataloader.batch_size': 'b2: 8 GPUs x 1 image, as the official b2 config',
    'train_dataloader.num_workers': 'b2: one loader process per GPU, as the official b2 config',
    'auto_scale_lr.base_batch_size': 'b2: the batch of 8 its lr is for',
}
# Semantic FPN against mmseg's R50 recipe on ADE20K (160k, SGD: mmseg has no 40k ADE20K one).
_SEMFPN_SCHEDULE = (
    "whai362/PVTv2-Seg's schedule: 40k iterations of 8 GPUs x 4 images, AdamW lr 2e-4, weight "
    "decay 1e-4, poly 0.9 to 0, evaluation and checkpoints every 4k; mmseg's R50 recipe is 160k "
    'iterations of 4 x 4 with SGD 0.01 to 1e-4'
)
SEM_FPN = {
    **BACKBONE,
    **RNG_HOOK,
    'env_cfg.cudnn_benchmark': SEG_RUNTIME['env_cfg.cudnn_benchmark'],
    **ALIGNED_TEST_RESIZE,
    **_PVT_NECK,
    **{
        k: SEGFORMER[k]
        for k in (
            'model.pretrained',
            'model.decode_head.norm_cfg.type',
            '*_dataloader.dataset.type',
            'tta_pipeline[1].transforms[2][0].reduce_zero_label',
        )
    },
    'optim_wrapper.optimizer.*': _SEMFPN_SCHEDULE,
    'param_scheduler[0].e*': _SEMFPN_SCHEDULE,
    'train_cfg.*': _SEMFPN_SCHEDULE,
    'default_hooks.checkpoint.interval': _SEMFPN_SCHEDULE,
    'auto_scale_lr': "mmseg's configs have none; ours states the recipe's batch (32) so "
    '--auto-scale-lr scales the lr from it; disabled by default',
}
# Cascade Mask R-CNN 4conv1fc-GIoU 3x against mmdet's ConvNeXt-T recipe of the same heads,
# augmentation and mixed precision (whai362/PVT's and mmdet's configs share the heads verbatim).
CASCADE_3X = {
    **BACKBONE,
    **RNG_HOOK,
    **COCO_DATA,
    **_PVT_NECK,
    'model.roi_head.bbox_head[*].norm_cfg.type': 'LocalSyncBN is the official SyncBN in '
    'multi-process GPU runs and BN in one process (SyncBN fails there)',
    'optim_wrapper.optimizer.lr': _OFFICIAL_3X,
    'optim_wrapper.constructor': "whai362/PVT's optimizer has no layer-wise lr decay (ConvNeXt's "
    "LearningRateDecayOptimizerConstructor, which needs mmpretrain's ConvNeXt layer names)",
    'optim_wrapper.paramwise_cfg.*': _OFFICIAL_3X,
    'param_scheduler[0].end': MASK_RCNN_3X['param_scheduler[0].end'],
}
BACKBONE_DROP_PATH = 'model.backbone.drop_path_rate'
# whai362/PVT's detection/pvt_v2.py and whai362/PVTv2-Seg's pvtv2.py build every size with drop
# path 0.1; ResNet has none, and mmdet's configs/pvt leave it to the backbone's default (0.1).
DENSE_DROP_PATH = 0.1


def _load(path):
    cfg = Config.fromfile(path, import_custom_modules=False).to_dict()
    return {key: cfg[key] for key in RECIPE_KEYS if key in cfg}


def _drop_checks(node):
    """``node`` with every check-only transform left out of every list of transforms in it."""
    if isinstance(node, dict):
        return {k: _drop_checks(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        kept = [
            x for x in node if not (isinstance(x, dict) and x.get('type') in CHECK_ONLY_TRANSFORMS)
        ]
        # A TestTimeAug branch that held only a check goes with it.
        return [
            _drop_checks(x) for x in kept if not (isinstance(x, list) and x and not _drop_checks(x))
        ]
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


def _take_added(node, path, found):
    """``node`` without the added transforms; ``found`` gets '<list path>+<type>' for each."""
    if isinstance(node, dict):
        return {
            k: _take_added(v, f'{path}.{k}' if path else str(k), found) for k, v in node.items()
        }
    if isinstance(node, (list, tuple)):
        kept = []
        for x in node:
            if isinstance(x, dict) and x.get('type') in ADDED_TRANSFORMS:
                found.add(f'{path}+{x["type"]}')
            else:
                kept.append(x)
        return [_take_added(x, f'{path}[{i}]', found) for i, x in enumerate(kept)]
    return node


def _unexplained(ours_path, theirs_path, intended, used):
    added = set()
    ours = _take_added(_drop_checks(_load(ours_path)), '', added)
    theirs = _load(theirs_path)
    diff = {**_leaf_diff(ours, theirs), **{p: ('<added>', '<absent>') for p in added}}
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
MIT_PAIRS = _pairs(
    'segformer',
    SEG,
    [
        *[(f'segformer_mit-{b}_{t}.py',) * 2 for b in _SIZES for t in _SEG_TASKS],
        (_ADE640.format('mit-b5'),) * 2,
    ],
)
PVTV2_SEG_PAIRS = _pairs(
    'segformer',
    SEG,
    [
        *[
            (f'segformer_pvtv2-{b}_{t}.py', f'segformer_mit-{b[:2]}_{t}.py')
            for b in (*_SIZES, 'b2-li')
            for t in _SEG_TASKS
        ],
        (_ADE640.format('pvtv2-b5'), _ADE640.format('mit-b5')),
    ],
)
REALTIME_PAIRS = _pairs(
    'segformer',
    SEG,
    [
        (f'segformer_mit-b0_8xb1-160k_cityscapes-{c}.py', f'segformer_mit-b0_{_SEG_TASKS[1]}.py')
        for c in ('512x1024', '640x1280', '768x768')
    ],
)
_DETR = ('deformable-detr', 'deformable-detr-refine', 'deformable-detr-refine-twostage')
DETR_PAIRS = _pairs(
    'deformable_detr',
    osp.join(MMDET_CONFIGS, 'deformable_detr'),
    [
        (f'{v}_pvtv2-{b}_16xb2-50e_coco.py', f'{v}_r50_16xb2-50e_coco.py')
        for v in _DETR
        for b in (*_SIZES, 'b2-li')
    ],
)
_VARIANTS = (*_SIZES, 'b2-li')
_B2S = ('b2', 'b2-li')  # the official repo's advanced detectors come for these two
# mmdet ships RetinaNet for b0-b5: b2-li (linear SRA, same widths) is compared with b2.
RETINANET_PAIRS = _pairs(
    'retinanet',
    osp.join(MMDET_CONFIGS, 'pvt'),
    [
        (f'retinanet_pvtv2-{b}_fpn_1x_coco.py', f'retinanet_pvtv2-{b[:2]}_fpn_1x_coco.py')
        for b in _VARIANTS
    ],
)
MASK_RCNN_PAIRS = _pairs(
    'mask_rcnn',
    osp.join(MMDET_CONFIGS, 'mask_rcnn'),
    [(f'mask-rcnn_pvtv2-{b}_fpn_1x_coco.py', 'mask-rcnn_r50_fpn_1x_coco.py') for b in _VARIANTS],
)
MASK_RCNN_3X_PAIRS = _pairs(
    'mask_rcnn',
    osp.join(MMDET_CONFIGS, 'swin'),
    [
        (
            f'mask-rcnn_pvtv2-{b}_fpn_ms-crop-3x_coco.py',
            'mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py',
        )
        for b in ('b2', 'b2-li')
    ],
)
DENSE_3X_PAIRS = [
    *_pairs(
        'atss',
        osp.join(MMDET_CONFIGS, 'atss'),
        [(f'atss_pvtv2-{b}_fpn_ms-crop-3x_coco.py', 'atss_r50_fpn_1x_coco.py') for b in _B2S],
    ),
    *_pairs(
        'gfl',
        osp.join(MMDET_CONFIGS, 'gfl'),
        [(f'gfl_pvtv2-{b}_fpn_ms-crop-3x_coco.py', 'gfl_r50_fpn_1x_coco.py') for b in _B2S],
    ),
]
SPARSE_RCNN_PAIRS = _pairs(
    'sparse_rcnn',
    osp.join(MMDET_CONFIGS, 'sparse_rcnn'),
    [
        (
            f'sparse-rcnn_pvtv2-{b}_fpn_300-proposals_crop-ms-480-800-3x_coco.py',
            'sparse-rcnn_r50_fpn_300-proposals_crop-ms-480-800-3x_coco.py',
        )
        for b in _B2S
    ],
)
CASCADE_3X_PAIRS = _pairs(
    'cascade_mask_rcnn',
    osp.join(MMDET_CONFIGS, 'convnext'),
    [
        (
            f'cascade-mask-rcnn_pvtv2-{b}_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',
            'cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',
        )
        for b in _B2S
    ],
)
SEM_FPN_PAIRS = _pairs(
    'sem_fpn',
    osp.join(MMSEG_CONFIGS, 'sem_fpn'),
    [
        (f'fpn_pvtv2-{b}_8xb4-40k_ade20k-512x512.py', 'fpn_r50_4xb4-160k_ade20k-512x512.py')
        for b in _VARIANTS
    ],
)
# Pairs whose peer states no drop path (ResNet has none; mmdet's PVTv2 has it by default).
DROP_PATH_STATED_BY_US = {
    ours
    for pairs in (
        DETR_PAIRS,
        RETINANET_PAIRS,
        MASK_RCNN_PAIRS,
        MASK_RCNN_3X_PAIRS,
        CASCADE_3X_PAIRS,
        DENSE_3X_PAIRS,
        SPARSE_RCNN_PAIRS,
        SEM_FPN_PAIRS,
    )
    for ours, _ in pairs
}
COMPARED = {
    'segformer-mit': (MIT_PAIRS, SEGFORMER),
    'segformer-pvtv2': (PVTV2_SEG_PAIRS, SEGFORMER),
    'segformer-realtime': (REALTIME_PAIRS, SEGFORMER_REALTIME),
    'deformable-detr': (DETR_PAIRS, DEFORMABLE_DETR),
    'retinanet': (RETINANET_PAIRS, RETINANET),
    'mask-rcnn': (MASK_RCNN_PAIRS, MASK_RCNN),
    'mask-rcnn-3x': (MASK_RCNN_3X_PAIRS, MASK_RCNN_3X),
    'cascade-mask-rcnn-3x': (CASCADE_3X_PAIRS, CASCADE_3X),
    'atss-gfl-3x': (DENSE_3X_PAIRS, DENSE_3X),
    'sparse-rcnn': (SPARSE_RCNN_PAIRS, SPARSE_RCNN),
    'sem-fpn': (SEM_FPN_PAIRS, SEM_FPN),
}


@pytest.mark.parametrize(('pairs', 'intended'), COMPARED.values(), ids=COMPARED.keys())
def test_recipes_match_the_wheels_but_for_the_listed_differences(pairs, intended):
    used, failures = set(), []
    for ours_path, theirs_path in pairs:
        assert osp.isfile(ours_path) and osp.isfile(theirs_path), (ours_path, theirs_path)
        ours, unexplained = _unexplained(ours_path, theirs_path, intended, used)
        if ours_path in DROP_PATH_STATED_BY_US:
            assert ours['model']['backbone']['drop_path_rate'] == DENSE_DROP_PATH, ours_path
            unexplained.pop(BACKBONE_DROP_PATH, None)
        failures += [
            f'{osp.basename(ours_path)}: {p}: ours {a!r}, {osp.basename(theirs_path)} {b!r}'
            for p, (a, b) in unexplained.items()
        ]
    assert not failures, 'unlisted differences from the wheel recipes:\n' + '\n'.join(failures)
    assert used == set(intended), f'listed differences that no longer occur: {set(intended) - used}'


def test_every_recipe_config_is_compared():
    compared = {osp.basename(o) for pairs, _ in COMPARED.values() for o, _ in pairs}
    subs = (
        'segformer',
        'deformable_detr',
        'retinanet',
        'mask_rcnn',
        'cascade_mask_rcnn',
        'atss',
        'gfl',
        'sparse_rcnn',
        'sem_fpn',
    )
    for sub in subs:
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

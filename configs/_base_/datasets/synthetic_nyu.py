# Synthetic indoor scenes in mmseg's NYU layout (pvtv2_dense.datasets.generate_nyu): 64x64,
# uint16 depth in mm. The NYU recipe's augmentations except its crop (the frames are already
# the crop's size), iteration-based, evaluated on the whole frame.
_base_ = ['./nyu_448x576.py']
data_root = 'data/synthetic/nyu'
crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='VerticalCutDepth', prob=0.25, p=0.75, max_depth={{_base_.max_depth}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='DepthPhotometric', prob=0.5),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(data_root=data_root, pipeline=train_pipeline),
)
val_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(crop_type=None)
test_evaluator = val_evaluator

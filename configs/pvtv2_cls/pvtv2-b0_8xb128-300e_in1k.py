# PVTv2-b0 on ImageNet-1K at 224, the official recipe (whai362/PVT classification/, DeiT-style).
_base_ = [
    '../_base_/models/pvtv2-b0_in1k.py',
    '../_base_/datasets/imagenet_bs128.py',
    '../_base_/schedules/schedule_in1k_300e.py',
    '../_base_/default_runtime_cls.py',
]
# Repeated augmentation, on as in the official main.py (--repeated-aug): across GPUs each image is
# read three times per epoch with its own augmentation; one process shuffles as DefaultSampler.
train_dataloader = dict(sampler=dict(type='RepeatAugSampler', shuffle=True, num_repeats=3))

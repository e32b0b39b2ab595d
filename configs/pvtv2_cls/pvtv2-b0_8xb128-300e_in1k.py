# PVTv2-b0 on ImageNet-1K at 224, the official recipe (whai362/PVT classification/, DeiT-style).
_base_ = [
    '../_base_/models/pvtv2-b0_in1k.py',
    '../_base_/datasets/imagenet_bs128.py',
    '../_base_/schedules/schedule_in1k_300e.py',
    '../_base_/default_runtime_cls.py',
]

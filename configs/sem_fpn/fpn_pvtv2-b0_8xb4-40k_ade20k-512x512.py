# Semantic FPN + PVTv2-b0, ADE20K 512x512, 8 GPUs x 4 images, 40k iterations: whai362/PVTv2-Seg's
# configs/sem_fpn/PVTv2/fpn_pvtv2_b0_ade20k_40k.py on mmseg 1.x.
_base_ = [
    '../_base_/models/fpn_pvtv2-b0.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k_semfpn.py',
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    # ImageNet-1K weights from whai362/PVT (any format pvtv2_dense converts; see README).
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b0')),
)
train_dataloader = dict(batch_size=4)

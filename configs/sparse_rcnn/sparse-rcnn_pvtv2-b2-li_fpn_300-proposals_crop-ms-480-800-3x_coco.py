# Sparse R-CNN (300 proposals) + PVTv2-b2-li + FPN, COCO 3x. The official b2-li config trains
# 8 GPUs x 2 images at lr 2.5e-5 (mmdet's R-50 setting), where its b2 config has 8 x 1 at / 1.4.
_base_ = './sparse-rcnn_pvtv2-b2_fpn_300-proposals_crop-ms-480-800-3x_coco.py'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint='pvt_v2_b2_li')))
optim_wrapper = dict(optimizer=dict(lr=2.5e-5))
train_dataloader = dict(batch_size=2, num_workers=2)
auto_scale_lr = dict(base_batch_size=16)

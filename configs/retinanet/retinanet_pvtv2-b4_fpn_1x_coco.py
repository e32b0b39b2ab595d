# RetinaNet + PVTv2-b4 + FPN, COCO 1x. As the official recipe: 8 GPUs x 1 image and the lr / 1.4.
_base_ = './retinanet_pvtv2-b1_fpn_1x_coco.py'
model = dict(backbone=dict(arch='b4', init_cfg=dict(checkpoint='pvt_v2_b4')))
optim_wrapper = dict(optimizer=dict(lr=1e-4 / 1.4))
train_dataloader = dict(batch_size=1, num_workers=1)
auto_scale_lr = dict(base_batch_size=8)

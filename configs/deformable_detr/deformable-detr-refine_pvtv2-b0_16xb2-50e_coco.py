# Deformable DETR + iterative box refinement, PVTv2-b0, COCO 50 epochs.
_base_ = './deformable-detr_pvtv2-b0_16xb2-50e_coco.py'
model = dict(with_box_refine=True)

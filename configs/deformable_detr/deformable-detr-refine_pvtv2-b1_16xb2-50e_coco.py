# Deformable DETR + iterative box refinement, PVTv2-b1, COCO 50 epochs.
_base_ = './deformable-detr_pvtv2-b1_16xb2-50e_coco.py'
model = dict(with_box_refine=True)

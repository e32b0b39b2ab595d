# Deformable DETR + box refinement + two-stage proposals, PVTv2-b3, COCO 50 epochs.
_base_ = './deformable-detr-refine_pvtv2-b3_16xb2-50e_coco.py'
model = dict(as_two_stage=True)

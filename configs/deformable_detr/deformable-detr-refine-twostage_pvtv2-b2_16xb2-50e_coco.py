# Deformable DETR + box refinement + two-stage proposals, PVTv2-b2, COCO 50 epochs.
_base_ = './deformable-detr-refine_pvtv2-b2_16xb2-50e_coco.py'
model = dict(as_two_stage=True)

# GLPN decoder on PVTv2-b0, NYU Depth v2 (GLPDepth recipe: 448x576 crops, batch 12, 25 epochs).
_base_ = [
    '../_base_/models/glpn_pvtv2-b0.py',
    '../_base_/datasets/nyu_448x576.py',
    '../_base_/default_runtime_depth.py',
    '../_base_/schedules/schedule_glpdepth_25e.py',
]
crop_size = (448, 576)
# Training batches need a size for mmseg's SegDataPreProcessor (every crop is this size).
model = dict(data_preprocessor=dict(size=crop_size))
# Flip test with tools/test.py --tta: mmseg's SegTTAModel merges logits, this averages depth.
tta_model = dict(type='DepthTTAModel')
log_processor = dict(by_epoch=True)  # epoch-based schedule

# GLPN decoder on PVTv2-b0, KITTI Eigen split (352x704 crops, max depth 80 m, Garg crop).
_base_ = [
    '../_base_/models/glpn_pvtv2-b0.py',
    '../_base_/datasets/kitti_352x704.py',
    '../_base_/default_runtime_depth.py',
    '../_base_/schedules/schedule_glpdepth_25e.py',
]
crop_size = (352, 704)
# Training batches need a size for mmseg's SegDataPreProcessor (every crop is this size).
model = dict(data_preprocessor=dict(size=crop_size), decode_head=dict(max_depth=80.0))
custom_hooks = [
    dict(type='TorchRNGStateHook'),
    dict(type='DepthPredictionWriterHook', out_dir=None, max_depth=80.0, png_scale=256.0),
]
# Flip test with tools/test.py --tta: mmseg's SegTTAModel merges logits, this averages depth.
tta_model = dict(type='DepthTTAModel')
log_processor = dict(by_epoch=True)  # epoch-based schedule

# Runtime of the panoptic configs: the detection runtime, with a visualizer that draws each
# panoptic segment in a colour of its own (mmdet's colours segments by class).
_base_ = ['./default_runtime_det.py']
visualizer = dict(type='PanopticLocalVisualizer')

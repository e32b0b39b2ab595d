# Test-time augmentation of the DETR-family configs (tools/test.py --tta): short side 800, 640
# and 960 (long side <= 1333) x no flip / horizontal flip = 6 passes per image. The plain pass
# comes first (PanopticTTAModel's anchor). No annotation loading: the COCO metrics read the
# ground truth from their ann_file. The config that uses it names its own tta_model.
tta_pipeline = [
    dict(type='LoadImageFromFile', color_type='color', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=s, keep_ratio=True)
                for s in [(1333, 800), (1333, 640), (1333, 960)]
            ],
            [dict(type='RandomFlip', prob=0.0), dict(type='RandomFlip', prob=1.0)],
            # mmdet's default meta keys include flip and flip_direction, which the merges read.
            [dict(type='PackDetInputs')],
        ],
    ),
]

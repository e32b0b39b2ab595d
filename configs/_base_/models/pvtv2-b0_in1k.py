# PVTv2-b0 ImageNet classifier (HF PvtV2ForImageClassification: mean of the last stage's tokens,
# then one linear layer) with the DeiT recipe's batch augmentations in the data preprocessor.
num_classes = 1000
model = dict(
    type='PVTv2ImageClassifier',
    backbone=dict(type='PVTv2', arch='b0', out_indices=(3,), drop_path_rate=0.1, attn_impl='auto'),
    num_classes=num_classes,
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        # Random erasing 0.25 (mode 'pixel', one box) after normalization, as timm's.
        random_erasing=dict(prob=0.25, min_area=0.02, max_area=1 / 3, min_aspect=0.3),
        # Mixup 0.8 / CutMix 1.0, switch 0.5, per batch; label smoothing 0.1 in the targets.
        mixup=dict(
            num_classes=num_classes,
            mixup_alpha=0.8,
            cutmix_alpha=1.0,
            prob=1.0,
            switch_prob=0.5,
            label_smoothing=0.1,
        ),
    ),
)

# SegFormer's recipe on 160k iterations: AdamW lr 6e-5, betas (0.9, 0.999), weight decay 0.01,
# x10 lr on the decode head, no decay on norms and pos_block, 1500-iteration linear warmup
# from 1e-6 then poly (power 1.0) to 0. lr is for 16 images per iteration (auto_scale_lr).
# As in the official code, custom keys match longest first, then alphabetically: 'head' wins over
# 'norm', so the decode head's BN gets lr x10 and keeps its decay.
_base_ = ['./schedule_160k.py']
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-05, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'pos_block': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
            'head': dict(lr_mult=10.0),
        }
    ),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=160000, by_epoch=False),
]
auto_scale_lr = dict(enable=False, base_batch_size=16)

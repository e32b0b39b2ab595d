# Drop path 0.3 as the official config. It also sets grad_clip=1.0, a key its main.py never
# reads (it clips with --clip-grad, default None): the released runs did not clip, nor do we.
_base_ = './pvtv2-b0_8xb128-300e_in1k.py'
model = dict(backbone=dict(arch='b5', drop_path_rate=0.3))

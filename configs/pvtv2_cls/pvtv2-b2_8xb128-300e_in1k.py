_base_ = './pvtv2-b0_8xb128-300e_in1k.py'
model = dict(backbone=dict(arch='b2'))

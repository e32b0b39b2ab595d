# Exact GLPN on KITTI (MiT-b4 == PVTv2-b4 with MLP ratio 4; inputs in [0, 1], max depth 80 m).
# Weights: the published model by name (tools/test.py glpn_kitti); training starts from it.
# layer_norm_eps unset: GLPDepth's own norms; 1e-5 reproduces HF's GLPNForDepthEstimation.
_base_ = './glpn_pvtv2-b0_4xb3-25e_kitti-352x704.py'
model = dict(
    data_preprocessor=dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0]),
    backbone=dict(
        arch='b4',
        mlp_ratios=[4, 4, 4, 4],
        init_cfg=dict(type='Pretrained', checkpoint='mit_b4'),
    ),
    decode_head=dict(in_channels=[64, 128, 320, 512]),
)
load_from = 'glpn_kitti'

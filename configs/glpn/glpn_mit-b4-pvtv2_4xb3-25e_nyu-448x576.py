# Exact GLPN (Kim et al. 2022): a MiT-b4 encoder, i.e. PVTv2-b4 with MLP ratio 4 in every stage.
# Evaluate the published model by name (fetched and converted once): tools/test.py glpn_nyu;
# training starts from it (load_from).
# GLPN feeds images scaled to [0, 1] without mean/std normalisation: so does this config.
# layer_norm_eps is left unset: GLPDepth's own (official MiT) norms, as its test.py computes;
# add model.backbone.layer_norm_eps=1e-5 to reproduce HF's GLPNForDepthEstimation instead.
_base_ = './glpn_pvtv2-b0_4xb3-25e_nyu-448x576.py'
model = dict(
    data_preprocessor=dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0]),
    backbone=dict(
        arch='b4',
        mlp_ratios=[4, 4, 4, 4],
        init_cfg=dict(type='Pretrained', checkpoint='mit_b4'),
    ),
    decode_head=dict(in_channels=[64, 128, 320, 512]),
)
load_from = 'glpn_nyu'

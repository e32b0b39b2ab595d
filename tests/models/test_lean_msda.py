"""The lean multi-scale deformable attention against mmcv's PyTorch path: the kernel and the module
(same weights) in float64, outputs and every gradient, on odd level sizes, batches of two,
padding masks and locations outside the maps; what it keeps for backward; what it refuses; and
the shipped detector configs selecting it without changing a checkpoint key."""

import pytest
import torch
from mmcv.ops import MultiScaleDeformableAttention
from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch
from mmengine.config import Config

from pvtv2_dense.errors import ConfigError
from pvtv2_dense.models.layers import (
    LeanMultiScaleDeformableAttention,
    lean_msda,
    set_msda_impl,
)
from pvtv2_dense.models.layers.lean_msda import unsupported_reason
from tests.helpers.common import ROOT

SHAPES = torch.tensor([[7, 9], [5, 3], [3, 1], [1, 2]])  # odd sizes, one level a single column
TOL = {torch.float64: dict(rtol=1e-10, atol=1e-12), torch.float32: dict(rtol=1e-4, atol=1e-5)}
DTYPES = pytest.mark.parametrize('dtype', [torch.float64, torch.float32], ids=['f64', 'f32'])


def _kernel_inputs(dtype, bs=2, queries=13, heads=3, dims=4, points=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    levels, keys = len(SHAPES), int(SHAPES.prod(1).sum())
    value = torch.randn(bs, keys, heads, dims, generator=g, dtype=dtype)
    # Some locations fall outside [0, 1]: their corners read grid_sample's zero padding.
    loc = torch.rand(bs, queries, heads, levels, points, 2, generator=g, dtype=dtype) * 1.4 - 0.2
    weights = torch.rand(bs, queries, heads, levels, points, generator=g, dtype=dtype)
    return [t.requires_grad_() for t in (value, loc, weights)]


def _kernel_results(kernel, inputs, grad_seed=1):
    value, loc, weights = inputs
    out = kernel(value, SHAPES, loc, weights)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(grad_seed), dtype=out.dtype)
    return (out, *torch.autograd.grad(out, inputs, g))


@DTYPES
def test_kernel_equals_mmcv_pytorch_path(dtype):
    inputs = _kernel_inputs(dtype)
    ref = _kernel_results(multi_scale_deformable_attn_pytorch, inputs)
    ours = _kernel_results(lean_msda, inputs)
    for name, a, b in zip(('output', 'value', 'locations', 'weights'), ours, ref):
        assert a.shape == b.shape and b.abs().max() > 0.1, name  # every part is compared
        torch.testing.assert_close(a, b, **TOL[dtype], msg=name)


def test_kernel_gradients_match_finite_differences():
    value, loc, weights = _kernel_inputs(torch.float64, bs=1, queries=3, heads=2, dims=2, points=2)
    assert torch.autograd.gradcheck(
        lambda v, p, w: lean_msda(v, SHAPES, p, w), (value, loc, weights)
    )


def test_kernel_keeps_only_its_inputs_for_backward():
    """mmcv's path keeps the stacked samples (batch x heads, channels, queries, levels x points)
    for backward; the lean kernel keeps nothing of that size."""
    bs, queries, heads, dims, points = 2, 40, 3, 8, 4
    inputs = _kernel_inputs(torch.float32, bs, queries, heads, dims, points)
    samples = bs * heads * dims * queries * len(SHAPES) * points

    def largest_saved(kernel):
        sizes = []
        with torch.autograd.graph.saved_tensors_hooks(
            lambda t: sizes.append(t.numel()) or t, lambda t: t
        ):
            kernel(inputs[0], SHAPES, inputs[1], inputs[2])
        return max(sizes)

    assert largest_saved(multi_scale_deformable_attn_pytorch) >= samples
    assert largest_saved(lean_msda) == inputs[1].numel() < samples  # the locations


def _module_pair(batch_first, seed=0):
    torch.manual_seed(seed)
    ref = MultiScaleDeformableAttention(
        24, num_heads=3, num_levels=len(SHAPES), num_points=3, batch_first=batch_first, dropout=0.0
    )
    with torch.no_grad():  # offsets and weights away from their symmetric initial values
        ref.sampling_offsets.weight.normal_(std=0.3)
        ref.attention_weights.weight.normal_(std=0.3)
    ours = LeanMultiScaleDeformableAttention(
        24, num_heads=3, num_levels=len(SHAPES), num_points=3, batch_first=batch_first,
        dropout=0.0, impl='lean',
    )  # fmt: skip
    ours.load_state_dict(ref.state_dict())
    return ref.double(), ours.double()


def _module_results(attn, ref_dims, batch_first, seed=2):
    g = torch.Generator().manual_seed(seed)
    bs, queries, keys = 2, 11, int(SHAPES.prod(1).sum())
    query = torch.randn(bs, queries, 24, generator=g, dtype=torch.float64, requires_grad=True)
    value = torch.randn(bs, keys, 24, generator=g, dtype=torch.float64, requires_grad=True)
    ref = torch.rand(bs, queries, len(SHAPES), ref_dims, generator=g, dtype=torch.float64)
    ref[..., 2:] *= 0.3  # box sizes
    pad = torch.zeros(bs, keys, dtype=torch.bool)
    pad[1, -9:] = True  # the second image's last keys are padding
    start = torch.cat([SHAPES.new_zeros(1), SHAPES.prod(1).cumsum(0)[:-1]])
    q, v = (query, value) if batch_first else (query.transpose(0, 1), value.transpose(0, 1))
    out = attn(
        q, value=v, key_padding_mask=pad, reference_points=ref, spatial_shapes=SHAPES,
        level_start_index=start,
    )  # fmt: skip
    out.square().sum().backward()
    grads = [query.grad, value.grad] + [p.grad for p in attn.parameters()]
    return [out] + grads


@pytest.mark.parametrize('ref_dims', [2, 4], ids=['points', 'boxes'])
@pytest.mark.parametrize('batch_first', [True, False], ids=['batch-first', 'tokens-first'])
def test_module_equals_mmcv_module(ref_dims, batch_first):
    ref, ours = _module_pair(batch_first)
    expected = _module_results(ref, ref_dims, batch_first)
    for impl in ('lean', 'auto'):
        ours.impl = impl
        ours.zero_grad()
        names = ['output', 'query', 'value'] + [n for n, _ in ours.named_parameters()]
        for name, a, b in zip(names, _module_results(ours, ref_dims, batch_first), expected):
            assert b.abs().max() > 0, name
            torch.testing.assert_close(a, b, **TOL[torch.float64], msg=f'{impl}: {name}')


def test_unsupported_inputs_are_refused_in_one_line():
    value, loc, weights = (t.detach() for t in _kernel_inputs(torch.float32))
    cases = {
        'dtypes': (value.half(), loc.half(), weights.half()),
        'float32, float64': (value, loc.double(), weights),
        'level sizes': (value[:, :-1], loc, weights),
        'shapes': (value, loc[..., :1], weights),
    }
    for words, (v, p, w) in cases.items():
        assert words in unsupported_reason(v, SHAPES, p, w)
        with pytest.raises(ConfigError, match="select msda_impl='mmcv'") as err:
            lean_msda(v, SHAPES, p, w)
        assert '\n' not in str(err.value) and words in str(err.value)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert 'autocast' in unsupported_reason(value, SHAPES, loc, weights)
    assert unsupported_reason(value, SHAPES, loc, weights) is None


def test_auto_takes_mmcv_under_autocast_and_off_the_cpu():
    ref, ours = (m.float() for m in _module_pair(batch_first=True))
    ours.impl = 'auto'
    g = torch.Generator().manual_seed(0)
    query = torch.randn(1, 5, 24, generator=g)
    value = torch.randn(1, int(SHAPES.prod(1).sum()), 24, generator=g)
    kwargs = dict(value=value, reference_points=torch.rand(1, 5, 4, 2, generator=g))
    kwargs.update(spatial_shapes=SHAPES, level_start_index=None)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        expected, out = ref(query, **kwargs), ours(query, **kwargs)
    assert out.dtype == expected.dtype and torch.equal(out, expected)
    ours.impl = 'lean'
    with torch.autocast('cpu', dtype=torch.bfloat16), pytest.raises(ConfigError, match='autocast'):
        ours(query, **kwargs)
    # Off the CPU 'auto' is mmcv's forward (its CUDA kernel): routed before any computation.
    ours.impl = 'auto'
    assert ours.uses_mmcv(query.to('meta')) and not ours.uses_mmcv(query)
    ours.impl = 'mmcv'
    assert ours.uses_mmcv(query)


def test_unknown_impl_is_refused():
    with pytest.raises(ConfigError, match=r"msda_impl='laen'.*did you mean 'lean'"):
        LeanMultiScaleDeformableAttention(8, num_heads=2, impl='laen')
    with pytest.raises(ConfigError, match='msda_impl'):
        set_msda_impl(torch.nn.Linear(1, 1), 'fast')


@pytest.mark.parametrize(
    'config',
    [
        'configs/deformable_detr/deformable-detr-refine_pvtv2-b0_16xb2-50e_coco.py',
        'configs/panoptic_segformer/panoptic-segformer_pvtv2-b0_8xb1-24e_coco-panoptic.py',
    ],
    ids=['deformable_detr', 'panoptic_segformer'],
)
def test_shipped_configs_select_it_with_mmcv_checkpoint_keys(config):
    from mmengine.registry import MODELS, init_default_scope

    cfg = Config.fromfile(f'{ROOT}/{config}')
    assert cfg.model.msda_impl == 'auto'
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    attns = [m for m in model.modules() if isinstance(m, MultiScaleDeformableAttention)]
    assert len(attns) == 12  # 6 encoder + 6 decoder layers
    assert all(type(m) is LeanMultiScaleDeformableAttention and m.impl == 'auto' for m in attns)
    keys = set(model.state_dict())
    assert set_msda_impl(model, 'mmcv') == 12
    assert all(type(m) is MultiScaleDeformableAttention for m in attns)
    assert set(model.state_dict()) == keys  # checkpoints load into either

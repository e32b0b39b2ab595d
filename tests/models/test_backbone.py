"""Behaviour of the PVTv2 backbone: options, shapes, freezing, checkpointing, errors."""

import pytest
import torch

from pvtv2_dense.checkpoint import load_pretrained, to_official
from pvtv2_dense.models import ARCH_SETTINGS, PVTv2, PVTv2ImageClassifier
from tests.helpers.common import TINY_ARCH


def tiny(**kwargs):
    torch.manual_seed(0)
    model = PVTv2(dict(TINY_ARCH), **kwargs)
    model.init_weights()
    return model


@pytest.mark.parametrize(
    'arch,params_m',
    [
        ('b0', 3.7),
        ('b1', 14.0),
        ('b2', 25.4),
        ('b2-li', 22.6),
        ('b3', 45.2),
        ('b4', 62.6),
        ('b5', 82.0),
    ],
)
def test_parameter_counts_match_the_paper(arch, params_m):
    with torch.device('meta'):
        model = PVTv2ImageClassifier(dict(type='PVTv2', arch=arch), num_classes=1000)
    count = sum(p.numel() for p in model.parameters()) / 1e6
    assert abs(count - params_m) <= 0.05, count


@pytest.mark.parametrize(
    'size,expected',
    [
        ((64, 64), [(16, 16), (8, 8), (4, 4), (2, 2)]),
        ((97, 131), [(25, 33), (13, 17), (7, 9), (4, 5)]),
        ((33, 250), [(9, 63), (5, 32), (3, 16), (2, 8)]),
    ],
)
def test_odd_input_sizes(size, expected):
    model = tiny()
    x = torch.randn(1, 3, *size)
    outs = model(x)
    assert [tuple(o.shape[2:]) for o in outs] == expected
    assert [o.shape[1] for o in outs] == TINY_ARCH['hidden_sizes']
    assert all(o.is_contiguous() for o in outs)
    model.channels_last_outputs = True
    views = model(x)
    for o, v in zip(outs, views):
        assert v.is_contiguous(memory_format=torch.channels_last) and torch.equal(o, v)
    assert not all(v.is_contiguous() for v in views)


@pytest.mark.parametrize('linear', [False, True], ids=['sra', 'li'])
@pytest.mark.parametrize('size', [(1, 1), (3, 5), (16, 16), (17, 300), (300, 17), (31, 32)])
def test_every_size_from_one_pixel(size, linear):
    """Maps smaller than a stage's reduction ratio (all of them at 16 x 16: the first stage's
    4 x 4 against ratio 8) still give features, of the sizes the embedding strides give."""
    model = tiny(linear_attention=linear).eval()
    with torch.no_grad():
        outs = model(torch.randn(2, 3, *size))
    h, w = -(-size[0] // 4), -(-size[1] // 4)  # stride 4, then 2 per stage, rounding up
    for i, out in enumerate(outs):
        if i:
            h, w = -(-h // 2), -(-w // 2)
        assert out.shape[2:] == (h, w) and torch.isfinite(out).all()


@pytest.mark.parametrize('hw', [(3, 5), (8, 3), (1, 1), (8, 8), (12, 19)])
def test_small_maps_reduce_as_their_zero_padded_copy(hw):
    """Below the ratio the map is reduced as if zero-padded at the bottom and right up to it;
    at or above it (where the official code runs) nothing changes: the plain strided conv."""
    attn = tiny().layers[0].blocks[0].attn  # sr_ratio 8
    x = torch.randn(2, hw[0] * hw[1], attn.q.in_features)
    image = x.transpose(1, 2).reshape(2, -1, *hw)
    pad = (0, max(8 - hw[1], 0), 0, max(8 - hw[0], 0))
    ref = attn.sr(torch.nn.functional.pad(image, pad)) if any(pad) else attn.sr(image)
    ref = attn.norm(ref.flatten(2).transpose(1, 2))
    with torch.no_grad():
        torch.testing.assert_close(attn.reduce(x, hw), ref, rtol=0, atol=0)


@pytest.mark.parametrize('out_indices', [(0,), (1,), (2,), (3,), (1, 2, 3), (0, 3), (-1,)])
def test_out_indices(out_indices):
    model = tiny(out_indices=out_indices).eval()
    x = torch.randn(1, 3, 64, 64)
    outs = model(x)
    wanted = [i % 4 for i in out_indices]
    assert [o.shape[1] for o in outs] == [TINY_ARCH['hidden_sizes'][i] for i in wanted]
    assert model.num_features == [TINY_ARCH['hidden_sizes'][i] for i in wanted]
    full = tiny().eval()(x)  # same seed, same weights, every stage
    for out, i in zip(outs, wanted):
        torch.testing.assert_close(out, full[i])


@pytest.mark.parametrize('bad', [(4,), (0, 5), (-5,), ()])
def test_out_of_range_out_indices(bad):
    with pytest.raises(ValueError, match='out_indices'):
        tiny(out_indices=bad)


def test_bad_arch_and_options():
    with pytest.raises(ValueError, match="unknown arch 'b9'.*b2-li"):
        PVTv2('b9')
    with pytest.raises(
        ValueError, match=r"unknown option\(s\) \['depth'\] \(did you mean 'depths'"
    ):
        PVTv2('b0', depth=[1, 1, 1, 1])
    with pytest.raises(ValueError, match='depths has 3 entries'):
        PVTv2(dict(depths=[1, 1, 1]))
    with pytest.raises(ValueError, match='hidden_act'):
        PVTv2('b0', hidden_act='swishy')
    with pytest.raises(ValueError, match='not a multiple'):
        PVTv2(dict(hidden_sizes=[32, 64, 160, 250]))
    with pytest.raises(ValueError, match='frozen_stages'):
        PVTv2('b0', frozen_stages=7)


def test_presets():
    assert set(ARCH_SETTINGS) == {'b0', 'b1', 'b2', 'b2-li', 'b3', 'b4', 'b5'}
    with torch.device('meta'):
        li = PVTv2('b2-li')
    attn = li.layers[3].blocks[0].attn
    assert attn.linear and attn.sr.kernel_size == (1, 1) and attn.pool.output_size == 7


@pytest.mark.parametrize('frozen', [1, 2, 4])
def test_frozen_stages(frozen):
    model = tiny(frozen_stages=frozen)
    model.train()
    for i, stage in enumerate(model.layers):
        is_frozen = i < frozen
        assert all(p.requires_grad != is_frozen for p in stage.parameters())
        assert all(m.training != is_frozen for m in stage.modules())
    if frozen < 4:
        model(torch.randn(1, 3, 64, 64))[-1].sum().backward()
        assert all(p.grad is None for p in model.layers[0].parameters())
        assert all(p.grad is not None for p in model.layers[-1].parameters())


def test_norm_eval():
    model = tiny(norm_eval=True).train()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert norms and not any(m.training for m in norms)
    assert model.layers[0].blocks[0].attn.training
    assert all(m.training for m in tiny(norm_eval=False).train().modules())


def test_with_cp_same_output_and_gradients():
    x = torch.randn(2, 3, 64, 64)
    plain, ckpt = tiny().train(), tiny(with_cp=True).train()
    out_a, out_b = plain(x), ckpt(x)
    for a, b in zip(out_a, out_b):
        torch.testing.assert_close(a, b)
    sum(o.sum() for o in out_a).backward()
    sum(o.sum() for o in out_b).backward()
    for (name, a), b in zip(plain.named_parameters(), ckpt.parameters()):
        assert b.grad is not None, name
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)


def test_drop_path_only_in_training():
    model = tiny(drop_path_rate=0.5)
    x = torch.randn(4, 3, 64, 64)
    model.eval()
    with torch.no_grad():
        a, b = model(x)[-1], model(x)[-1]
    torch.testing.assert_close(a, b)
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        c, d = model(x)[-1], model(x)[-1]
    assert not torch.allclose(c, d)


@pytest.mark.parametrize('linear', [False, True])
def test_fused_and_eager_attention_agree(linear):
    x = torch.randn(2, 3, 97, 131)
    arch = dict(TINY_ARCH, linear_attention=linear)
    torch.manual_seed(0)
    fused = PVTv2(arch).eval()
    eager = PVTv2(arch, attn_impl='eager').eval()
    eager.load_state_dict(fused.state_dict())
    with torch.no_grad():
        for a, b in zip(fused(x), eager(x)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_attention_maps():
    model = tiny().eval()
    outs, attns = model(torch.randn(2, 3, 64, 64), return_attentions=True)
    assert len(outs) == 4 and len(attns) == 4
    # stage 0: 16x16 queries, keys reduced 8x8-fold to 2x2.
    assert attns[0][0].shape == (2, 1, 256, 4)
    assert attns[3][0].shape == (2, 4, 4, 4)
    torch.testing.assert_close(attns[1][0].sum(-1), torch.ones(2, 2, 64, dtype=torch.float32))


def test_pretrained_init_cfg_official_checkpoint(tmp_path):
    src = tiny()
    path = tmp_path / 'official.pth'
    torch.save({**to_official(src.state_dict()), 'head.weight': torch.zeros(3, 32)}, path)
    model = PVTv2(dict(TINY_ARCH), init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    for k, v in src.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k


@pytest.mark.parametrize(
    'fmt, model_eps, expected',
    [
        ('official', None, None),
        ('official', 1e-6, 'leave layer_norm_eps unset'),
        ('mmdet', None, 'set layer_norm_eps=1e-6'),
        ('mmdet', 1e-6, None),
    ],
)
def test_loading_says_which_eps_reproduces_the_checkpoint(
    tmp_path, monkeypatch, fmt, model_eps, expected
):
    from mmdet.models.backbones.pvt import pvt_convert

    from pvtv2_dense.checkpoint import loading

    official = to_official(tiny().state_dict())
    path = tmp_path / f'{fmt}.pth'
    torch.save(official if fmt == 'official' else pvt_convert(official), path)
    arch = dict(TINY_ARCH, layer_norm_eps=model_eps)
    model = PVTv2(arch, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    logged = []
    monkeypatch.setattr(loading, 'print_log', lambda msg, **kwargs: logged.append(msg))
    model.init_weights()
    notes = [m for m in logged if 'reproduce' in m]
    if expected is None:
        assert notes == []
    else:
        assert len(notes) == 1 and expected in notes[0] and str(path) in notes[0], notes


def test_mismatched_checkpoint_says_what_it_is(tmp_path):
    path = tmp_path / 'b0.pth'
    with torch.device('cpu'):
        torch.save(to_official(PVTv2('b0').state_dict()), path)
    with pytest.raises(ValueError) as info:
        load_pretrained(PVTv2('b1'), str(path))
    msg = str(info.value)
    assert str(path) in msg and 'official format' in msg
    assert '\n' not in msg  # one line, as the tools print it
    assert 'checkpoint depths 2,2,2,2, hidden sizes 32,64,160,256' in msg
    assert 'config depths 2,2,2,2, hidden sizes 64,128,320,512' in msg


def test_missing_and_unexpected_keys_are_reported(tmp_path):
    src = PVTv2(dict(TINY_ARCH, depths=[1, 1, 2, 1]))
    path = tmp_path / 'deeper.pth'
    torch.save({'state_dict': src.state_dict()}, path)
    missing, unexpected = load_pretrained(tiny(), str(path))
    assert not missing
    assert unexpected and all(k.startswith('layers.2.blocks.1.') for k in unexpected)


@pytest.mark.parametrize('attn_impl', ['sdpa', 'eager'])
def test_bf16_autocast_is_finite_and_close(attn_impl):
    model = tiny(attn_impl=attn_impl).eval()
    x = torch.randn(1, 3, 64, 64) * 50  # large activations: scores that would overflow fp16
    with torch.no_grad():
        ref = model(x)[-1]
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = model(x)[-1]
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    assert (low.float() - ref).abs().max() < 0.1 * ref.abs().max()

"""Every speed-up against its plain definition: values and gradients, in training and eval mode,
with and without autograd, in float32 and float64, on odd sizes with batches of two.

Plain definitions: ``PVTv2(attn_impl='sdpa' | 'eager', ffn_impl='plain')`` and ``AllMLPHead``.
Speed-ups: ``attn_impl='few_key' | 'auto'``, ``ffn_impl='banded' | 'auto'`` (and their pieces
``few_key_attention``, ``token_linear``, ``FastPVTv2Block.ffn_residual`` in bands) and
``FoldedAllMLPHead``. Each pair holds the same weights and sees the same random draws.
"""

import pytest
import torch
import torch.nn.functional as F

from pvtv2_dense.errors import ConfigError
from pvtv2_dense.models import AllMLPHead, FoldedAllMLPHead, PVTv2
from pvtv2_dense.models.backbones.fast import (
    attention,
    block,
    few_key_attention,
    mix_ffn,
    token_linear,
)
from pvtv2_dense.models.decode_heads import folded_all_mlp_head, folded_chunks
from tests.helpers.common import TINY_ARCH

# float32 results of two orders of summation differ by rounding; float64 ones by far less.
TOL = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-9, atol=1e-10)}
DTYPES = pytest.mark.parametrize('dtype', [torch.float32, torch.float64], ids=['f32', 'f64'])
MODES = pytest.mark.parametrize(
    'train, grad',
    [(0, 0), (0, 1), (1, 1), (1, 0)],
    ids=['eval', 'eval-grad', 'train', 'train-nograd'],
)


def _close(a, b, dtype, scale=1.0, msg=None):
    tol = TOL[dtype]
    torch.testing.assert_close(a, b, rtol=tol['rtol'], atol=tol['atol'] * scale, msg=msg)


def _qkv(b, h, n, m, d, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(b, h, length, d, generator=g, dtype=dtype) * 2).requires_grad_()
        for length in (n, m, m)
    ]


# --- few-key attention -------------------------------------------------------------------------


@pytest.mark.parametrize('chunk_elements', [1, 3 * 5 * 2, 1 << 24])
def test_few_key_attention_gradcheck(monkeypatch, chunk_elements):
    monkeypatch.setattr(attention, '_CHUNK_ELEMENTS', chunk_elements)
    q, k, v = _qkv(2, 1, 11, 5, 4, torch.double)
    assert torch.autograd.gradcheck(lambda *t: few_key_attention(*t, 0.3), (q, k, v))


@DTYPES
@pytest.mark.parametrize('chunk_elements', [3 * 49, 1 << 24])
def test_few_key_attention_matches_sdpa(monkeypatch, chunk_elements, dtype):
    monkeypatch.setattr(attention, '_CHUNK_ELEMENTS', chunk_elements)
    q, k, v = _qkv(2, 3, 300, 49, 16, dtype)
    grad = torch.randn(2, 3, 300, 16, generator=torch.Generator().manual_seed(1), dtype=dtype)
    results = []
    for fn in (few_key_attention, lambda *t: F.scaled_dot_product_attention(*t[:3], scale=t[3])):
        out = fn(q, k, v, 16**-0.5)
        results.append((out, torch.autograd.grad(out, (q, k, v), grad)))
    (out, grads), (ref, ref_grads) = results
    _close(out, ref, dtype)
    for a, b in zip(grads, ref_grads):
        _close(a, b, dtype, scale=10)


# --- token_linear ------------------------------------------------------------------------------


@pytest.mark.parametrize('hw, route', [((64, 64), True), ((31, 33), False)])
@DTYPES
def test_token_linear_equals_linear(monkeypatch, hw, route, dtype):
    calls = []
    real = F.conv2d
    monkeypatch.setattr(mix_ffn.F, 'conv2d', lambda *a, **k: calls.append(1) or real(*a, **k))
    linear = torch.nn.Linear(8, 12).to(dtype)
    x = torch.randn(2, hw[0] * hw[1], 8, dtype=dtype)
    with torch.no_grad():
        _close(token_linear(x, hw, linear), linear(x), dtype)
    assert len(calls) == int(route)


# --- the whole backbone ------------------------------------------------------------------------

IMPL_PAIRS = [
    # (speed-up, the plain definition it must equal)
    (dict(attn_impl='few_key'), dict(attn_impl='sdpa')),
    (dict(attn_impl='auto'), dict(attn_impl='sdpa')),
    (dict(ffn_impl='auto'), dict()),
    (dict(attn_impl='auto', ffn_impl='auto'), dict()),
    (dict(attn_impl='eager', ffn_impl='auto'), dict(attn_impl='eager')),
]
IMPL_IDS = ['few_key', 'attn-auto', 'ffn-auto', 'both-auto', 'eager+ffn-auto']


def _pair(fast_kwargs, plain_kwargs, dtype, **arch_options):
    arch = dict(TINY_ARCH, drop_path_rate=0.2, **arch_options)
    torch.manual_seed(0)
    plain = PVTv2(arch, **plain_kwargs)
    plain.init_weights()
    fast = PVTv2(arch, **fast_kwargs)
    fast.load_state_dict(plain.state_dict())
    return fast.to(dtype), plain.to(dtype)


def _run(model, x, train, grad, seed=3):
    model.train(train)
    torch.manual_seed(seed)  # drop path draws the same masks in both
    inp = x.clone().requires_grad_(grad)
    with torch.set_grad_enabled(grad):
        outs = model(inp)
        if not grad:
            return outs, None
        loss = sum((o * o).mean() for o in outs)
        grads = torch.autograd.grad(loss, [inp, *model.parameters()])
    return outs, grads


@pytest.mark.parametrize('fast_kwargs, plain_kwargs', IMPL_PAIRS, ids=IMPL_IDS)
@pytest.mark.parametrize('linear', [False, True], ids=['sra', 'li'])
@pytest.mark.parametrize(
    'train, grad', [(False, False), (False, True), (True, True), (True, False)]
)
@DTYPES
def test_backbone_speed_ups_equal_the_plain_definition(
    monkeypatch, fast_kwargs, plain_kwargs, linear, train, grad, dtype
):
    # Small thresholds, so that the 45x61 input's first stages take every fast route.
    monkeypatch.setattr(block, 'BAND_MIN_ELEMENTS', 0)
    monkeypatch.setattr(block, 'BAND_ELEMENTS', 2 * 16 * 8 * 8 * 3)
    monkeypatch.setattr(mix_ffn, 'CONV_LINEAR_MIN_PIXELS', 64)
    fast, plain = _pair(fast_kwargs, plain_kwargs, dtype, linear_attention=linear)
    x = torch.randn(2, 3, 45, 61, dtype=dtype)
    (outs, grads), (ref, ref_grads) = _run(fast, x, train, grad), _run(plain, x, train, grad)
    for a, b in zip(outs, ref):
        _close(a, b, dtype)
    if grad:
        for i, (a, b) in enumerate(zip(grads, ref_grads)):
            _close(a, b, dtype, scale=10, msg=f'gradient {i}')


@pytest.mark.parametrize('rows', [1, 2, 5])
@pytest.mark.parametrize(
    'options', [{}, {'linear_attention': True}, {'hidden_act': 'selu'}], ids=['sra', 'li', 'selu']
)
def test_bands_of_any_height_equal_the_whole_map(monkeypatch, rows, options):
    """Any band height, an uneven last band and a batch of two give the whole-map values; bands
    run in CPU inference only, and ``ffn_impl='banded'`` refuses to train."""
    x = torch.randn(2, 3, 45, 61)  # stage 1: 12 x 16
    fast, plain = _pair(dict(ffn_impl='auto'), {}, torch.float32, **options)
    banded = []
    real = block.FastPVTv2Block.runs_in_bands
    monkeypatch.setattr(
        block.FastPVTv2Block, 'runs_in_bands', lambda *a: real(*a) and not banded.append(1)
    )
    monkeypatch.setattr(block, 'BAND_MIN_ELEMENTS', 0)
    monkeypatch.setattr(block, 'BAND_ELEMENTS', rows * 2 * 16 * 8 * 8)
    with torch.no_grad():
        for a, b in zip(fast.eval()(x), plain.eval()(x)):
            _close(a, b, torch.float32)
    assert len(banded) == 4  # one block per stage
    fast(x)  # autograd on
    with torch.no_grad():
        fast.train()(x)
    assert len(banded) == 4
    banded_only = PVTv2(dict(TINY_ARCH, **options), ffn_impl='banded')
    banded_only.load_state_dict(plain.state_dict())
    with torch.no_grad():
        for a, b in zip(banded_only.eval()(x), plain(x)):
            _close(a, b, torch.float32)
    with pytest.raises(ConfigError, match="ffn_impl='banded' runs inference only"):
        banded_only(x)


def test_few_key_refuses_attention_dropout():
    with pytest.raises(ValueError, match="attn_impl='few_key' has no attention dropout"):
        PVTv2(dict(TINY_ARCH, attention_probs_dropout_prob=0.1), attn_impl='few_key')


def test_auto_attention_routes(monkeypatch):
    """'auto' takes the few-key backward exactly where it pays: fp32 CUDA training."""
    calls = []
    real = attention.few_key_attention
    monkeypatch.setattr(attention, 'few_key_attention', lambda *a: calls.append(1) or real(*a))
    model = PVTv2(dict(TINY_ARCH), attn_impl='auto').train()
    x = torch.randn(1, 3, 64, 64)
    model(x)
    assert calls == []  # CPU: SDPA
    fixed = PVTv2(dict(TINY_ARCH), attn_impl='few_key').train()
    fixed(x)
    assert len(calls) == 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('linear', [False, True])
def test_auto_on_cuda_matches_the_plain_definition_on_cpu(monkeypatch, linear):
    # cuDNN's convolutions default to TF32 (10-bit mantissas): compare in full fp32.
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    calls = []
    real = attention.few_key_attention
    monkeypatch.setattr(attention, 'few_key_attention', lambda *a: calls.append(1) or real(*a))
    fast, plain = _pair(
        dict(attn_impl='auto', ffn_impl='auto'), {}, torch.float32, linear_attention=linear
    )
    fast.cuda()
    x = torch.randn(2, 3, 64, 64)
    _, grads = _run(fast, x.cuda(), True, True)
    _, ref_grads = _run(plain, x, True, True)
    assert len(calls) == 4  # one block per stage
    for a, b in zip(grads, ref_grads):
        torch.testing.assert_close(a.cpu(), b, rtol=1e-3, atol=1e-5)


# --- the all-MLP head --------------------------------------------------------------------------

WIDTHS = [8, 16, 32, 32]


def _heads(dtype=torch.float32, **kwargs):
    cfg = dict(in_channels=WIDTHS, channels=12, num_classes=5, dropout_ratio=0.1)
    cfg.update(kwargs)
    torch.manual_seed(0)
    plain = AllMLPHead(**cfg)
    folded = FoldedAllMLPHead(**cfg)
    with torch.no_grad():  # a batch norm with statistics of its own, not the identity
        norm = plain.linear_fuse.bn
        norm.running_mean.normal_()
        norm.running_var.uniform_(0.5, 2.0)
        norm.weight.normal_()
        norm.bias.normal_()
    folded.load_state_dict(plain.state_dict())
    return folded.to(dtype), plain.to(dtype)


def _feats(batch=2, size=(17, 23), dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    h, w = size
    return [
        torch.randn(batch, c, -(-h // s), -(-w // s), generator=g, dtype=dtype)
        for c, s in zip(WIDTHS, (1, 2, 4, 8))
    ]


@pytest.fixture(params=['one pass', 'one chunk', 'chunks'])
def chunking(request, monkeypatch):
    """How the folded head runs: the whole fused map at once (its GPU path), in one channel
    chunk (small inputs on CPU), or in uneven chunks of 5 of its 12 channels."""
    if request.param == 'one pass':
        monkeypatch.setattr(folded_all_mlp_head, 'norm_for_chunks', lambda *a: (False, None))
    elif request.param == 'chunks':
        monkeypatch.setattr(folded_chunks, 'CHUNK_ELEMENTS', 1)
        monkeypatch.setattr(folded_chunks, 'MIN_CHUNK_CHANNELS', 5)
    return request.param


def _head_run(head, feats, train, grad, seed=3):
    head.train(train)
    torch.manual_seed(seed)  # Dropout2d draws the same channels in both
    with torch.set_grad_enabled(grad):
        out = head(feats)
        if not grad:
            return out, None
        return out, torch.autograd.grad(out.square().sum(), list(head.parameters()))


@pytest.mark.parametrize(
    'train, grad', [(False, False), (False, True), (True, True), (True, False)]
)
@pytest.mark.parametrize('momentum', [0.1, None])
@DTYPES
def test_folded_head_equals_the_plain_head(chunking, train, grad, momentum, dtype):
    folded, plain = _heads(dtype, norm_cfg=dict(type='BN', momentum=momentum), dropout_ratio=0.3)
    for size in ((17, 23), (16, 24)):
        feats = _feats(size=size, dtype=dtype)
        for _ in range(2):  # running statistics: the second call uses what the first counted
            (a, grads), (b, ref_grads) = (
                _head_run(folded, feats, train, grad),
                _head_run(plain, feats, train, grad),
            )
        assert a.shape == (2, 5, *size) and a.is_contiguous()
        _close(a, b, dtype)
        for name, buf in plain.linear_fuse.bn.named_buffers():
            torch.testing.assert_close(getattr(folded.linear_fuse.bn, name), buf, msg=name)
        if grad:
            # Sums over every pixel in another order: the error scales with the largest gradient.
            scale = max(g.abs().max().item() for g in ref_grads)
            for (name, _), g, r in zip(plain.named_parameters(), grads, ref_grads):
                _close(g, r, dtype, scale=scale, msg=name)


def test_folded_head_follows_weight_updates(chunking):
    folded, plain = _heads()
    feats = _feats()
    optim = torch.optim.SGD(folded.parameters(), lr=0.5)
    folded(feats).square().mean().backward()
    optim.step()
    with torch.no_grad():
        folded.linear_fuse.bn.running_var.mul_(3.0)
    plain.load_state_dict(folded.state_dict())
    with torch.no_grad():
        _close(folded.eval()(feats), plain.eval()(feats), torch.float32)


def test_folded_head_training_loss_equals_mmseg(monkeypatch):
    """The fast head's training loss (banded cross-entropy, argmax accuracy) against the plain
    head's, which is mmseg's own ``loss_by_feat``: values and gradients."""
    from mmengine.structures import PixelData
    from mmseg.models.losses import CrossEntropyLoss
    from mmseg.structures import SegDataSample

    loss = dict(type='FusedCrossEntropyLoss', loss_weight=1.0)
    folded, plain = _heads(norm_cfg=dict(type='BN'), dropout_ratio=0.0, loss_decode=loss)
    plain.loss_decode = CrossEntropyLoss(loss_weight=1.0)
    feats = _feats(size=(8, 10))
    g = torch.Generator().manual_seed(2)
    labels = torch.randint(0, 5, (2, 32, 40), generator=g)
    labels[0, :3] = 255
    samples = [SegDataSample(gt_sem_seg=PixelData(data=lab[None])) for lab in labels]
    results = []
    for head in (folded, plain):
        head.train()
        losses = head.loss(feats, samples, train_cfg={})
        grads = torch.autograd.grad(losses['loss_ce'], list(head.parameters()))
        results.append((losses, grads))
    (ours, grads), (ref, ref_grads) = results
    _close(ours['loss_ce'], ref['loss_ce'], torch.float32)
    _close(ours['acc_seg'], ref['acc_seg'], torch.float32)
    for g, r in zip(grads, ref_grads):
        _close(g, r, torch.float32, scale=10)


class _NormedEmbed(torch.nn.Module):
    def __init__(self, c, e):
        super().__init__()
        self.proj = torch.nn.Linear(c, e)
        self.norm = torch.nn.LayerNorm(e)


@pytest.mark.parametrize(
    'change, message',
    [
        (dict(norm_cfg=dict(type='GN', num_groups=3)), 'the fuse norm GroupNorm'),
        (dict(act_cfg=dict(type='PReLU')), 'the activation PReLU'),
        (dict(conv_cfg=dict(type='Conv2d'), kernel=3), 'only an ungrouped 1x1'),
        (dict(bias=True), 'a fuse convolution with a bias'),
        (dict(embed=True), r'linear_c\[0\], a _NormedEmbed'),
        (dict(fuse=True), 'overrides the published one'),
    ],
    ids=['norm', 'act', 'kernel', 'bias', 'embed', 'fuse'],
)
def test_folded_head_refuses_what_it_cannot_fold(change, message):
    kernel, bias = change.pop('kernel', None), change.pop('bias', False)
    embed, override = change.pop('embed', False), change.pop('fuse', False)
    cfg = dict(in_channels=WIDTHS, channels=12, num_classes=5, **change)

    class Changed(FoldedAllMLPHead):
        def __init__(self, **kwargs):
            # What a subclass changes happens after AllMLPHead.__init__, before the check.
            AllMLPHead.__init__(self, **kwargs)
            if kernel:
                self.linear_fuse.conv = torch.nn.Conv2d(48, 12, kernel, padding=1, bias=False)
            if bias:
                self.linear_fuse.conv = torch.nn.Conv2d(48, 12, 1)
            if embed:
                self.linear_c[0] = _NormedEmbed(WIDTHS[0], 12)
            self._check_foldable()

        if override:

            def fuse(self, feats):
                return super().fuse(feats)

    with pytest.raises(ValueError, match=message):
        Changed(**cfg)
    FoldedAllMLPHead(in_channels=WIDTHS, channels=12, num_classes=5)  # the shipped head builds

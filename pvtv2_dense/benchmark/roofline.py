"""How close the PVTv2 backbone runs to this machine's matrix-multiply rate, part by part.

The roof is the best fp32 ``torch.mm`` rate measured here on a few square sizes (best of several
runs each). Each part of the backbone -- attention (spatial-reduction attention, its reduction
included), FFN (fc1, activation, fc2), depth-wise conv, norms (every LayerNorm), patch
embeddings, and the rest (residual adds, layout changes) -- gets its multiply-adds from mmengine's
counter (fvcore's convention: one multiply-add is one FLOP, as :mod:`.complexity` counts) on the
plain definition (``attn_impl='sdpa'``, ``ffn_impl='plain'``), and its time from forward hooks on
the timed model (the shipped fast implementations by default), each part's time exclusive of the
parts inside it, best of several forwards. The achieved fraction is a part's multiply-adds per
second over the roof's.
"""

import time

import torch
from torch import nn

from .complexity import sdpa_flop_jit

# Square fp32 matmul sizes for the roof (one multiply-add per output element per inner step).
MATMUL_SIZES = (256, 512, 1024, 2048)
PARTS = ('attention', 'FFN', 'depth-wise conv', 'norms', 'patch embedding')


def matmul_rate(sizes=MATMUL_SIZES, repeat=5, budget_s=2.0):
    """The best fp32 ``torch.mm`` rate over ``sizes``, in multiply-adds per second.

    Args:
        sizes (Sequence[int]): square sizes n (n x n @ n x n: n**3 multiply-adds).
        repeat (int): timed runs per size (best of them), each after one warm-up.
        budget_s (float): a size stops early once its runs took this long.

    Returns:
        dict: ``best`` (multiply-adds/s) and ``by_size`` {n: multiply-adds/s}.
    """
    by_size = {}
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)
        best, spent = float('inf'), 0.0
        for _ in range(repeat):
            start = time.perf_counter()
            torch.mm(a, b)
            elapsed = time.perf_counter() - start
            best, spent = min(best, elapsed), spent + elapsed
            if spent > budget_s:
                break
        by_size[n] = n**3 / best
    return dict(best=max(by_size.values()), by_size=by_size)


def part_of(name, module):
    """The part of the backbone a module of that qualified name is (None: not a part itself)."""
    if isinstance(module, nn.LayerNorm):
        return 'norms'
    last = name.rsplit('.', 1)[-1]
    if last == 'dwconv':
        return 'depth-wise conv'
    if last == 'attn':
        return 'attention'
    if last == 'mlp':
        return 'FFN'
    if last == 'proj' and name.endswith('patch_embed.proj'):
        return 'patch embedding'
    return None


def _parts(model):
    return {name: part for name, m in model.named_modules() if (part := part_of(name, m))}


def _exclusive(inclusive, parts):
    """Per part, the sum over its modules of their count less that of the parts inside them."""
    totals = dict.fromkeys(PARTS, 0)
    for name, part in parts.items():
        inner = [n for n in parts if n.startswith(name + '.')]
        # only the outermost parts inside: deeper ones are already inside those
        outer = [n for n in inner if not any(n.startswith(m + '.') for m in inner)]
        totals[part] += inclusive.get(name, 0) - sum(inclusive.get(n, 0) for n in outer)
    return totals


def part_macs(model, x):
    """Multiply-adds of each part (see :data:`PARTS`) and of the whole forward on ``x``."""
    from mmengine.analysis import FlopAnalyzer

    with torch.no_grad():
        analyzer = FlopAnalyzer(model.eval(), (x,))
        analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        by_module = analyzer.by_module()
    totals = _exclusive(by_module, _parts(model))
    totals['rest'] = by_module[''] - sum(totals.values())
    return totals, by_module['']


def part_times(model, x, repeat=5, warmup=1):
    """Seconds of each part (exclusive of the parts inside it) and of the whole forward on ``x``
    without autograd, each the best of ``repeat`` runs (as the roof is: on a shared machine the
    best run is the one least slowed by others); 'rest' is the whole less the parts."""
    parts, stack, runs = _parts(model), [], []
    spent = dict.fromkeys(PARTS, 0.0)

    def pre(part):
        return lambda *_: stack.append([part, time.perf_counter(), 0.0])

    def post(*_):
        part, start, inner = stack.pop()
        elapsed = time.perf_counter() - start
        spent[part] += elapsed - inner
        if stack:
            stack[-1][2] += elapsed

    hooks = []
    for name, module in model.named_modules():
        if name in parts:
            hooks.append(module.register_forward_pre_hook(pre(parts[name])))
            hooks.append(module.register_forward_hook(post))
    model.eval()
    try:
        with torch.no_grad():
            for i in range(warmup + repeat):
                spent.update(dict.fromkeys(PARTS, 0.0))
                start = time.perf_counter()
                model(x)
                if i >= warmup:
                    runs.append(dict(spent, whole=time.perf_counter() - start))
    finally:
        for hook in hooks:
            hook.remove()
    times = {k: min(r[k] for r in runs) for k in (*PARTS, 'whole')}
    times['rest'] = max(times['whole'] - sum(times[p] for p in PARTS), 0.0)
    return times


def roofline(arch, size, impls=('auto', 'auto'), repeat=5, roof=None):
    """Rows of the roofline table of backbone ``arch`` on one ``size`` x ``size`` image.

    Args:
        arch (str): a PVTv2 arch name ('b0' ... 'b5', 'b2-li').
        size (int): input side.
        impls (tuple[str, str]): the timed model's ``attn_impl`` and ``ffn_impl``.
        repeat (int): timed forwards (best of them).
        roof (float | None): the matmul rate (multiply-adds/s); measured when None.

    Returns:
        list[dict]: one row per part and one for the whole: ``part``, ``gmacs``, ``ms``,
        ``gmacs_per_s``, ``fraction`` (of the roof), ``share`` (of the whole's time).
    """
    from ..models import PVTv2

    roof = roof or matmul_rate()['best']
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    plain = PVTv2(arch, attn_impl='sdpa', ffn_impl='plain')
    macs, whole_macs = part_macs(plain, x)
    timed = PVTv2(arch, attn_impl=impls[0], ffn_impl=impls[1])
    timed.load_state_dict(plain.state_dict())
    times = part_times(timed, x, repeat)
    macs['whole'] = whole_macs
    rows = []
    for part in (*PARTS, 'rest', 'whole'):
        seconds = times[part]
        rate = macs[part] / seconds if seconds > 0 else 0.0
        rows.append(
            dict(
                part=part,
                gmacs=macs[part] / 1e9,
                ms=1000 * seconds,
                gmacs_per_s=rate / 1e9,
                fraction=rate / roof,
                share=seconds / times['whole'],
            )
        )
    return rows


def format_rows(arch, size, rows):
    """Markdown rows (no header) of :func:`roofline`'s output."""
    return [
        f'| {arch} | {size} | {r["part"]} | {r["gmacs"]:.3f} | {r["ms"]:.1f} | {r["share"]:.0%} '
        f'| {r["gmacs_per_s"]:.1f} | {r["fraction"]:.0%} |'
        for r in rows
    ]

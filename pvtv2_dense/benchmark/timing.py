"""Latency and peak-memory measurement of benchmark steps, in this process or a fresh one each.

A step is a zero-argument callable (one forward pass, or a whole training step) that a builder
named ``'module:function'`` returns; the builders live beside this module, one file per model.

A fresh process per measurement keeps peak memory that model's own: the rise of the peak over
the memory in use before the timed runs (CPU: resident set, its peak reset after warm-up, taken in
a separate run where freed buffers go straight back to the system, see ``EXACT_RSS_ENV``; GPU:
``torch.cuda.max_memory_allocated``).
"""

import json
import os
import statistics
import subprocess
import sys
import time


def _status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return None


def _reset_cpu_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def _synchronizer(device):
    """What waits for ``device``'s queued work: CUDA's synchronize, or nothing on CPU."""
    import torch

    return torch.cuda.synchronize if str(device).startswith('cuda') else (lambda: None)


def _timed(step, sync):
    """Seconds of one ``step()``, its device work included."""
    start = time.perf_counter()
    step()
    sync()
    return time.perf_counter() - start


def _load_builder(builder):
    """The function named by ``'module:function'``."""
    import importlib

    module, name = builder.split(':')
    return getattr(importlib.import_module(module), name)


def train_step(model, loss_fn, lr=1e-4):
    """One training step as a zero-argument callable: ``loss_fn()``, backward, AdamW update."""
    import torch

    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()

    def step():
        loss = loss_fn()
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()

    return step


def time_step(step, device='cpu', warmup=2, repeat=10):
    """Per-run seconds of ``step()`` after ``warmup`` untimed runs, and peak-memory facts over
    the timed runs only (GPU: max allocated; CPU: peak resident set, reset after warm-up)."""
    import torch

    cuda = str(device).startswith('cuda')
    sync = _synchronizer(device)
    for _ in range(warmup):
        step()
    sync()
    memory = {}
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        memory['cpu_peak_is_whole_process'] = not _reset_cpu_peak()
        base = (_status_kb('VmRSS') or 0) * 1024
    times = [_timed(step, sync) for _ in range(repeat)]
    if cuda:
        peak = torch.cuda.max_memory_allocated()
        memory.update(kind='cuda max_memory_allocated')
    else:
        peak = (_status_kb('VmHWM') or 0) * 1024
        memory.update(kind='cpu peak resident set')
    memory.update(peak_mb=peak / 2**20, above_start_mb=(peak - base) / 2**20)
    return times, memory


def time_predict(model, inputs, data_samples, device='cpu', warmup=2, repeat=10):
    """:func:`time_step` of ``model.predict(inputs, data_samples)`` without autograd (the
    inputs and samples of :func:`pvtv2_dense.benchmark.dummy.dummy_batch`)."""
    import torch

    with torch.no_grad():
        return time_step(lambda: model.predict(inputs, data_samples), device, warmup, repeat)


def measure_step(builder, kwargs, device='cpu', repeat=10, warmup=2, grad=False):
    """Median latency (ms) and peak memory (MB) of ``builder(**kwargs, device=...)()``.

    ``builder`` is ``'module:function'``, a function that builds a model and returns a
    zero-argument callable running one step (a forward pass, or a whole training step).
    """
    import torch

    with torch.set_grad_enabled(grad):
        try:
            step = _load_builder(builder)(device=device, **kwargs)
        except Exception as err:  # a peer missing, or unable to run this configuration
            return _error(err)
        times, memory = time_step(step, device, warmup, repeat)
    return dict(
        median_ms=1000 * statistics.median(times), peak_mb=max(memory['above_start_mb'], 0.0)
    )


def _error(err):
    return dict(error=f'{type(err).__name__}: {err}'.splitlines()[0][:80])


def measure_steps_paired(builder, kwargs_list, device='cpu', repeat=10, warmup=2, grad=False):
    """Latency of several steps built in this one process and timed in turn: each of the
    ``repeat`` iterations runs every step once, in reverse order every other iteration, so a
    drift of the machine's speed hits them alike and the ratio of the i-th runs of two steps is
    a paired comparison. One dict per entry of ``kwargs_list``: ``times_ms`` (in iteration
    order) and ``median_ms``, or ``error``. No memory figures: the models share the process."""
    import torch

    with torch.set_grad_enabled(grad):
        build = _load_builder(builder)
        steps, results = {}, []
        for i, kwargs in enumerate(kwargs_list):
            try:
                steps[i] = build(device=device, **kwargs)
                results.append(dict(times_ms=[]))
            except Exception as err:  # a peer missing, or unable to run this configuration
                results.append(_error(err))
        sync = _synchronizer(device)
        for _ in range(warmup):
            for step in steps.values():
                step()
        sync()
        order = list(steps)
        for r in range(repeat):
            for i in order if r % 2 == 0 else order[::-1]:
                results[i]['times_ms'].append(1000 * _timed(steps[i], sync))
    for result in results:
        if 'times_ms' in result:
            result['median_ms'] = statistics.median(result['times_ms'])
    return results


# For the CPU peak-memory run: glibc hands every allocation of 64 KiB or more straight back to the
# system when it is freed, so the resident set follows the tensors alive at each moment instead of
# what the allocator happens to keep cached from earlier steps (which differs between models with
# many mid-sized and a few large buffers, and would make the comparison depend on allocator luck).
# It slows allocation down, so latency comes from a separate run without it.
EXACT_RSS_ENV = dict(
    MALLOC_MMAP_THRESHOLD_='65536', MALLOC_TRIM_THRESHOLD_='0', MALLOC_TOP_PAD_='0'
)


def _run_fresh(args, env=None, function='measure_step'):
    code = (
        f'import json, sys; from pvtv2_dense.benchmark.timing import {function}; '
        f'print(json.dumps({function}(*json.loads(sys.argv[1]))))'
    )
    proc = subprocess.run(
        [sys.executable, '-c', code, json.dumps(args)],
        capture_output=True,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    return dict(error=(proc.stderr.strip().splitlines() or ['failed'])[-1][:80])


def measure_step_in_subprocess(
    builder, kwargs, device='cpu', repeat=10, warmup=2, grad=False, memory=True
):
    """:func:`measure_step` in a fresh interpreter; errors come back as ``dict(error=...)``.

    On CPU the peak memory comes from a second fresh interpreter run under
    :data:`EXACT_RSS_ENV` (one warm-up, one measured step), the latency from the first;
    ``memory=False`` skips that run (no ``peak_mb`` then).
    """
    result = _run_fresh([builder, kwargs, device, repeat, warmup, grad])
    if 'error' in result or str(device).startswith('cuda') or not memory:
        return result
    memory = peak_memory_in_subprocess(builder, kwargs, device, grad)
    if 'error' in memory:
        return memory
    return dict(result, peak_mb=memory['peak_mb'])


def peak_memory_in_subprocess(builder, kwargs, device='cpu', grad=False):
    """Peak memory of one step (after one warm-up) in a fresh interpreter, on CPU under
    :data:`EXACT_RSS_ENV`: ``dict(peak_mb=...)`` or ``dict(error=...)``."""
    cuda = str(device).startswith('cuda')
    return _run_fresh([builder, kwargs, device, 1, 1, grad], None if cuda else EXACT_RSS_ENV)


def measure_steps_paired_in_subprocess(
    builder, kwargs_list, device='cpu', repeat=10, warmup=2, grad=False
):
    """:func:`measure_steps_paired` in a fresh interpreter; if that process fails, every entry
    gets its error."""
    args = [builder, kwargs_list, device, repeat, warmup, grad]
    result = _run_fresh(args, function='measure_steps_paired')
    return [result] * len(kwargs_list) if isinstance(result, dict) else result

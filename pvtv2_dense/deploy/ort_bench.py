"""CPU timing of ONNX Runtime graphs (float32, INT8) against our PyTorch model, as paired,
interleaved runs: each round runs every backend once on the same input, so load on a shared
machine hits all of them alike; the table gives medians and per-round ratios."""

import time

import numpy as np
import torch


def ort_session(path, threads=None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def paired_timings(runners, x, rounds=10, warmup=2):
    """Seconds per call of each runner, ``rounds`` interleaved rounds after ``warmup``.

    Args:
        runners (dict[str, callable]): name -> ``f(x)``.
        x (np.ndarray): the input.

    Returns:
        dict[str, list[float]]: each runner's times, round by round.
    """
    times = {name: [] for name in runners}
    for i in range(warmup + rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(x)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def speed_table(model, graphs, shape, rounds=10, threads=None, seed=0):
    """Rows (backend, median ms, median ratio to PyTorch, agreement with PyTorch).

    Args:
        model (nn.Module): ours, eval mode (speed-ups as configured), CPU.
        graphs (dict[str, str]): name -> ONNX file (first output compared).
        shape (tuple[int, int]): H, W of the (1, 3, H, W) input.
        rounds (int): timed rounds.
        threads (int, optional): ONNX Runtime intra-op threads (PyTorch's are
            ``torch.get_num_threads()``).
    """
    from .plain import TensorForward
    from .quantize import agreement, task_of

    task = task_of(model)
    x = np.random.default_rng(seed).standard_normal((1, 3, *shape)).astype('f4')
    reference = TensorForward(model).eval()

    def ours(inputs):
        with torch.no_grad():
            out = reference(torch.from_numpy(inputs))
        return out[0] if isinstance(out, (tuple, list)) else out

    sessions = {name: ort_session(path, threads) for name, path in graphs.items()}
    runners = {'PyTorch (ours)': ours}
    for name, session in sessions.items():
        feed = session.get_inputs()[0].name
        runners[name] = lambda inputs, s=session, f=feed: s.run(None, {f: inputs})[0]
    times = paired_timings(runners, x, rounds)
    want = np.asarray(ours(x))
    base = np.array(times['PyTorch (ours)'])
    rows = []
    for name, run in runners.items():
        t = np.array(times[name])
        measure, value = agreement(task, want, np.asarray(run(x)))
        rows.append((name, float(np.median(t) * 1e3), float(np.median(base / t)), measure, value))
    return task, rows

"""The one registry of implementations: for every component with a speed-up, the names its config
key takes, what each builds, and for each speed-up its plain twin and its self-check.

A component is chosen by one config key (``COMPONENTS``): the backbone's ``attn_impl`` and
``ffn_impl``, the mask decoders' ``mask_impl``, the detectors' ``msda_impl``, and the ``type``
of the decode head and of its loss. A plain entry is a published definition; a fast entry
(``plain`` set) computes the same function with the same parameters, and names

- ``plain``: its twin, which ``pvtv2_dense.deploy.plain`` swaps in for export;
- ``check``: a function of no argument that builds both on a small random input and raises
  ``AssertionError`` when they differ (``tests/models/test_implementations.py`` runs every one,
  so a new entry is tested without a new test).

Entries are registered by the module defining the implementation (``register``), so this module
imports nothing of ``models``; ``docs/extending.md`` walks through adding one.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import ConfigError, did_you_mean

# component -> (the config key that chooses it, what it is).
COMPONENTS = {
    'attention': ('attn_impl', 'PVTv2 (attention)'),
    'ffn': ('ffn_impl', 'PVTv2 (FFN and block)'),
    'mask_attention': ('mask_impl', 'mask decoder'),
    'decode_head': ('type', 'decode head'),
    'loss': ('type', 'decode head loss'),
    'deformable_attention': ('msda_impl', 'deformable attention'),
}


@dataclass(frozen=True)
class Implementation:
    """One registered implementation.

    Attributes:
        component (str): a key of ``COMPONENTS``.
        name (str): the value of the component's config key that selects it.
        build (callable): what builds it (a class, or one with options bound); None for a plain
            twin built elsewhere (e.g. an mmseg loss, built by its ``type``).
        plain (str | None): the plain twin's name; None for a plain definition.
        check (callable | None): the speed-up's self-check (see the module); None when plain.
        note (str): one line on what it is.
    """

    component: str
    name: str
    build: Callable | None
    plain: str | None = None
    check: Callable | None = None
    note: str = ''

    @property
    def is_fast(self) -> bool:
        return self.plain is not None


REGISTRY: dict[str, dict[str, Implementation]] = {c: {} for c in COMPONENTS}


def register(component, name, build, plain=None, check=None, note=''):
    """Register an implementation (see :class:`Implementation`); a speed-up names its plain twin
    and its self-check.

    Raises:
        ConfigError: an unknown component, a name taken, or a speed-up without its check.
    """
    if component not in REGISTRY:
        raise ConfigError(f'implementation {name!r}: unknown component {component!r}')
    if name in REGISTRY[component]:
        raise ConfigError(f'implementation {name!r} of {component} is registered already')
    if plain is not None and check is None:
        raise ConfigError(f'speed-up {name!r} of {component} names no self-check')
    REGISTRY[component][name] = Implementation(component, name, build, plain, check, note)
    return build


def get(component, name) -> Implementation:
    """The implementation ``name`` of ``component``.

    Raises:
        ConfigError: an unknown name, with the config key and the names it takes.
    """
    entries = REGISTRY[component]
    if name not in entries:
        key, what = COMPONENTS[component]
        raise ConfigError(
            f'{what}: {key}={name!r}{did_you_mean(name, entries)}; expected one of {tuple(entries)}'
        )
    return entries[name]


def speed_ups() -> list[Implementation]:
    """Every registered speed-up."""
    return [e for entries in REGISTRY.values() for e in entries.values() if e.is_fast]


def plain_config(cfg):
    """A config with every speed-up replaced by its plain twin, read from the registry.

    Every dict inside ``cfg`` (and inside its lists) that holds a component's key with a
    speed-up's name gets the twin's name instead; the rest is unchanged. ``cfg`` is modified in
    place and returned.
    """
    if isinstance(cfg, dict):
        for component, (key, _) in COMPONENTS.items():
            entry = REGISTRY[component].get(cfg.get(key)) if isinstance(cfg.get(key), str) else None
            if entry is not None and entry.is_fast:
                cfg[key] = entry.plain
        for value in cfg.values():
            plain_config(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            plain_config(value)
    return cfg


def _tensors(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    return []


def _run(module, inputs, train, grad):
    module.train(train)
    module.zero_grad(set_to_none=True)
    xs = [
        x.detach().clone().requires_grad_(grad and x.is_floating_point())
        if isinstance(x, torch.Tensor)
        else x
        for x in inputs
    ]
    torch.manual_seed(0)  # the same dropout and drop-path draws in both
    with torch.set_grad_enabled(grad):
        outs = _tensors(module(*xs))
    if not grad:
        return outs
    torch.manual_seed(1)
    # randn of the shape, not randn_like: that follows the memory layout, which may differ.
    weights = [torch.randn(o.shape, dtype=o.dtype) for o in outs if o.is_floating_point()]
    sum(
        (o * w).sum() for o, w in zip((o for o in outs if o.is_floating_point()), weights)
    ).backward()
    params = [p.grad for p in module.parameters() if p.requires_grad]
    grads = [x.grad for x in xs if isinstance(x, torch.Tensor) and x.requires_grad]
    return outs + grads + params


# Tolerances of two orders of summation in float64 and in float32.
TOLERANCES = {torch.float64: dict(rtol=1e-7, atol=1e-9), torch.float32: dict(rtol=1e-4, atol=1e-5)}


def check_same(
    plain: nn.Module,
    fast: nn.Module,
    inputs: Sequence[torch.Tensor],
    modes: Sequence[tuple[bool, bool]] = ((False, False), (False, True), (True, True)),
    dtype: torch.dtype = torch.float64,
):
    """A speed-up's self-check: ``fast``, given ``plain``'s weights, computes what ``plain``
    computes: outputs, and where autograd runs the gradients of the inputs and parameters.

    Args:
        plain (nn.Module): the plain twin.
        fast (nn.Module): the speed-up, with the same parameters.
        inputs (Sequence): the forward's positional arguments (floating tensors are cast to
            float64; other values are passed as they are).
        modes (Sequence[tuple[bool, bool]]): (training, autograd) pairs to compare in.
        dtype (torch.dtype): of the modules and inputs: float64, or float32 for a speed-up that
            computes in float32 whatever its input. Defaults to float64.

    Raises:
        AssertionError: a value or gradient differs (beyond rounding in ``dtype``).
    """
    plain, fast = plain.to(dtype), fast.to(dtype)
    fast.load_state_dict(plain.state_dict())
    inputs = [
        x.to(dtype) if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs
    ]
    for train, grad in modes:
        want, got = _run(plain, inputs, train, grad), _run(fast, inputs, train, grad)
        if len(want) != len(got):
            raise AssertionError(f'{type(fast).__name__}: {len(got)} results, plain {len(want)}')
        for i, (a, b) in enumerate(zip(want, got)):
            torch.testing.assert_close(
                b,
                a,
                **TOLERANCES[dtype],
                msg=lambda m, where=f'train={train}, grad={grad}, result {i}': (
                    f'{type(fast).__name__} ({where}): {m}'
                ),
            )

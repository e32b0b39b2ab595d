"""mmcv's ``MultiScaleDeformableAttention`` with its kernel chosen by name (``msda_impl``).

- ``'mmcv'``: mmcv's module as published (its CUDA kernel on CUDA, its PyTorch path elsewhere).
- ``'lean'``: the kernel of :mod:`.lean_msda` on every device (one-line error where it cannot
  reproduce mmcv's result, e.g. under autocast or in float16).
- ``'auto'``: ``'lean'`` on the CPU where it applies (float32/float64, no autocast), mmcv's own
  path everywhere else, so mmcv's CUDA kernel stays what runs on a GPU.

:class:`LeanMultiScaleDeformableAttention` subclasses mmcv's module and holds the same
parameters, so checkpoints load either way. mmdet's encoder and decoder layers build mmcv's class
directly, so a detector selects the implementation after building them: :func:`set_msda_impl`
(what :class:`MSDAImplMixin`'s ``msda_impl`` argument calls) swaps the modules' class in place.
"""

from functools import partial

import torch
from mmcv.ops import MultiScaleDeformableAttention
from mmdet.models.detectors import DeformableDETR

from ...errors import ConfigError, did_you_mean
from ...registry import register_model
from .. import implementations
from .lean_msda import lean_msda, unsupported_reason

MSDA_IMPLS = ('mmcv', 'lean', 'auto')


def _check_impl(impl):
    if impl not in MSDA_IMPLS:
        hint = did_you_mean(impl, MSDA_IMPLS)
        raise ConfigError(f'msda_impl={impl!r}; expected one of {MSDA_IMPLS}{hint}')


@register_model()
class LeanMultiScaleDeformableAttention(MultiScaleDeformableAttention):
    """mmcv's ``MultiScaleDeformableAttention`` (same arguments, parameters and maths) whose
    sampling kernel is ``impl`` (see the module docstring); ``impl='mmcv'`` is mmcv's forward.

    Args:
        impl (str): 'auto' (default), 'lean' or 'mmcv'.
        *args, **kwargs: mmcv's ``MultiScaleDeformableAttention`` arguments.
    """

    def __init__(self, *args, impl='auto', **kwargs):
        _check_impl(impl)
        super().__init__(*args, **kwargs)
        self.impl = impl

    def forward(
        self,
        query,
        key=None,
        value=None,
        identity=None,
        query_pos=None,
        key_padding_mask=None,
        reference_points=None,
        spatial_shapes=None,
        level_start_index=None,
        **kwargs,
    ):
        """mmcv's forward (same arguments and result), its kernel chosen by ``self.impl``."""
        if self.uses_mmcv(query):
            return super().forward(
                query, key, value, identity, query_pos, key_padding_mask,
                reference_points, spatial_shapes, level_start_index, **kwargs,
            )  # fmt: skip
        identity = kwargs.get('residual') if identity is None else identity  # mmcv's old name
        query, value, identity = batch_first_tokens(self, query, value, identity, query_pos)
        value, locations, weights = self._sampling_inputs(
            query, value, key_padding_mask, reference_points, spatial_shapes
        )
        reason = unsupported_reason(value, spatial_shapes, locations, weights)
        if self.impl == 'auto' and reason is not None:
            from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch

            output = multi_scale_deformable_attn_pytorch(value, spatial_shapes, locations, weights)
        else:
            output = lean_msda(value, spatial_shapes, locations, weights)
        return project_output(self, output, identity)

    def uses_mmcv(self, query):
        """Whether a forward on ``query`` is mmcv's own: ``impl='mmcv'``, or 'auto' off the CPU
        (mmcv's CUDA kernel on a GPU)."""
        return self.impl == 'mmcv' or (self.impl == 'auto' and query.device.type != 'cpu')

    def _sampling_inputs(self, query, value, key_padding_mask, reference_points, spatial_shapes):
        """:func:`sampling_inputs` after checking the level sizes against the value tokens."""
        if int(spatial_shapes.prod(1).sum()) != value.shape[1]:
            raise ConfigError(
                f'multi-scale deformable attention: level sizes {spatial_shapes.tolist()} do '
                f'not add up to the {value.shape[1]} value tokens'
            )
        return sampling_inputs(
            self, query, value, key_padding_mask, reference_points, spatial_shapes.flip(-1)
        )


def batch_first_tokens(attn, query, value, identity, query_pos):
    """mmcv's forward up to the sampling: ``value`` and ``identity`` default to ``query``, the
    query position is added, and the tokens are made (batch, tokens, dims)."""
    value = query if value is None else value
    identity = query if identity is None else identity
    query = query if query_pos is None else query + query_pos
    if not attn.batch_first:  # (tokens, batch, dims) -> (batch, tokens, dims)
        query, value = query.transpose(0, 1), value.transpose(0, 1)
    return query, value, identity


def project_output(attn, output, identity):
    """mmcv's forward after the sampling: output projection, the caller's token layout,
    dropout and the residual."""
    output = attn.output_proj(output)
    if not attn.batch_first:
        output = output.transpose(0, 1)
    return attn.dropout(output) + identity


def sampling_inputs(attn, query, value, key_padding_mask, reference_points, level_wh):
    """The kernel's inputs as mmcv's forward computes them from batch-first tokens: projected
    values (padding zeroed), sampling locations and softmax attention weights.

    Args:
        attn (MultiScaleDeformableAttention): the module whose projections are used.
        query (Tensor): (batch, queries, dims), the query position already added.
        value (Tensor): (batch, tokens, dims).
        key_padding_mask (Tensor | None): (batch, tokens), True at padding.
        reference_points (Tensor): (batch, queries, levels, 2 or 4): points or boxes.
        level_wh (Tensor): (levels, 2), each level's (width, height).
    """
    bs, num_query, _ = query.shape
    num_value = value.shape[1]
    heads, levels, points = attn.num_heads, attn.num_levels, attn.num_points
    value = attn.value_proj(value)
    if key_padding_mask is not None:
        value = value.masked_fill(key_padding_mask[..., None], 0.0)
    value = value.view(bs, num_value, heads, -1)
    offsets = attn.sampling_offsets(query).view(bs, num_query, heads, levels, points, 2)
    weights = attn.attention_weights(query).view(bs, num_query, heads, levels * points)
    weights = weights.softmax(-1).view(bs, num_query, heads, levels, points)
    ref = reference_points[:, :, None, :, None]
    if reference_points.shape[-1] == 2:  # points: offsets in pixels of each level
        locations = ref + offsets / level_wh[None, None, None, :, None]
    elif reference_points.shape[-1] == 4:  # boxes: offsets in half box sizes over points
        locations = ref[..., :2] + offsets / points * ref[..., 2:] * 0.5
    else:
        raise ConfigError(
            'multi-scale deformable attention: reference_points end in '
            f'{reference_points.shape[-1]} values; expected 2 (points) or 4 (boxes)'
        )
    return value, locations, weights


def set_msda_impl(model, impl):
    """Give every mmcv ``MultiScaleDeformableAttention`` in ``model`` the kernel ``impl``, in
    place: its class becomes :class:`LeanMultiScaleDeformableAttention` (``impl`` 'lean' or
    'auto') or mmcv's again ('mmcv'); parameters, and so checkpoints, stay as they are.

    Args:
        model (nn.Module): any module (a detector).
        impl (str): one of :data:`MSDA_IMPLS`.

    Returns:
        int: how many attention modules were set.

    Raises:
        ConfigError: an unknown ``impl``.
    """
    _check_impl(impl)
    count = 0
    for module in model.modules():
        if isinstance(module, MultiScaleDeformableAttention):
            if impl == 'mmcv':
                module.__class__ = MultiScaleDeformableAttention
            else:
                module.__class__ = LeanMultiScaleDeformableAttention
                module.impl = impl
            count += 1
    return count


class MSDAImplMixin:
    """For a detector built on mmdet's deformable layers: an ``msda_impl`` argument (one of
    :data:`MSDA_IMPLS`, default 'mmcv': mmcv's module as published) that
    :func:`set_msda_impl` applies to every attention of the built detector."""

    def __init__(self, *args, msda_impl='mmcv', **kwargs):
        _check_impl(msda_impl)
        super().__init__(*args, **kwargs)
        self.msda_impl = msda_impl
        set_msda_impl(self, msda_impl)


@register_model()
class DeformableDETRMSDA(MSDAImplMixin, DeformableDETR):
    """mmdet's ``DeformableDETR`` (same arguments, parameters and results) with ``msda_impl``,
    the implementation of its encoder's and decoder's deformable attention (see
    :class:`MSDAImplMixin`); the shipped configs select 'auto'."""


def self_check():
    """The registry's self-check: 'lean' and 'auto' give mmcv's output and gradients (CPU,
    float64, a padding mask, odd level sizes, batch 2)."""
    shapes = torch.tensor([[5, 3], [3, 1], [1, 2]])
    keys = int(shapes.prod(1).sum())
    start = torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])
    g = torch.Generator().manual_seed(0)
    pad = torch.zeros(2, keys, dtype=torch.bool)
    pad[1, -4:] = True
    ref = torch.rand(2, 6, len(shapes), 2, generator=g)
    value = torch.randn(2, keys, 8, generator=g)
    args = [torch.randn(2, 6, 8, generator=g), None, value, None, None, pad, ref, shapes, start]
    for impl in ('lean', 'auto'):
        build = partial(
            LeanMultiScaleDeformableAttention, 8, num_heads=2, num_levels=3, batch_first=True
        )
        plain, fast = build(num_points=2, impl='mmcv'), build(num_points=2, impl=impl)
        with torch.no_grad():  # mmcv initialises offsets on a grid; random ones test more
            plain.sampling_offsets.weight.normal_(std=0.3)
        implementations.check_same(plain, fast, args)


_build = partial(LeanMultiScaleDeformableAttention)
implementations.register(
    'deformable_attention', 'mmcv', partial(_build, impl='mmcv'), note="mmcv's, as published"
)
for _impl in ('lean', 'auto'):
    implementations.register(
        'deformable_attention', _impl, partial(_build, impl=_impl), plain='mmcv',
        check=self_check,
    )  # fmt: skip

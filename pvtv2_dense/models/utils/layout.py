"""Moves between token layout (B, N, C) and image layout (B, C, H, W) without copies.

A token tensor of shape (B, H*W, C) has exactly the memory of a channels-last image, so viewing it
as (B, H, W, C) and permuting gives an NCHW tensor with channels-last strides for free. PyTorch's
convolutions accept it as is and answer in the same layout, and going back is free as well. The
reference implementations transpose and copy at each of these crossings instead.
"""

import torch


def tokens_to_image(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """(B, H*W, C) tokens -> (B, C, H, W) image with channels-last strides (a view)."""
    b, _, c = x.shape
    return x.reshape(b, hw[0], hw[1], c).permute(0, 3, 1, 2)


def image_to_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) image -> (B, H*W, C) tokens; a view when ``x`` is channels-last."""
    b, c = x.shape[:2]
    return x.permute(0, 2, 3, 1).reshape(b, -1, c)

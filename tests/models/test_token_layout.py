"""Token/image layout helpers: free views both ways."""

import torch

from pvtv2_dense.models.utils import image_to_tokens, tokens_to_image


def test_views_round_trip_without_copies():
    x = torch.randn(2, 6 * 5, 4)
    img = tokens_to_image(x, (6, 5))
    assert img.shape == (2, 4, 6, 5) and img.is_contiguous(memory_format=torch.channels_last)
    assert img.data_ptr() == x.data_ptr()
    back = image_to_tokens(img)
    assert back.data_ptr() == x.data_ptr() and torch.equal(back, x)

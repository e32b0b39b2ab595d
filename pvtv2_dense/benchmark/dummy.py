"""Random batches for measuring a config's model: inputs already resized, padded and
normalised, and the data samples whose image metas the model reads."""

import torch


def image_meta(height, width):
    """The metas of one ``height`` x ``width`` image that needed no resizing or padding."""
    size = (height, width)
    return dict(
        img_shape=size,
        ori_shape=size,
        pad_shape=size,
        batch_input_shape=size,
        scale_factor=(1.0, 1.0),
        flip=False,
    )


def det_samples(batch, height, width):
    """One mmdet ``DetDataSample`` per image, holding only :func:`image_meta` (no ground truth)."""
    from mmdet.structures import DetDataSample

    return [DetDataSample(metainfo=image_meta(height, width)) for _ in range(batch)]


def dummy_batch(cfg, batch, height, width, device='cpu'):
    """Normalised random inputs and the data samples ``predict`` or ``mode='tensor'`` needs.

    Args:
        cfg (Config): the config; its ``default_scope`` tells the task's library.
        batch (int): images.
        height (int): input height.
        width (int): input width.
        device (str): torch device of the inputs.

    Returns:
        tuple[Tensor, list | None]: (batch, 3, height, width) inputs, and det samples for mmdet
        models (detectors read the metas); None for the others (mmseg segmentors, depth
        estimators and classifiers fill in what they need themselves).
    """
    inputs = torch.randn(batch, 3, height, width, device=device)
    if not str(cfg.get('default_scope', 'mmseg')).startswith('mmdet'):
        return inputs, None
    return inputs, det_samples(batch, height, width)

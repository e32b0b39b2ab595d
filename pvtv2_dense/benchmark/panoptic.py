"""Panoptic benchmark models: a config's Panoptic SegFormer on our PVTv2, and mmdet's Mask2Former
(the panoptic model of mmdet 3.3, its COCO panoptic config) on the same PVTv2 holding the same
weights.

Mask2Former reads all four backbone stages (strides 4-32; its pixel decoder builds the stride-4
mask features), Panoptic SegFormer stages 2-4: both get the config's PVTv2 with the same
parameters, Mask2Former's returning one more output. Both keep COCO's 80 + 53 classes.
"""

import os.path as osp

import torch

from ..errors import ConfigError
from .config_models import build_from_config
from .detr import detector_step
from .dummy import det_samples

MASK2FORMER = 'mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py'
NUM_THINGS, NUM_STUFF = 80, 53


def _mmdet_config(name):
    import mmdet

    return osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', name)


def panoptic_samples(batch, h, w, device, with_gt, num_gt=4):
    """Det samples of one ``h`` x ``w`` image each (already resized and padded); with
    ``with_gt``, ``num_gt`` seeded random thing boxes with box-shaped masks, on two stuff bands
    (top and bottom half), in mmdet's panoptic ground-truth convention."""
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData, PixelData

    gen = torch.Generator().manual_seed(1)
    samples = det_samples(batch, h, w)
    if not with_gt:
        return samples
    for sample in samples:
        sem = torch.full((h, w), NUM_THINGS, dtype=torch.long)
        sem[h // 2 :] = NUM_THINGS + 1
        xy = torch.rand(num_gt, 2, generator=gen) * torch.tensor([w / 2, h / 2])
        wh = (0.1 + 0.4 * torch.rand(num_gt, 2, generator=gen)) * torch.tensor([w, h])
        boxes = torch.cat([xy, xy + wh], 1)
        labels = torch.randint(0, NUM_THINGS, (num_gt,), generator=gen)
        masks = torch.zeros(num_gt, h, w, dtype=torch.uint8)
        for k, (x0, y0, x1, y1) in enumerate(boxes.round().long().tolist()):
            masks[k, y0:y1, x0:x1] = 1
            sem[masks[k].bool()] = labels[k]
        sample.gt_instances = InstanceData(
            bboxes=boxes.to(device),
            labels=labels.to(device),
            masks=BitmapMasks(masks.numpy(), h, w),
        )
        sample.gt_sem_seg = PixelData(sem_seg=sem[None].to(device))
    return samples


def build_panoptic(impl, config):
    """Panoptic SegFormer of our ``config`` ('ours') or mmdet's COCO panoptic Mask2Former
    ('mask2former') on the same PVTv2 (same class, same weights)."""
    from mmengine.config import Config

    if impl not in ('ours', 'mask2former'):
        raise ConfigError(f"unknown implementation {impl!r}; expected 'ours' or 'mask2former'")
    torch.manual_seed(0)
    ours = build_from_config(config, 'mmdet', {'model.backbone.init_cfg': None})
    if impl == 'ours':
        return ours
    backbone = Config.fromfile(config).model.backbone.to_dict()
    backbone.update(out_indices=(0, 1, 2, 3), init_cfg=None)
    widths = list(ours.backbone.arch['hidden_sizes'])
    options = {
        'model.backbone': dict(backbone, _delete_=True),
        'model.panoptic_head.in_channels': widths,
        # mmdet's config pads every batch to its 1024 LSJ crop: time the same input as ours.
        'model.data_preprocessor.batch_augments': None,
    }
    model = build_from_config(_mmdet_config(MASK2FORMER), 'mmdet', options)
    model.backbone.load_state_dict(ours.backbone.state_dict(), strict=True)
    return model


def panoptic_step(impl, arch, config, mode='infer', size=640, batch=1, device='cpu'):
    """Panoptic model ``impl`` on ``config``'s PVTv2: inference (``predict``, as a test step
    runs it, panoptic maps out) or a training step, on a ``size`` input. ``arch`` names the
    backbone size in tables (the config decides it)."""
    return detector_step(build_panoptic(impl, config), panoptic_samples, mode, size, batch, device)

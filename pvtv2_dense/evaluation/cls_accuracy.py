"""Top-k accuracy of a classifier, in percent."""

from collections.abc import Sequence

import torch
from mmengine.evaluator import BaseMetric

from ..registry import register_metric


@register_metric()
class ClsAccuracy(BaseMetric):
    """Top-k accuracy over the data samples' ``pred_score`` and ``gt_label``.

    Keys are mmpretrain's: ``accuracy/top1``, ``accuracy/top5``.

    Args:
        topk (Sequence[int]): the k to report. Defaults to (1, 5).
        collect_device (str): where results are gathered across processes. Defaults to 'cpu'.
        prefix (str, optional): metric name prefix. Defaults to None.
    """

    default_prefix = 'accuracy'

    def __init__(self, topk: Sequence[int] = (1, 5), collect_device='cpu', prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            pred, gt = sample['pred_score'], sample['gt_label']
            self.results.append((pred.cpu(), int(gt.view(-1)[0])))

    def compute_metrics(self, results):
        scores = torch.stack([r[0] for r in results])
        labels = torch.tensor([r[1] for r in results])
        ranked = scores.argsort(dim=1, descending=True)
        out = {}
        for k in self.topk:
            hit = (ranked[:, : min(k, scores.shape[1])] == labels[:, None]).any(dim=1)
            out[f'top{k}'] = hit.float().mean().item() * 100
        return out

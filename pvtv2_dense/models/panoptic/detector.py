"""Panoptic SegFormer (Li et al., CVPR 2022) on mmdet 3.3's Deformable DETR.

Backbone -> ``ChannelMapper`` (4 levels) -> mmdet's deformable encoder -> mmdet's deformable
decoder with box refinement (the location decoder) -> :class:`PanopticSegFormerHead` (boxes and
classes of the thing queries, the thing and stuff mask decoders on the encoder's tokens, and
mask-wise merging). Everything up to the head is mmdet's ``DeformableDETR``; this class only
hands the encoder's tokens to the head and returns panoptic maps.
"""

from mmdet.models.detectors import DeformableDETR

from ...registry import register_model
from ..layers.msda_attention import MSDAImplMixin


@register_model()
class PanopticSegFormer(MSDAImplMixin, DeformableDETR):
    """``DeformableDETR`` whose head also reads the encoder memory and predicts panoptic maps.

    Same arguments as mmdet's ``DeformableDETR`` (``as_two_stage`` must stay False), plus
    ``msda_impl``, the deformable attention's implementation (``MSDAImplMixin``); the head
    is a :class:`PanopticSegFormerHead`. ``predict`` fills ``pred_panoptic_seg`` of each data
    sample (``sem_seg`` of shape (1, H, W), mmdet's panoptic convention), what mmdet's
    ``CocoPanopticMetric`` and ``DetLocalVisualizer`` read.
    """

    def forward_transformer(self, img_feats, batch_data_samples=None):
        """mmdet's four transformer steps; the head inputs also get the encoder's tokens."""
        encoder_inputs, decoder_inputs = self.pre_transformer(img_feats, batch_data_samples)
        encoder_outputs = self.forward_encoder(**encoder_inputs)
        decoder_extra, head_inputs = self.pre_decoder(**encoder_outputs)
        decoder_inputs.update(decoder_extra)
        head_inputs.update(self.forward_decoder(**decoder_inputs))
        head_inputs.update(
            memory=encoder_outputs['memory'], spatial_shapes=encoder_inputs['spatial_shapes']
        )
        return head_inputs

    def predict(self, batch_inputs, batch_data_samples, rescale=True):
        img_feats = self.extract_feat(batch_inputs)
        head_inputs = self.forward_transformer(img_feats, batch_data_samples)
        head_inputs.pop('enc_outputs_class', None)
        head_inputs.pop('enc_outputs_coord', None)
        results = self.bbox_head.predict(
            **head_inputs, rescale=rescale, batch_data_samples=batch_data_samples
        )
        for sample, panoptic in zip(batch_data_samples, results):
            sample.pred_panoptic_seg = panoptic
        return batch_data_samples

    def _forward(self, batch_inputs, batch_data_samples=None):
        """Tensor mode (FLOP counting, export): the inference network up to the merging."""
        img_feats = self.extract_feat(batch_inputs)
        head_inputs = self.forward_transformer(img_feats, batch_data_samples)
        out = self.bbox_head.forward_panoptic(
            head_inputs['hidden_states'],
            head_inputs['references'],
            head_inputs['memory'],
            head_inputs['spatial_shapes'],
        )
        return tuple(out.values())

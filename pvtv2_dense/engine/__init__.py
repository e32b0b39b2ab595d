from .depth_writer_hook import DepthPredictionWriterHook

__all__ = ['DepthPredictionWriterHook']

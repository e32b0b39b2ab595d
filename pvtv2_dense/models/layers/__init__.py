from .sync_bn import LocalSyncBatchNorm, should_sync

__all__ = ['LocalSyncBatchNorm', 'should_sync']

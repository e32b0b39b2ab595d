from .pvt_v2 import ARCH_SETTINGS, PVTv2, resolve_arch

__all__ = ['ARCH_SETTINGS', 'PVTv2', 'resolve_arch']

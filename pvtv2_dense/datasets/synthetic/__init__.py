from .ade20k import generate_ade20k

__all__ = ['generate_ade20k']

from .layout import image_to_tokens, tokens_to_image

__all__ = ['image_to_tokens', 'tokens_to_image']

from .layout import image_to_tokens, token_linear, tokens_to_image

__all__ = ['image_to_tokens', 'token_linear', 'tokens_to_image']

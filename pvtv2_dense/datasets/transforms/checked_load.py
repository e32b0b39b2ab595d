"""Image loading that names the file it cannot read or decode, in one line."""

import mmcv
from mmcv.transforms import BaseTransform

from ...errors import DataError
from ...registry import register_transform


@register_transform()
class CheckedLoadImage(BaseTransform):
    """Load ``img_path`` as a BGR uint8 image, or fail with one line naming the file.

    Args:
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.
    """

    def __init__(self, imdecode_backend: str = 'cv2'):
        self.imdecode_backend = imdecode_backend

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        try:
            with open(path, 'rb') as f:
                content = f.read()
        except OSError as err:
            raise DataError(f'image {path} cannot be read: {err.strerror or err}') from None
        if not content:
            raise DataError(f'image {path} cannot be decoded: the file is empty')
        try:
            img = mmcv.imfrombytes(content, flag='color', backend=self.imdecode_backend)
        except Exception:  # noqa: BLE001  (each decoding backend raises its own error type)
            img = None
        if img is None:
            raise DataError(f'image {path} cannot be decoded (not an image, or truncated)')
        results.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return results

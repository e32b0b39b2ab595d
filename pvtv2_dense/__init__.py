"""pvtv2_dense: PVTv2 backbones for segmentation, depth and detection on the OpenMMLab stack.

Importing the package registers every component in the mmseg and mmdet registries and makes
checkpoint loading safe on torch >= 2.6 (see ``pvtv2_dense.checkpoint.safety``).
"""

from .checkpoint.safety import install_safe_checkpoint_loading

install_safe_checkpoint_loading()

from .zoo.packaged import install_package_configs  # noqa: E402

install_package_configs()  # `_base_ = 'pvtv2_dense::PATH'` works from any folder

# Registers the models, datasets, transforms, hooks and metrics.
from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__']

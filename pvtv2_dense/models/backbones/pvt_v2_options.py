"""Where PVTv2's presets used to live; they are in ``pvtv2_dense.arch`` now. Kept for the two
importers outside this package's owner (``deploy/hf.py``, ``checkpoint/hf_deformable_detr.py``)
until they import ``pvtv2_dense.arch``."""

from ...arch import DEFAULT_OPTIONS, PER_STAGE  # noqa: F401

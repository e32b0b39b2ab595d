"""Our configs by package-scoped name from any folder: ``_base_ = 'pvtv2_dense::PATH'``.

mmengine resolves ``PKG::PATH`` itself only for packages in its ``MODULE2PACKAGE`` table, finds
them through ``pkg.location`` (which misses an editable install) and marks what such a base
defines with the package as its registry scope, while our configs build mmseg's and mmdet's
components under their own ``default_scope``. So ``pvtv2_dense::PATH`` is resolved here: the
shipped config ``PATH`` (:func:`~pvtv2_dense.zoo.manifest.configs_root`: the package's
``.mim/configs``, a link to the repository's ``configs/`` that a wheel carries), with no scope.
"""

import os.path as osp

from mmengine.config import Config
from mmengine.config import utils as config_utils

from ..errors import ConfigError
from .manifest import configs_root

PACKAGE = 'pvtv2_dense'
PREFIX = f'{PACKAGE}::'
_installed = False


def packaged_config(name) -> str:
    """The file of ``pvtv2_dense::PATH`` (or of ``PATH``, a path under configs/)."""
    rel = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    path = osp.join(configs_root(), rel)
    if not osp.isfile(path):
        raise ConfigError(
            f'{name}: no config {rel} ships with pvtv2_dense (under {configs_root()})'
        )
    return path


def install_package_configs():
    """Let mmengine's Config resolve ``pvtv2_dense::`` base names (idempotent)."""
    global _installed
    if _installed:
        return
    config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)  # for mim's own tools
    find = Config._get_cfg_path

    def _get_cfg_path(cfg_path, filename):
        if cfg_path.startswith(PREFIX):
            return packaged_config(cfg_path), None
        return find(cfg_path, filename)

    Config._get_cfg_path = staticmethod(_get_cfg_path)
    _installed = True

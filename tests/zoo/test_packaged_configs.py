"""Configs usable from anywhere: ``_base_ = 'pvtv2_dense::PATH'`` finds the shipped configs from
any folder (a copied custom config included), and builds with the base's own registries."""

import os
import os.path as osp
import shutil

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.errors import ConfigError
from pvtv2_dense.zoo import configs_root, is_zoo_name
from tests.helpers.common import ROOT

CUSTOM_DIR = osp.join(ROOT, 'configs', 'custom')
CUSTOM = sorted(osp.join(CUSTOM_DIR, f) for f in os.listdir(CUSTOM_DIR))


def test_packaged_configs_are_the_repository_configs():
    assert osp.samefile(configs_root(), osp.join(ROOT, 'configs'))
    link = osp.join(ROOT, 'pvtv2_dense', '.mim', 'configs')
    assert osp.islink(link) and osp.samefile(link, osp.join(ROOT, 'configs'))


def test_a_config_in_any_folder_inherits_by_package_name(tmp_path):
    path = tmp_path / 'mine.py'
    path.write_text(
        "_base_ = 'pvtv2_dense::segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py'\n"
        'model = dict(decode_head=dict(num_classes=3))\n'
    )
    cfg = Config.fromfile(str(path))
    assert cfg.model.decode_head.num_classes == 3
    assert '_scope_' not in cfg.model  # the base's default_scope (mmseg) builds it
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'EncoderDecoder'


def test_an_unknown_packaged_config_is_one_line(tmp_path):
    path = tmp_path / 'mine.py'
    path.write_text("_base_ = 'pvtv2_dense::segformer/no_such_config.py'\n")
    with pytest.raises(ConfigError) as info:
        Config.fromfile(str(path))
    assert 'no config segformer/no_such_config.py ships with pvtv2_dense' in str(info.value)


@pytest.mark.parametrize('src', CUSTOM, ids=osp.basename)
def test_a_copied_custom_config_works_outside_the_repository(src, tmp_path):
    dst = tmp_path / osp.basename(src)
    shutil.copy(src, dst)
    cfg = Config.fromfile(str(dst))
    # Everything a user must set sits above the line, and the weights resolve by name.
    head = open(src, encoding='utf-8').read().split('# ' + '-' * 20)[0]
    assert 'data_root =' in head and 'checkpoint =' in head
    assert is_zoo_name(cfg.checkpoint)
    assert cfg.model.backbone.init_cfg.checkpoint == cfg.checkpoint
    if 'seg-512x512' in src or 'depth' in src:
        assert 'img_suffix =' in head
        assert cfg.train_dataloader.dataset.img_suffix == cfg.img_suffix

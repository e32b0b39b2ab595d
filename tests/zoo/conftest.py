"""Fixtures of the zoo tests: an empty cache and a local server for the mirror and HF hosts."""

import pytest

from pvtv2_dense.zoo import MIRROR_ENV
from tests.helpers.checkpoint_server import serve


@pytest.fixture
def zoo_env(tmp_path, monkeypatch):
    """A fresh torch hub dir (the zoo cache lives under it) and no mirror set."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    return tmp_path


@pytest.fixture
def mirror(zoo_env, monkeypatch):
    """A local HTTP server set as the mirror (``PVTV2_DENSE_MIRROR``), serving ``served/``."""
    root = zoo_env / 'served'
    root.mkdir()
    with serve(root) as served:
        monkeypatch.setenv(MIRROR_ENV, served['url'])
        yield served

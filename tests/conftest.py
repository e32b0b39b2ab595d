"""Fixtures shared by every test; plain helpers live in ``tests/helpers/``."""

import pytest

import pvtv2_dense  # noqa: F401  (registers modules, installs safe loading)
from pvtv2_dense.datasets import generate_ade20k


@pytest.fixture(scope='session')
def ade_root(tmp_path_factory):
    """A tiny synthetic dataset in the ADE20K layout."""
    return generate_ade20k(str(tmp_path_factory.mktemp('ade')), num_train=8, num_val=4, seed=1)

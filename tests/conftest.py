import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import symgrad  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests may change the default dtype or print options; put them back."""
    default = symgrad.get_default_dtype()
    options = symgrad.get_printoptions()
    yield
    symgrad.set_default_dtype(default)
    symgrad.set_printoptions(**{k: v for k, v in options.items()})

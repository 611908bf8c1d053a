import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import symgrad  # noqa: E402
from symgrad.autograd import engine  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests may change the default dtype or print options; put them back. The once-per-process
    create_graph warning is re-armed so that tests do not depend on their order."""
    default = symgrad.get_default_dtype()
    options = symgrad.get_printoptions()
    engine._warned_create_graph = False
    yield
    symgrad.set_default_dtype(default)
    symgrad.set_printoptions(**{k: v for k, v in options.items()})

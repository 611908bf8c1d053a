import os
import sys

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

# The persistent compile cache never touches the user's ~/.cache from tests: it is off
# (tests of the cache turn it on in a tmp directory), or, with SYMGRAD_TEST_DISK_CACHE=1, the
# whole suite runs through it in a fresh private directory (set before symgrad is imported,
# and inherited by the subprocesses tests start).
if os.environ.get("SYMGRAD_TEST_DISK_CACHE") == "1":
    import tempfile

    os.environ["SYMGRAD_CACHE"] = "1"
    os.environ["SYMGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="symgrad-test-cache-")
else:
    os.environ["SYMGRAD_CACHE"] = "0"

import symgrad  # noqa: E402
from symgrad.autograd import engine  # noqa: E402

# Hypothesis profiles. CI: derandomized (the same examples every run) and short enough that
# the property tests take well under two minutes on two cores. SYMGRAD_FUZZ_EXAMPLES=N: a
# random long run of N examples per property test. Neither writes an example database.
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile(
    "ci",
    max_examples=80,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=_SLOW_IS_FINE,
    print_blob=True,
)
_FUZZ = os.environ.get("SYMGRAD_FUZZ_EXAMPLES")
if _FUZZ:
    settings.register_profile(
        "fuzz",
        max_examples=int(_FUZZ),
        derandomize=False,
        deadline=None,
        database=None,
        suppress_health_check=_SLOW_IS_FINE,
        print_blob=True,
    )
settings.load_profile("fuzz" if _FUZZ else "ci")


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

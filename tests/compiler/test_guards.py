"""Op checks survive compilation: ``OpDef.check`` runs eagerly and as a guard statement in
generated code, with the same error (issue 7, reproducer 9)."""

import pathlib

import numpy as np
import pytest
from extras import need

import symgrad
import symgrad.nn.functional as F
from symgrad.compiler import rewrite
from symgrad.ir import graph
from symgrad.ops.registry import REGISTRY

X = np.arange(6.0).reshape(2, 3)
INTS = np.array([3, 4, -5])

# name, function, arguments (numpy), error type, first line (torch 2.13's text)
CASES = [
    ("remainder", lambda a, b: a % b, (INTS, np.array([2, 0, 1])), RuntimeError,
     "ZeroDivisionError"),
    ("floor_divide", lambda a, b: a // b, (INTS, np.array([0, 1, 1])), RuntimeError,
     "ZeroDivisionError"),
    ("fmod", symgrad.fmod, (INTS, np.array([1, 0, 1])), RuntimeError, "ZeroDivisionError"),
    ("div_floor", lambda a, b: symgrad.div(a, b, rounding_mode="floor"),
     (INTS, np.array([1, 1, 0])), RuntimeError, "ZeroDivisionError"),
    ("div_trunc", lambda a, b: symgrad.div(a, b, rounding_mode="trunc"),
     (INTS, np.array([1, 1, 0])), RuntimeError, "ZeroDivisionError"),
    ("remainder_by_constant_zero", lambda a: a % 0, (INTS,), RuntimeError, "ZeroDivisionError"),
    ("gather", lambda x, i: x.gather(1, i), (X, np.array([[0, 3], [1, 2]])), RuntimeError,
     "index 3 is out of bounds for dimension 1 with size 3"),
    ("index_select_dim0", lambda x, i: x.index_select(0, i), (X, np.array([0, 2])), IndexError,
     "index out of range in self"),
    ("index_select_dim1", lambda x, i: x.index_select(1, i), (X, np.array([-1])), RuntimeError,
     "INDICES element is out of DATA bounds, id=-1 axis_dim=3"),
    ("getitem_tensor", lambda x, i: x[i], (X, np.array([2])), IndexError,
     "index 2 is out of bounds for dimension 0 with size 2"),
    ("getitem_negative", lambda x, i: x[:, i], (X, np.array([-4])), IndexError,
     "index -4 is out of bounds for dimension 0 with size 3"),
    ("getitem_second_tensor", lambda x, i, j: x[i, j], (X, np.array([0]), np.array([5])),
     IndexError, "index 5 is out of bounds for dimension 1 with size 3"),
    ("cross_entropy_target", F.cross_entropy, (X, np.array([0, 3])), IndexError,
     "Target 3 is out of bounds."),
    ("nll_loss_negative_target", F.nll_loss, (X, np.array([-1, 0])), IndexError,
     "Target -1 is out of bounds."),
    ("cross_entropy_smoothed", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
     (X, np.array([3, 0])), IndexError, "Target 3 is out of bounds."),
    ("take", symgrad.take, (X, np.array([6])), IndexError,
     "out of range: tried to access index 6 on a tensor of 6 elements."),
    ("scatter", lambda x, i: x.scatter(1, i, x), (X, np.array([[3], [0]])), RuntimeError,
     "index 3 is out of bounds for dimension 1 with size 3"),
    ("scatter_add", lambda x, i: x.scatter_add(0, i, x), (X, np.array([[2, 0, 0]])),
     RuntimeError, "index 2 is out of bounds for dimension 0 with size 2"),
    ("index_add_vector", lambda v, i: v.index_add(0, i, v[:1]), (X[0], np.array([3])),
     IndexError, "index out of range in self"),
    ("index_add_matrix", lambda x, i: x.index_add(1, i, x[:, :1]), (X, np.array([5])),
     RuntimeError, "index 5 is out of bounds for dimension 1 with size 3"),
    ("embedding", lambda i, w: F.embedding(i, w), (np.array([0, 3]), X), IndexError,
     "index out of range in self"),
    ("embedding_negative", lambda i, w: F.embedding(i, w), (np.array([-1]), X), IndexError,
     "index out of range in self"),
    ("binary_cross_entropy", lambda p, t: F.binary_cross_entropy(p, t),
     (np.array([0.5, 1.5]), np.array([0.0, 1.0])), RuntimeError,
     "all elements of input should be between 0 and 1"),
]  # fmt: skip


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error itself is what is compared
        return type(error), str(error).splitlines()[0]
    return None


@pytest.mark.parametrize(
    "fn, args, kind, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_compiled_raises_the_eager_error(fn, args, kind, message):
    eager = _error(lambda: fn(*(symgrad.tensor(a) for a in args)))
    compiled = _error(lambda: symgrad.compile(fn)(*args))
    assert eager == (kind, message)
    assert compiled == (kind, message)


VALID = [c for c in CASES if c[0] != "remainder_by_constant_zero"]


@pytest.mark.parametrize("fn, args", [c[1:3] for c in VALID], ids=[c[0] for c in VALID])
def test_guards_pass_valid_values(fn, args):
    """The same programs on values in range: compiled == eager, no false alarm."""
    valid = tuple(np.ones_like(a) if a.dtype.kind == "i" else np.clip(a, 0, 1) for a in args)
    eager = fn(*(symgrad.tensor(a) for a in valid)).numpy()
    compiled = np.asarray(symgrad.compile(fn)(*valid))
    np.testing.assert_array_equal(compiled, eager)
    assert compiled.dtype == eager.dtype


def test_guards_match_torch():
    torch = need("torch")
    import torch.nn.functional as torch_F

    torch_functions = {
        "fmod": torch.fmod,
        "cross_entropy_target": torch_F.cross_entropy,
        "nll_loss_negative_target": torch_F.nll_loss,
        "take": torch.take,
        "binary_cross_entropy": torch_F.binary_cross_entropy,
        "embedding": torch_F.embedding,
        "embedding_negative": torch_F.embedding,
    }
    for name, fn, args, kind, message in CASES:
        if name == "cross_entropy_smoothed":
            fn = lambda x, t: torch_F.cross_entropy(x, t, label_smoothing=0.1)  # noqa: E731
        elif name.startswith("div_"):
            mode = name.removeprefix("div_")
            fn = lambda a, b, mode=mode: torch.div(a, b, rounding_mode=mode)  # noqa: E731
        fn = torch_functions.get(name, fn)
        tensors = [torch.from_numpy(a) for a in args]
        assert _error(lambda fn=fn, tensors=tensors: fn(*tensors)) == (kind, message), name


def test_guard_is_a_statement_in_generated_code(tmp_path):
    f = symgrad.compile(lambda a, b: a % b)
    source = f.source(INTS, INTS)
    assert "rt.check_integer_divisor(a, b)" in source
    assert "def check_integer_divisor" not in source  # the runtime's, imported
    exported = pathlib.Path(f.export(str(tmp_path / "exported.py"), INTS, INTS)).read_text()
    assert "def check_integer_divisor" in exported  # copied in: the export needs only numpy


def test_compiled_ignore_index_targets_are_not_out_of_bounds():
    targets = np.array([1, -100])
    eager = F.cross_entropy(symgrad.tensor(X), symgrad.tensor(targets))
    compiled = symgrad.compile(F.cross_entropy)(X, targets)
    np.testing.assert_allclose(np.asarray(compiled), eager.numpy())


def test_constant_folding_leaves_a_failing_check_to_run_time():
    g = graph.Graph()
    five, zero = g.const(5, symgrad.int64), g.const(0, symgrad.int64)
    node = g.op(REGISTRY["remainder"], (five, zero), {}, (), symgrad.int64, None)
    assert rewrite.fold_constants(node, rewrite.Builder(g)) is None
    one = g.const(3, symgrad.int64)
    valid = g.op(REGISTRY["remainder"], (five, one), {}, (), symgrad.int64, None)
    assert rewrite.fold_constants(valid, rewrite.Builder(g)).value == 2


def test_every_check_is_a_module_level_function():
    """Guards are copied into generated modules: a lambda or closure could not be."""
    checked = [op for op in REGISTRY.values() if op.check is not None]
    assert {"remainder", "floor_divide", "fmod", "gather", "index_select", "nll_loss"} <= {
        op.name for op in checked
    }
    for op in checked:
        assert op.check.__name__ != "<lambda>" and "<locals>" not in op.check.__qualname__

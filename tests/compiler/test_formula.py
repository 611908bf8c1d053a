"""fn.formula / symgrad.formula: gradients shown as SymPy math, and that math is what runs.

Every formula here is evaluated with ``sympy.lambdify`` (named functions given their numpy
implementations, MatrixSymbols given arrays with vectors as columns) and compared with the
compiled function's own values and gradients.
"""

import numpy as np
import pytest
import sympy as sp
from op_table import ALL_CASES, to_symgrad

import symgrad
import symgrad.nn.functional as F
from symgrad.compiler.formula import Formula, FormulaError
from symgrad.ops.elementwise import div_scalar, mul_scalar
from symgrad.ops.registry import REGISTRY


def evaluate(formula: Formula, expr, inputs: dict) -> np.ndarray:
    """``expr`` of ``formula`` computed by sympy.lambdify on these arrays."""
    # Names that are no Python identifiers (a module's "self.0.weight") get safe ones first:
    # lambdify would replace them with plain symbols, losing their matrix shapes.
    safe = {s: _renamed(s, f"arg{k}") for k, s in enumerate(formula.symbols.values())}
    symbols = list(safe.values())
    function = sp.lambdify(symbols, expr.xreplace(safe), modules=[formula.numpy_functions, "numpy"])
    values = {**formula.constants, **inputs}
    arrays = [_as_shown(values[name]) for name in formula.symbols]
    with np.errstate(all="ignore"):
        return np.asarray(function(*arrays), dtype=np.float64)


def _renamed(symbol, name):
    if isinstance(symbol, sp.MatrixSymbol):
        return sp.MatrixSymbol(name, *symbol.shape)
    return sp.Symbol(name, real=True)


def as_shape(got: np.ndarray, shape: tuple) -> np.ndarray:
    """A formula's value (vectors as columns; a constant as one number) as an array of
    ``shape``; a value of any other shape cannot broadcast and fails."""
    if shape == ():
        return got.reshape(())  # u.T*v is a 1x1 matrix
    shown = (shape[0], 1) if len(shape) == 1 else tuple(shape)
    return np.broadcast_to(got, shown).reshape(shape)


def _as_shown(value):
    array = np.asarray(value)  # integer arrays (class labels) stay integers
    return array.reshape(-1, 1) if array.ndim == 1 else array


def assert_formula_matches(fn, inputs: dict, wrt: list[str], rtol=1e-7, atol=1e-9):
    """The formula's output and gradients, evaluated, equal the compiled function's."""
    names = list(inputs)
    formula = symgrad.formula(fn, *inputs.values(), wrt=wrt)
    assert list(formula.gradients) == wrt
    tensors = {
        name: symgrad.tensor(value, requires_grad=name in wrt) for name, value in inputs.items()
    }
    out = symgrad.compile(fn)(*tensors.values())
    out.backward()
    got = evaluate(formula, formula.output, inputs)
    np.testing.assert_allclose(as_shape(got, out.shape), out.detach().numpy(), rtol, atol)
    for name in wrt:
        expected = tensors[name].grad.numpy()
        got = evaluate(formula, formula.gradients[name], inputs)
        np.testing.assert_allclose(
            as_shape(got, expected.shape), expected, rtol, atol, err_msg=f"d/d {name}"
        )
    assert set(formula.symbols) <= set(names)
    return formula


# --------------------------------------------------------------------- examples that read well
def _logistic_loss(w, b, X, y):
    return F.binary_cross_entropy_with_logits(X @ w + b, y)


def _logistic_inputs(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "w": rng.normal(size=3),
        "b": np.array(0.3),
        "X": rng.normal(size=(5, 3)),
        "y": (rng.random(5) > 0.5).astype(np.float64),
    }


def test_logistic_regression_reads_as_textbook_gradient():
    formula = assert_formula_matches(_logistic_loss, _logistic_inputs(), ["w", "b"])
    # In full, with SymPy's own printing: X^T (sigmoid(X w + b) - y) / n.
    assert str(formula.gradients["w"]) == "(1/5)*X.T*(sigmoid(b + X*w) - y)"
    assert str(formula.gradients["b"]) == "sum((sigmoid(b + X*w) - y)/5)"
    assert str(formula) == (
        "u0 = b + X @ w\n"
        "u1 = sigmoid(u0) - y\n"
        # the loss as compiled: softplus(u0) - u0*y, softplus written without overflow
        "_logistic_loss = sum(-u0*y + log1p(exp(-Abs(u0))) + maximum(u0, 0))/5\n"
        "d _logistic_loss/d w = X.T @ u1/5\n"
        "d _logistic_loss/d b = sum(u1/5)"
    )
    assert formula.expanded().split("\n")[1:] == [
        "d _logistic_loss/d w = X.T @ (sigmoid(b + X @ w) - y)/5",
        "d _logistic_loss/d b = sum((sigmoid(b + X @ w) - y)/5)",
    ]


def test_polynomial_gradient_is_2x_plus_2():
    def f(x):
        return (x * x + 2 * x + 1).sum()

    formula = assert_formula_matches(f, {"x": np.linspace(-1, 2, 4)}, ["x"])
    assert str(formula.gradients["x"]) == "2*x + 2"
    assert str(formula) == "f = sum(x**2 + 2*x + 1)\nd f/d x = 2*x + 2"


def test_tutorial_mean_gradient_is_three_halves_of_x_plus_2():
    def out(x):
        return (3 * (x + 2) ** 2).mean()

    formula = assert_formula_matches(out, {"x": np.ones(4)}, ["x"])
    assert str(formula.gradients["x"]) == "3*(x + 2)/2"


def test_scalar_rosenbrock_is_plain_calculus():
    def rosenbrock(x, y):
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2

    formula = assert_formula_matches(
        rosenbrock, {"x": np.array(-1.2), "y": np.array(1.0)}, ["x", "y"]
    )
    x, y = sp.symbols("x y", real=True)
    assert sp.expand(formula.gradients["x"] - (-400 * x * (y - x**2) - 2 * (1 - x))) == 0
    assert sp.expand(formula.gradients["y"] - 200 * (y - x**2)) == 0
    assert formula.gradients["y"].free_symbols == {x, y}


def test_vector_rosenbrock_matches_compiled_gradient():
    def rosenbrock(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    assert_formula_matches(rosenbrock, {"x": np.array([-1.2, 1.0, 0.5, 2.0])}, ["x"])


def test_mlp_layer_matches_compiled_gradient():
    def layer(W, b, v, X, y):
        hidden = F.relu(X @ W.T + b)
        return ((hidden @ v - y) ** 2).mean()

    rng = np.random.default_rng(2)
    inputs = {
        "W": rng.normal(size=(4, 3)),
        "b": rng.normal(size=4),
        "v": rng.normal(size=4),
        "X": rng.normal(size=(6, 3)),
        "y": rng.normal(size=6),
    }
    formula = assert_formula_matches(layer, inputs, ["W", "b", "v"])
    assert "relu(X @ W.T + b.T)" in str(formula)


def test_softmax_cross_entropy_matches_compiled_gradient():
    def loss(W, X, target):
        return F.cross_entropy(X @ W, target)

    rng = np.random.default_rng(3)
    inputs = {
        "W": rng.normal(size=(3, 4)),
        "X": rng.normal(size=(5, 3)),
        "target": rng.integers(0, 4, size=5),
    }
    formula = symgrad.formula(loss, *inputs.values())
    assert list(formula.gradients) == ["W", "X"]  # integer targets are never differentiated
    assert_formula_matches(loss, inputs, ["W"])


def test_logsumexp_stays_a_named_function():
    def f(z):
        return symgrad.logsumexp(z, dim=0)

    formula = assert_formula_matches(f, {"z": np.array([0.5, -1.0, 2.0])}, ["z"])
    assert "logsumexp(z)" in str(formula.output)
    assert "exp" not in str(formula.output).replace("logsumexp", "")


# ------------------------------------------------------------------ every elementwise op
def _elementwise_ops():
    return sorted(name for name, op in REGISTRY.items() if op.sympy is not None)


# Ops reached under another public name, or (torch's Scalar overloads, internal) with a number.
_FUNCTIONS = {
    "pow_tensor": symgrad.pow,
    "clamp_min_function": symgrad.clamp_min,
    "clamp_max_function": symgrad.clamp_max,
}
_WITH_A_NUMBER = {"mul_scalar": mul_scalar, "div_scalar": div_scalar}


def _function_of(name):
    if name in _WITH_A_NUMBER:
        return lambda x: _WITH_A_NUMBER[name](x, 2.5)
    return _FUNCTIONS.get(name) or getattr(symgrad, name)


_DOMAIN = {"acosh": (1.2, 2.0)}  # everything else is defined on (0.2, 0.9)


@pytest.mark.parametrize("name", _elementwise_ops())
def test_every_elementwise_op_formula_computes_the_compiled_gradient(name):
    op = REGISTRY[name]
    function = _function_of(name)
    rng = np.random.default_rng(4)
    low, high = _DOMAIN.get(name, (0.2, 0.9))
    if op.arity == 1 or name in _WITH_A_NUMBER:

        def f(x):
            return (function(x) * 1.5).sum()

        inputs = {"x": rng.uniform(low, high, size=(2, 3))}
    else:

        def f(x, y):
            return (function(x, y) * 1.5).sum()

        inputs = {"x": rng.uniform(low, high, size=(2, 3)), "y": rng.uniform(low, high, size=3)}
    assert_formula_matches(f, inputs, list(inputs))


def test_elementwise_ops_with_sympy_definitions_read_as_math_or_their_name():
    formula = symgrad.formula(
        lambda x: (x.exp() + x.sigmoid() + x.log1p() + x.square()).sum(), np.ones(3)
    )
    assert str(formula.output) == "sum(log1p(x) + sigmoid(x) + exp(x) + x**2)"


# --------------------------------------------------------------- the whole op table, 2-d
def _displayable(case, variant):
    inputs = case.sample(variant)
    arrays = [a for a in inputs if isinstance(a, np.ndarray)]
    return all(a.ndim <= 2 for a in arrays) and any(a.dtype.kind == "f" for a in arrays)


_TABLE = [
    pytest.param(case, v, id=f"{case.name}-{v}")
    for case in ALL_CASES
    # Dropout draws from a generator: its formula has nothing to evaluate deterministically.
    if case.grad and case.compiles and "dropout" not in case.name
    for v in range(len(case.variants))
    if _displayable(case, v)
]


@pytest.mark.parametrize("case, variant", _TABLE)
def test_op_table_formulas_compute_the_compiled_gradients(case, variant):
    """Each op of the table in a weighted-sum loss: the formula of every float input's
    gradient, evaluated, equals the compiled gradient (shapes of at most two dimensions)."""
    inputs = case.sample(variant)
    outputs = case.fn(*to_symgrad(inputs))
    outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    floats = [o for o in outputs if isinstance(o, symgrad.Tensor) and o.dtype.is_floating_point]
    if any(o.ndim > 2 for o in floats):
        return
    weights = [np.random.default_rng(1).standard_normal(tuple(o.shape)) for o in floats]
    names = [f"a{k}" for k in range(len(inputs))]
    arrays = {n: v for n, v in zip(names, inputs, strict=True) if isinstance(v, np.ndarray)}
    statics = {n: v for n, v in zip(names, inputs, strict=True) if n not in arrays}

    def loss(**kwargs):
        result = case.fn(*[kwargs[n] if n in kwargs else statics[n] for n in names])
        result = result if isinstance(result, (tuple, list)) else [result]
        parts = [r for r in result if isinstance(r, symgrad.Tensor) and r.dtype.is_floating_point]
        return sum((p * w).sum() for p, w in zip(parts, weights, strict=True))

    wrt = [n for n, v in arrays.items() if v.dtype.kind == "f"]
    try:
        formula = symgrad.compile(loss).formula(**arrays, wrt=wrt)
    except FormulaError as error:  # an intermediate of 3+ dimensions (tile, repeat): refused
        assert "more than two dimensions" in str(error)
        return
    tensors = {n: symgrad.tensor(v, requires_grad=n in wrt) for n, v in arrays.items()}
    out = loss(**tensors)
    out.backward()
    np.testing.assert_allclose(
        as_shape(evaluate(formula, formula.output, arrays), ()), out.item(), rtol=1e-7, atol=1e-9
    )
    for name in wrt:
        grad = tensors[name].grad  # None for an argument the output does not depend on
        expected = np.zeros(arrays[name].shape) if grad is None else grad.numpy()
        got = evaluate(formula, formula.gradients[name], arrays)
        np.testing.assert_allclose(
            as_shape(got, expected.shape), expected, rtol=1e-7, atol=1e-9, err_msg=name
        )


def test_outputs_that_are_not_scalars_give_vector_jacobian_products():
    def f(x):
        return x.exp(), x.sum()

    x = np.array([0.1, -0.4, 0.7])
    formula = symgrad.formula(f, x)
    assert str(formula) == "out0 = exp(x)\nout1 = sum(x)\nd_x = exp(x)*d_out0 + d_out1*ones"
    d_out0, d_out1 = np.array([1.0, 2.0, -1.0]), np.array(0.5)
    got = evaluate(formula, formula.gradients["x"], {"x": x, "d_out0": d_out0, "d_out1": d_out1})
    np.testing.assert_allclose(as_shape(got, (3,)), np.exp(x) * d_out0 + d_out1)


def test_several_scalar_outputs_give_the_gradient_of_their_sum():
    formula = symgrad.formula(lambda x: (x.sum(), (x * x).sum()), np.ones(3))
    assert str(formula).endswith("d (out0 + out1)/d x = 2*x + 1")


def test_dot_product_then_broadcast_keeps_its_shape():
    def f(u, v):
        return (u @ v * symgrad.ones(2, dtype=symgrad.float64)).sin().sum()

    assert_formula_matches(f, {"u": np.array([0.3, 0.2]), "v": np.array([1.0, -2.0])}, ["u", "v"])


def test_captured_tensors_that_require_grad_are_differentiated():
    W = symgrad.tensor([[0.5, -1.0, 0.2]], dtype=symgrad.float64, requires_grad=True)

    def loss(X):
        return (X @ W.T).tanh().sum()

    formula = symgrad.formula(loss, np.ones((4, 3)))
    assert list(formula.gradients) == ["X", "W"]
    assert str(formula.reduced_gradients["W"]) == "u1.T*X"
    assert str(formula).endswith("d loss/d W = u1.T @ X")


def test_constants_show_as_the_fractions_their_dtype_rounds_and_others_as_digits():
    assert str(symgrad.formula(lambda x: (x * 0.2).sum(), np.ones(2)).gradients["x"]) == "1/5"
    in_float32 = symgrad.formula(lambda x: (x * 0.1).sum(), np.ones(2, dtype=np.float32))
    assert str(in_float32.gradients["x"]) == "1/10"
    digits = symgrad.formula(lambda x: (x * 0.1).sum() * 0.57721, np.ones(2))
    assert str(digits.gradients["x"]) == "0.057721"
    huge = symgrad.formula(lambda x: (x * 1e300).sum(), np.ones(2))
    assert str(huge.gradients["x"]) == "1.0e+300"


def test_transposes_that_swap_nothing_read_as_nothing():
    def f(A):
        return (A.transpose(0, 0) * A.permute(0, 1) * A.permute(1, 0)).sum()

    formula = assert_formula_matches(f, {"A": np.arange(4.0).reshape(2, 2) + 1}, ["A"])
    assert str(formula.output) == "sum(A**2*A.T)"


def test_module_parameters_are_differentiated_by_their_names():
    symgrad.manual_seed(0)
    model = symgrad.nn.Sequential(
        symgrad.nn.Linear(3, 4), symgrad.nn.Tanh(), symgrad.nn.Linear(4, 1)
    )
    X = np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32)
    formula = symgrad.formula(model, X)
    assert list(formula.gradients) == [
        "input",
        "self.0.weight",
        "self.0.bias",
        "self.2.weight",
        "self.2.bias",
    ]
    d_out = np.ones((6, 1), dtype=np.float32)
    model(symgrad.tensor(X)).backward(symgrad.tensor(d_out))
    for name, parameter in model.named_parameters():
        got = evaluate(formula, formula.gradients[f"self.{name}"], {"input": X, "d_out": d_out})
        np.testing.assert_allclose(
            as_shape(got, parameter.grad.shape), parameter.grad.numpy(), rtol=1e-5, atol=1e-6
        )


# ------------------------------------------------------------------------------ display
def test_pretty_latex_and_jupyter_display():
    formula = symgrad.formula(_logistic_loss, *_logistic_inputs().values(), wrt=["w"])
    pretty = formula.pretty()
    assert pretty.startswith("u₀ = b + X w\n\n")  # a matrix product by juxtaposition
    lines = pretty.split("\n")
    gradient = lines.index(next(line for line in lines if line.startswith("d _logistic")))
    assert lines[gradient - 1].rstrip().endswith("T")  # X's transpose, above the baseline
    assert lines[gradient].endswith("1/5 X  (sigmoid(u₀) - y)")
    latex = formula.latex()
    assert latex.startswith("\\begin{aligned}") and latex.endswith("\\end{aligned}")
    assert r"\operatorname{sigmoid}\left(u_{0}\right)" in latex
    assert r"\frac{\partial\, \mathrm{\_logistic\_loss}}{\partial\, w}" in latex
    assert r"\mathrm{\_logistic\_loss} &= \frac{\operatorname{sum}" in latex
    assert r"u_{0} &= b + X w \\" in latex  # a matrix product by juxtaposition
    assert formula._repr_latex_() == f"$\\displaystyle {latex}$"


def test_subexpressions_are_named_once_and_hold_their_expressions():
    formula = symgrad.formula(_logistic_loss, *_logistic_inputs().values(), wrt=["w", "b"])
    names = [str(symbol) for symbol, _ in formula.subexpressions]
    assert names == ["u0", "u1"]
    assert str(formula.subexpressions[0][1]) == "b + X*w"
    assert str(formula.reduced_gradients["w"]) == "(1/5)*X.T*u1"


def test_subexpression_names_avoid_argument_names():
    def f(u0, u1):
        return ((u0 * u1).exp() * (u0 * u1).exp().sin()).sum()

    formula = symgrad.formula(f, np.ones(2), np.ones(2))
    assert all(not str(s).startswith("u") for s, _ in formula.subexpressions)
    assert formula.subexpressions


def test_symbols_are_in_argument_order():
    formula = symgrad.formula(_logistic_loss, *_logistic_inputs().values())
    assert list(formula.symbols) == ["w", "b", "X", "y"]
    assert isinstance(formula.symbols["b"], sp.Symbol)
    assert formula.symbols["X"].shape == (5, 3) and formula.symbols["w"].shape == (3, 1)


def test_default_wrt_is_what_requires_grad_else_every_float_array():
    inputs = _logistic_inputs()
    everything = symgrad.formula(_logistic_loss, *inputs.values())
    assert list(everything.gradients) == ["w", "b", "X", "y"]
    tensors = [symgrad.tensor(v, requires_grad=k == "w") for k, v in inputs.items()]
    assert list(symgrad.formula(_logistic_loss, *tensors).gradients) == ["w"]


def test_compiled_function_formula_leaves_its_cache_alone():
    f = symgrad.compile(lambda x: (x * x).sum())
    f.formula(np.ones(3))
    assert f.cache_info().entries == []


def test_command_line_shows_the_formula(tmp_path, capsys):
    from symgrad import cli

    path = tmp_path / "model.py"
    path.write_text(
        "import symgrad.nn.functional as F\n\n\n"
        "def loss(w, b, X, y):\n"
        "    return F.binary_cross_entropy_with_logits(X @ w + b, y)\n"
    )
    specs = ["w=float64[3]", "b=float64[]", "X=float64[8,3]", "y=float64[8]"]
    argv = ["show", f"{path}:loss", *[f"--arg={s}" for s in specs], "--wrt", "w", "--wrt", "b"]
    assert cli.run([*argv, "--what", "formula"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "d loss/d w = X.T @ u1/8",
        "d loss/d b = sum(u1/8)",
    ]


def test_bad_wrt_and_three_dimensional_arrays_are_clear_errors():
    with pytest.raises(ValueError, match="wrt='v' names no floating-point array argument"):
        symgrad.formula(_logistic_loss, *_logistic_inputs().values(), wrt="v")
    with pytest.raises(FormulaError, match="more than two dimensions"):
        symgrad.formula(lambda x: (x * x).sum(), np.ones((2, 2, 2)))

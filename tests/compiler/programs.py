"""Random programs for the differential property tests: a Hypothesis strategy and one
interpreter that runs a program with symgrad (eager or traced) or with torch.

A program is data: its inputs (shape, dtype) and steps, each an op of ``OPS`` applied to
earlier values with static parameters. The same text runs on both libraries because symgrad
spells torch's API. Steps are drawn one at a time and executed eagerly on sample values while
drawing, so a step whose shapes or dtypes do not fit is redrawn rather than predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import symgrad

SMALL_SHAPES = [(), (3,), (2, 3), (1, 3), (4, 1, 3), (3, 1), (2, 1, 3)]
# At least 1024 elements, with broadcasting among them, so that buffer reuse (out=) and
# del of dead temporaries are exercised.
LARGE_SHAPES = [(64, 24), (1, 24), (64, 1), (2, 32, 24), (2048,), (1024, 2)]


@dataclass(frozen=True)
class Step:
    op: str
    args: tuple  # indices of earlier values
    params: tuple = ()


@dataclass(frozen=True)
class Program:
    inputs: tuple  # ((shape, dtype name), ...)
    steps: tuple
    seed: int

    @property
    def kinks(self) -> bool:
        """Whether an op with a kink or a jump is used (finite differences may straddle it)."""
        return any(OPS[s.op].kink for s in self.steps)

    def sample(self, dtype=None) -> list[np.ndarray]:
        """Input values away from 0 (no ties, no kinks at the inputs): |x| in [0.3, 1.3]."""
        rng = np.random.default_rng(self.seed)
        values = []
        for shape, name in self.inputs:
            x = rng.uniform(0.3, 1.3, size=shape) * rng.choice([-1.0, 1.0], size=shape)
            values.append(np.asarray(x, dtype=dtype or name))
        return values

    def __str__(self) -> str:
        lines = [f"inputs: {list(self.inputs)} seed={self.seed}"]
        lines += [
            f"  v{len(self.inputs) + k} = {s.op}{s.args} {s.params}"
            for k, s in enumerate(self.steps)
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class OpSpec:
    arity: int
    run: object  # run(lib, *values, *params) -> value
    params: object = None  # strategy of the parameters, given the operands' shapes
    kink: bool = False


def _dims(ndim: int):
    return st.integers(-ndim, ndim - 1) if ndim else st.just(0)


def _dim_param(shapes):
    return st.tuples(_dims(len(shapes[0]))) if shapes[0] else st.nothing()


def _reduce_params(shapes):
    ndim = len(shapes[0])
    if not ndim:
        return st.nothing()
    return st.tuples(
        st.lists(_dims(ndim), min_size=1, max_size=ndim, unique_by=lambda d: d % ndim).map(tuple),
        st.booleans(),
    )


def _new_dim(shapes):
    return st.tuples(st.integers(-len(shapes[0]) - 1, len(shapes[0])))


def _two_dims(shapes):
    ndim = len(shapes[0])
    if ndim < 2:
        return st.nothing()
    return st.tuples(st.integers(0, ndim - 1), st.integers(0, ndim - 1))


def _scalar(shapes):
    return st.tuples(st.sampled_from([0.5, 2.0, -1.5, 3.0]))


def _F(lib):
    return lib.nn.functional


def _setitem_value(lib, x, value):
    y = x.clone()
    y[0] = y[0] - value
    return y


def _setitem_scaled(lib, x):
    y = x.clone()
    y[0] = y[0] * 0.5 + 1.0  # the product saves nothing the write then invalidates
    return y


def _setitem_slice(lib, x):
    y = x.clone()
    y[..., :1] = y[..., 1:2] - 0.25
    return y


def _setitem_constant(lib, x):
    y = x.clone()
    y[0] = 0.1
    return y


def _inplace(lib, x, y):
    z = x.clone()
    z *= y
    return z


def _index(lib, x):
    return x[lib.tensor([x.shape[0] - 1, 0, 0])]


def _cross_entropy(lib, x):
    targets = lib.tensor([k % x.shape[1] for k in range(x.shape[0])])
    return _F(lib).cross_entropy(x, targets)


def _bce_with_logits(lib, a, b):
    return _F(lib).binary_cross_entropy_with_logits(a, b.sigmoid())


def _huber_loss(lib, a, b):
    # torch's huber_loss of mixed float dtypes returns the first dtype and fails backward
    # ("Found dtype Double but expected Float"): the programs give it one dtype.
    return _F(lib).huber_loss(a, b.to(a.dtype), delta=0.5)


def _matmul(lib, a, b):
    return a @ b.mT if a.ndim >= 2 and b.ndim >= 2 else a @ b


OPS: dict[str, OpSpec] = {
    # smooth elementwise
    "sin": OpSpec(1, lambda lib, x: x.sin()),
    "cos": OpSpec(1, lambda lib, x: lib.cos(x)),
    "tanh": OpSpec(1, lambda lib, x: x.tanh()),
    "sigmoid": OpSpec(1, lambda lib, x: lib.sigmoid(x)),
    "exp_tanh": OpSpec(1, lambda lib, x: x.tanh().exp()),
    "expm1_tanh": OpSpec(1, lambda lib, x: x.tanh().expm1()),
    "log_sq": OpSpec(1, lambda lib, x: (x * x + 1).log()),
    "log1p_sq": OpSpec(1, lambda lib, x: (x * x).log1p()),
    "sqrt_sq": OpSpec(1, lambda lib, x: (x * x + 0.5).sqrt()),
    "rsqrt_sq": OpSpec(1, lambda lib, x: (x * x + 0.5).rsqrt()),
    "reciprocal_sq": OpSpec(1, lambda lib, x: (x * x + 1).reciprocal()),
    "pow": OpSpec(1, lambda lib, x: (x * x + 1) ** 1.5),
    "square": OpSpec(1, lambda lib, x: x**2),
    "cube": OpSpec(1, lambda lib, x: x * x * x),
    "neg": OpSpec(1, lambda lib, x: -x),
    "erf": OpSpec(1, lambda lib, x: lib.erf(x)),
    "atan": OpSpec(1, lambda lib, x: x.atan()),
    "asinh": OpSpec(1, lambda lib, x: x.asinh()),
    "softplus": OpSpec(1, lambda lib, x: _F(lib).softplus(x)),
    "gelu": OpSpec(1, lambda lib, x: _F(lib).gelu(x)),
    "silu": OpSpec(1, lambda lib, x: _F(lib).silu(x)),
    "logsigmoid": OpSpec(1, lambda lib, x: _F(lib).logsigmoid(x)),
    "add_c": OpSpec(1, lambda lib, x, c: x + c, _scalar),
    "mul_c": OpSpec(1, lambda lib, x, c: x * c, _scalar),
    "rsub_c": OpSpec(1, lambda lib, x, c: c - x, _scalar),
    "div_c": OpSpec(1, lambda lib, x, c: x / c, _scalar),
    "rdiv_c": OpSpec(1, lambda lib, x, c: c / (x * x + 1), _scalar),
    "self_sub": OpSpec(1, lambda lib, x: (x - x) * 3 + x),
    # elementwise with a kink or a jump
    "relu": OpSpec(1, lambda lib, x: x.relu(), kink=True),
    "abs": OpSpec(1, lambda lib, x: x.abs(), kink=True),
    "clamp": OpSpec(1, lambda lib, x: x.clamp(-0.5, 0.7), kink=True),
    "leaky_relu": OpSpec(1, lambda lib, x: _F(lib).leaky_relu(x, 0.1), kink=True),
    "elu": OpSpec(1, lambda lib, x: _F(lib).elu(x), kink=True),
    "hardtanh": OpSpec(1, lambda lib, x: _F(lib).hardtanh(x), kink=True),
    "where": OpSpec(2, lambda lib, a, b: lib.where(a > 0.1, a, b), kink=True),
    "where_c": OpSpec(1, lambda lib, x: lib.where(x > 0.1, x / 4, 0.0), kink=True),
    "maximum": OpSpec(2, lambda lib, a, b: lib.maximum(a, b), kink=True),
    "minimum": OpSpec(2, lambda lib, a, b: lib.minimum(a, b), kink=True),
    # binary
    "add": OpSpec(2, lambda lib, a, b: a + b),
    "sub": OpSpec(2, lambda lib, a, b: a - b),
    "mul": OpSpec(2, lambda lib, a, b: a * b),
    "div": OpSpec(2, lambda lib, a, b: a / (b * b + 1)),
    "logaddexp": OpSpec(2, lambda lib, a, b: lib.logaddexp(a, b)),
    "lerp": OpSpec(2, lambda lib, a, b: lib.lerp(a, b, 0.3)),
    "inplace_mul": OpSpec(2, _inplace),
    # reductions
    "sum": OpSpec(1, lambda lib, x, d, k: x.sum(dim=d, keepdim=k), _reduce_params),
    "mean": OpSpec(1, lambda lib, x, d, k: x.mean(dim=d, keepdim=k), _reduce_params),
    "amax": OpSpec(1, lambda lib, x, d, k: x.amax(dim=d, keepdim=k), _reduce_params, kink=True),
    "logsumexp": OpSpec(1, lambda lib, x, d, k: x.logsumexp(dim=d, keepdim=k), _reduce_params),
    "prod": OpSpec(1, lambda lib, x, d: x.prod(dim=d), _dim_param),
    "var": OpSpec(1, lambda lib, x, d, k: x.var(dim=d, keepdim=k), _reduce_params),
    "std": OpSpec(1, lambda lib, x, d, k: (x.std(dim=d, keepdim=k) + 0.1), _reduce_params),
    "norm": OpSpec(1, lambda lib, x: x.norm(), kink=True),
    "sum_all": OpSpec(1, lambda lib, x: x.sum()),
    "mean_all": OpSpec(1, lambda lib, x: x.mean()),
    # shape ops, indexing and slicing
    "reshape": OpSpec(1, lambda lib, x: x.reshape(-1)),
    "unsqueeze": OpSpec(1, lambda lib, x, d: x.unsqueeze(d), _new_dim),
    "squeeze": OpSpec(1, lambda lib, x: x.squeeze()),
    "transpose": OpSpec(1, lambda lib, x, d0, d1: x.transpose(d0, d1), _two_dims),
    "permute": OpSpec(1, lambda lib, x: x.permute(tuple(reversed(range(x.ndim))))),
    "mT": OpSpec(1, lambda lib, x: x.mT),
    "flip": OpSpec(1, lambda lib, x, d: x.flip(d), _dim_param),
    "roll": OpSpec(1, lambda lib, x, d: x.roll(1, d), _dim_param),
    "repeat": OpSpec(1, lambda lib, x: x.repeat(*([2] + [1] * (x.ndim - 1)) or [2])),
    "expand": OpSpec(1, lambda lib, x: x.unsqueeze(0).expand(2, *x.shape)),
    "getitem": OpSpec(1, lambda lib, x: x[0]),
    "slice": OpSpec(1, lambda lib, x: x[..., 1:]),
    "stride": OpSpec(1, lambda lib, x: x[..., ::2]),
    "none_index": OpSpec(1, lambda lib, x: x[None]),
    "index": OpSpec(1, _index),
    "tril": OpSpec(1, lambda lib, x: x.tril()),
    "setitem": OpSpec(2, _setitem_value),
    "setitem_slice": OpSpec(1, _setitem_slice),
    "setitem_scaled": OpSpec(1, _setitem_scaled),
    "setitem_constant": OpSpec(1, _setitem_constant),
    # joins, products, normalizations, losses
    "cat": OpSpec(2, lambda lib, a, b, d: lib.cat([a, b], dim=d), _dim_param),
    "stack": OpSpec(2, lambda lib, a, b: lib.stack([a, b])),
    "matmul": OpSpec(2, _matmul),
    "softmax": OpSpec(1, lambda lib, x, d: x.softmax(d), _dim_param),
    "log_softmax": OpSpec(1, lambda lib, x, d: x.log_softmax(d), _dim_param),
    "mse_loss": OpSpec(2, lambda lib, a, b: _F(lib).mse_loss(a, b)),
    "bce_logits": OpSpec(2, _bce_with_logits),
    "cross_entropy": OpSpec(1, _cross_entropy),
    "huber_loss": OpSpec(2, _huber_loss, kink=True),
    "smooth_l1_loss": OpSpec(2, lambda lib, a, b: _F(lib).smooth_l1_loss(a, b), kink=True),
    "l1_loss": OpSpec(2, lambda lib, a, b: _F(lib).l1_loss(a, b), kink=True),
}  # fmt: skip


def run(lib, program: Program, inputs) -> object:
    """The program's scalar result, computed with ``lib`` (symgrad or torch) on ``inputs``."""
    values = list(inputs)
    for step in program.steps:
        values.append(OPS[step.op].run(lib, *(values[i] for i in step.args), *step.params))
    return values[-1].sum() if values[-1].ndim else values[-1]


def function(program: Program, lib=symgrad):
    """The program as a Python function of its inputs (what compile and the transforms see)."""

    def program_function(*inputs):
        return run(lib, program, inputs)

    return program_function


@st.composite
def programs(
    draw,
    max_steps: int = 40,
    large: bool | None = None,
    max_inputs: int = 3,
    smooth: bool = False,
):
    """A random program: 1-``max_steps`` steps over 1-``max_inputs`` inputs. One program in
    ten ends with a step that raises (shapes or dtypes that do not fit), when one was met, so
    that errors are compared too. ``smooth``: only ops without kinks, and no error."""
    if large is None:
        large = draw(st.integers(0, 4)) == 0
    shapes = LARGE_SHAPES if large else SMALL_SHAPES
    mixed = draw(st.integers(0, 2)) == 0
    dtype = draw(st.sampled_from(["float32", "float64"]))
    n_inputs = draw(st.integers(1, max_inputs))
    inputs = tuple(
        (
            draw(st.sampled_from(shapes)),
            draw(st.sampled_from(["float32", "float64"])) if mixed else dtype,
        )
        for _ in range(n_inputs)
    )
    seed = draw(st.integers(0, 2**16))
    n_steps = draw(st.integers(1, max_steps))
    program = Program(inputs, (), seed)
    values = [symgrad.tensor(v) for v in program.sample()]
    steps = []
    names = sorted(n for n, spec in OPS.items() if not (smooth and spec.kink))
    raising = None
    for _ in range(n_steps):
        for _attempt in range(8):
            name = draw(st.sampled_from(names))
            spec = OPS[name]
            # Mostly build on the latest values, so that programs are deep, not wide.
            last = len(values) - 1
            args = tuple(
                draw(st.one_of(st.just(last), st.integers(0, last))) for _ in range(spec.arity)
            )
            params = ()
            if spec.params is not None:
                strategy = spec.params([tuple(values[i].shape) for i in args])
                if strategy.is_empty:
                    continue
                params = draw(strategy)
            step = Step(name, args, params)
            value = _try(spec, values, step)
            if isinstance(value, Exception):
                raising = raising or step
            elif value is not None:
                steps.append(step)
                values.append(value)
                break
    if not steps:
        steps.append(Step("sin", (0,)))
    if raising is not None and not smooth and draw(st.integers(0, 9)) == 0:
        steps.append(raising)
    return Program(inputs, tuple(steps), seed)


def _try(spec, values, step):
    """The step's value on the sample values; None when it does not apply to them, or the
    exception it raised (a step that does not fit is redrawn)."""
    try:
        with symgrad.no_grad():
            value = spec.run(symgrad, *(values[i] for i in step.args), *step.params)
    except (RuntimeError, ValueError, IndexError, TypeError) as error:
        return error
    if not isinstance(value, symgrad.Tensor) or not value.dtype.is_floating_point:
        return None
    if value.numel() == 0 or value.numel() > 200_000:
        return None
    data = value.numpy()
    if not np.all(np.isfinite(data)) or np.abs(data).max(initial=0) > 1e6:
        return None
    return value

"""Random sampling as an op, so that compiled code draws fresh numbers on every call.

Eagerly, ``sample`` draws from a numpy Generator at once. While tracing it becomes a graph node
whose first input is the generator, passed in when the compiled code runs: symgrad's default
generator as it is then (so ``manual_seed`` works), or the one the user gave.
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import devices, dtypes
from ..creation import _finish, _float_dtype, _sizes, default_generator
from ..ir import trace as tracing
from ..random import DEFAULT_GENERATOR, Generator, numpy_generator
from ..random import is_generator as is_generator  # compiler.api asks this module
from ..tensor import Tensor
from .elementwise import _is_number, _zeros_like
from .inplace import copy_
from .registry import OpDef, apply, public

_draws = itertools.count()


def _sample(generator, *, distribution, shape, dtype, low, high, draw):
    if distribution == "uniform":
        values = generator.random(shape)
    elif distribution == "normal":
        values = generator.standard_normal(shape)
    else:
        values = generator.integers(low, high, size=shape)
    return values.astype(dtype.numpy)


def _spelling(operands, *, distribution, shape, dtype, low, high, draw) -> str:
    generator = operands[0]
    if distribution == "uniform":
        call = f"{generator}.random({shape!r})"
    elif distribution == "normal":
        call = f"{generator}.standard_normal({shape!r})"
    else:
        call = f"{generator}.integers({int(low)}, {int(high)}, size={shape!r})"
    return f"{call}.astype(np.{dtype.numpy.name})"


SAMPLE = OpDef(
    "sample",
    _sample,
    spelling=_spelling,
    shape=lambda generator, *, shape, **_: shape,
    promote=lambda generator, *, dtype, **_: (None, dtype),
    saves="none",
)


def sample(distribution: str, shape, dtype: dtypes.dtype, generator=None, low=0, high=0):
    """Random numbers of ``shape``: "uniform" in [0, 1), "normal", or "integers" in
    [low, high). Returns an ndarray eagerly, a symbolic Tensor while tracing."""
    shape = tuple(int(n) for n in shape)
    if tracing.current() is None:
        rng = default_generator() if generator is None else numpy_generator(generator)
        attrs = dict(
            distribution=distribution, shape=shape, dtype=dtype, low=low, high=high, draw=0
        )
        return _sample(rng, **attrs)
    # Each draw is its own node (hash-consing must not merge two draws of one shape).
    return apply(
        SAMPLE,
        generator or DEFAULT_GENERATOR,
        distribution=distribution,
        shape=shape,
        dtype=dtype,
        low=low,
        high=high,
        draw=next(_draws),
    )


def call_value(value):
    """What a captured value is when the compiled code runs."""
    if isinstance(value, Tensor):
        return value._data
    if value is DEFAULT_GENERATOR:
        return default_generator()
    if isinstance(value, Generator):
        return value._numpy  # looked up per call: manual_seed replaces the stream
    return value


# ------------------------------------------------------------------ distributions
#
# Draws go through ``sample`` (a SAMPLE node while tracing, so compiled code draws anew on
# every call); randperm and multinomial have data-dependent algorithms and run eagerly only.


def _eager_stream(generator, name: str) -> np.random.Generator:
    if tracing.current() is not None:
        raise tracing.TracingError(
            f"symgrad.compile cannot trace {name}: its numbers would be constants of the "
            "compiled code, the same on every call.\nsymgrad hint: call it outside the "
            "compiled function and pass the result in as an argument."
        )
    if generator is None:
        return default_generator()
    return numpy_generator(generator)


def _noise(distribution: str, shape, generator) -> Tensor:
    """float64 draws of ``shape`` as a Tensor (a graph node while tracing)."""
    values = sample(distribution, shape, dtypes.float64, generator)
    return values if isinstance(values, Tensor) else Tensor._wrap(values)


def _zeros_vjp(g, out, *inputs):
    # torch's normal and bernoulli are not reparameterized: their parameters get zero
    # gradients (derivatives.yaml: zeros_like), not the pathwise derivative. The last input
    # is the noise. Unsaved tensor inputs reach the rule as shape records, numbers as numbers.
    zeros = _zeros_like(g)
    return tuple(None if _is_number(x) else zeros for x in inputs[:-1]) + (None,)


def _normal_name(args, attrs) -> str:
    mean_tensor, std_tensor = (isinstance(a, Tensor) for a in args[:2])
    return {(True, False): "NormalBackward1", (False, True): "NormalBackward2"}.get(
        (mean_tensor, std_tensor), "NormalBackward3"
    )


NORMAL = OpDef(
    "normal",
    lambda mean, std, noise: mean + std * noise,
    vjp=_zeros_vjp,
    spelling="{0} + {1} * {2}",
    saves="none",
    nondifferentiable_inputs=(2,),
    backward_name=_normal_name,
)
BERNOULLI = OpDef(
    "bernoulli",
    lambda p, uniform: (uniform < p).astype(p.dtype),
    vjp=_zeros_vjp,
    spelling="({1} < {0}).astype({0}.dtype)",
    promote=lambda p, uniform: (None, p.dtype),
    saves="none",
    nondifferentiable_inputs=(1,),
    backward_name="BernoulliBackward0",
)


def _check_std(std) -> None:
    if not isinstance(std, Tensor):
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_number_text(std)}")
    elif not std._is_symbolic and np.any(std._data < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")


def _number_text(value) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@public("normal")
def normal(
    mean,
    std=1.0,
    size=None,
    *,
    generator=None,
    out=None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples with the given ``mean`` and ``std`` (numbers, or tensors broadcast
    together); with two numbers, ``size`` gives the shape. The parameters get zero
    gradients, as in torch (``normal`` is not reparameterized: use ``mean + std * randn``)."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError(
                "normal() received an invalid combination of arguments - got "
                f"({type(mean).__name__}, {type(std).__name__})"
            )
        devices.check(device)
        if dtype is None:
            dtype = _float_dtype(None) if out is None else out.dtype
        else:
            dtype = dtypes.as_dtype(dtype)
        shape = _sizes((size,), "normal")
    else:
        dtype = dtypes.result_type(mean, std)
        shape = tuple(
            np.broadcast_shapes(*(tuple(a.shape) for a in (mean, std) if isinstance(a, Tensor)))
        )
    _check_std(std)
    result = apply(
        NORMAL,
        _as_dtype(mean, dtype),
        _as_dtype(std, dtype),
        _noise("normal", shape, generator).to(dtype),
    )
    if requires_grad:  # only the numbers form has it: the result is a new leaf
        result.requires_grad_()
    return _into(result, out)


def _as_dtype(value, dtype):
    return value.to(dtype) if isinstance(value, Tensor) else value


def _into(result: Tensor, out):
    if out is None:
        return result
    return copy_(out, result)


@public("bernoulli", methods=("bernoulli",))
def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """1 with probability ``input`` (or ``p``) and 0 otherwise, in ``input``'s dtype."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_scalar_name(input)}'"
        )
    probability = input if p is None else p
    _check_probability(probability)
    uniform = _noise("uniform", tuple(input.shape), generator)
    if isinstance(probability, Tensor):
        result = apply(BERNOULLI, probability, uniform.to(probability.dtype))
        return _into(result.to(input.dtype), out)
    return _into((uniform < probability).to(input.dtype), out)


def _scalar_name(t: Tensor) -> str:
    return dtypes.LEGACY_NAMES[t.dtype.name].removesuffix("Tensor")


def _check_probability(p) -> None:
    if isinstance(p, Tensor):
        if p._is_symbolic:
            return
        bad = bool(np.any((p._data < 0) | (p._data > 1) | np.isnan(p._data)))
    else:
        bad = not 0 <= p <= 1
    if bad:
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )


@public("randperm")
def randperm(
    n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False, out=None
) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 unless ``dtype``)."""
    devices.check(device)
    (n,) = _sizes((n,), "randperm")
    d = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    values = _eager_stream(generator, "randperm").permutation(n).astype(d.numpy)
    return _into(_finish(values, d, requires_grad), out)


@public("multinomial", methods=("multinomial",))
def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator=None, out=None
) -> Tensor:
    """Indices drawn from the categories of each row of ``input`` (weights, not necessarily
    normalized): with ``replacement``, independently; without, each category at most once
    (categories of weight 0 come last, after every other one was drawn)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {_scalar_name(input)}"
        )
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    stream = _eager_stream(generator, "multinomial")
    weights = input._concrete("multinomial").astype(np.float64).reshape(-1, categories)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = weights.sum(axis=1)
    if np.any(totals <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        indices = _draw_with_replacement(stream, weights, totals, num_samples)
    else:
        # Exponential race: the k largest weight / Exp(1) are a draw without replacement.
        keys = weights / stream.exponential(size=weights.shape)
        indices = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    indices = indices.reshape(tuple(input.shape[:-1]) + (num_samples,)).astype(np.int64)
    return _into(Tensor._wrap(indices), out)


def _draw_with_replacement(stream, weights, totals, num_samples) -> np.ndarray:
    cumulative = np.cumsum(weights, axis=1) / totals[:, None]
    last_nonzero = weights.shape[1] - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    uniform = stream.random((weights.shape[0], num_samples))
    rows = [
        np.searchsorted(row, draws, side="right")
        for row, draws in zip(cumulative, uniform, strict=True)
    ]
    # Rounding can leave the last cumulative weight just under 1: never past a real category.
    return np.minimum(np.stack(rows), last_nonzero[:, None])


# ------------------------------------------------------------ in-place random fills


def _fill(self: Tensor, values: Tensor) -> Tensor:
    return copy_(self, values)


def _uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None, **kwargs) -> Tensor:
    from_ = kwargs.pop("from", from_)
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_number_text(from_)} "
            f"> to={_number_text(to)}"
        )
    uniform = _noise("uniform", tuple(self.shape), generator)
    return _fill(self, uniform * (to - from_) + from_)


def _normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    _check_std(std)
    return _fill(self, _noise("normal", tuple(self.shape), generator) * std + mean)


def _bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    if not isinstance(p, Tensor):
        _check_probability(p)
    uniform = _noise("uniform", tuple(self.shape), generator)
    return _fill(self, uniform < p)


def _exponential_(self: Tensor, lambd=1.0, *, generator=None) -> Tensor:
    if not lambd > 0:
        raise RuntimeError(
            f"exponential_ expects lambda > 0.0, but found lambda={_number_text(lambd)}"
        )
    uniform = _noise("uniform", tuple(self.shape), generator)
    return _fill(self, -((-uniform).log1p()) / lambd)


def _random_(self: Tensor, from_=0, to=None, *, generator=None, **kwargs) -> Tensor:
    """Integers in [from, to); ``random_(to)`` is [0, to); no bound: [0, 2**mantissa]
    for floating dtypes (every such integer is exact), [0, max] for integer dtypes."""
    from_ = kwargs.pop("from", from_)
    if to is None and ("from" in kwargs or from_ != 0):
        from_, to = 0, from_
    if to is None:
        info = np.finfo(self.dtype.numpy) if self.dtype.is_floating_point else None
        to = 2 ** (info.nmant + 1) + 1 if info is not None else np.iinfo(self.dtype.numpy).max
    if from_ >= to:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}"
        )
    draws = sample("integers", tuple(self.shape), dtypes.int64, generator, from_, to)
    return _fill(self, draws if isinstance(draws, Tensor) else Tensor._wrap(draws))


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.bernoulli_ = _bernoulli_
Tensor.exponential_ = _exponential_
Tensor.random_ = _random_


# ------------------------------------------------------------------ random factories


def _sampled(distribution, size, dtype, generator, requires_grad, low=0, high=0) -> Tensor:
    """Random numbers from ``generator`` (symgrad's own by default); while tracing, a
    sampling node of the compiled code."""
    values = sample(distribution, size, dtype, generator, low, high)
    if isinstance(values, Tensor):
        return values
    return _finish(values, dtype, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from symgrad's generator."""
    devices.check(device)
    return _sampled("uniform", _sizes(size, "rand"), _float_dtype(dtype), generator, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from symgrad's generator."""
    devices.check(device)
    return _sampled("normal", _sizes(size, "randn"), _float_dtype(dtype), generator, requires_grad)


def randint(
    low,
    high=None,
    size=None,
    *,
    generator=None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers in [low, high) (int64 unless ``dtype``)."""
    devices.check(device)
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    d = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    return _sampled("integers", _sizes((size,), "randint"), d, generator, requires_grad, low, high)


def rand_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    """``rand`` of ``input``'s shape (and dtype unless given)."""
    return rand(
        tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad
    )


def randn_like(
    input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None
) -> Tensor:
    """``randn`` of ``input``'s shape (and dtype unless given)."""
    return randn(
        tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad
    )

"""symgrad: PyTorch-compatible autograd on numpy, and a compiler from traced functions to
readable, fused numpy forward/backward code.

``import symgrad as torch`` works for the autograd subset.
"""

from . import autograd, backends, cuda, dtypes, linalg, nn, ops, optim, random
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .compiler import cache
from .compiler.api import compile, formula
from .compiler.transforms import grad, hessian, jacobian, jacrev, value_and_grad, vjp
from .creation import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device, get_default_device, set_default_device
from .dtypes import bool_ as bool  # noqa: A001 - torch's name
from .dtypes import (
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from .dtypes import result_type as _result_type
from .grad_mode import is_inference_mode_enabled
from .ops.random import rand, rand_like, randint, randn, randn_like
from .ops.reduce import return_types
from .printing import get_printoptions, set_printoptions
from .random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    seed,
    set_rng_state,
)
from .tensor import Size, Tensor
from .version import __version__

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

# Every op's public function; torch.linalg names live in symgrad.linalg only.
globals().update({name: fn for name, fn in ops.FUNCTIONS.items() if not name.startswith("linalg_")})


def result_type(tensor1, tensor2) -> dtype:
    """torch.result_type: the dtype an op on these two operands computes in."""
    return _result_type(tensor1, tensor2)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()

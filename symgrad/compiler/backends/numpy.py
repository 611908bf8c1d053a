"""The ``"numpy"`` backend (the default): generated code calls numpy, on numpy arrays.

Spellings are the ops' own (``OpDef.spelling``, written for numpy) with this table's
overrides: reductions as ndarray methods (``t3.sum()`` skips numpy's Python-level dispatch,
which dominates on small arrays). An op without a spelling is a call of its kernel in the
runtime module (``numpy_runtime``, imported as ``rt``), the very function its eager ``eval``
is; its ``check`` is called the same way before it. Ufunc ops write into dead temporaries
with ``out=``; a Python number beside an array operand of a ufunc stays bare (numpy takes
the array's dtype).
"""

from __future__ import annotations

import numpy as np

from ...ir.graph import CONST, Node
from ...ops import numpy_runtime
from .. import codegen
from .base import Backend, kernel_result_needs_cast


def _method(name: str):
    """A reduction spelled as the ndarray method ``name`` on a named operand."""

    def spell(operands, *, dim, keepdim, **_):
        operand = operands[0]
        if not operand.isidentifier():
            return f"np.{name}({operand}, axis={codegen.literal(dim)}, keepdims={keepdim!r})"
        arguments = [] if dim is None else [f"axis={codegen.literal(dim)}"]
        if keepdim:
            arguments.append("keepdims=True")
        return f"{operand}.{name}({', '.join(arguments)})"

    return spell


class NumpyBackend(Backend):
    """numpy arrays in, numpy code, numpy arrays out."""

    name = "numpy"
    template = "numpy.py.j2"
    imports = ("import numpy as np",)
    runtime = numpy_runtime.__name__
    code_for_op = {
        "sum": _method("sum"),
        "mean": _method("mean"),
        "prod": _method("prod"),
        "any": _method("any"),
        "all": _method("all"),
        "amax": _method("max"),
        "max": _method("max"),
        "max_dim": _method("max"),
        "amin": _method("min"),
        "min": _method("min"),
        "min_dim": _method("min"),
    }

    def expression(self, node: Node, operands: list[str], helpers: dict) -> str:
        """A spelling is a format string (``"np.exp({0})"``) or, for ops whose text depends
        on their attributes' structure, a function of the operand names and the attributes.

        An op without one calls its runtime kernel (``rt.softmax(t0, dim=1)``)."""
        op = node.op
        attrs = node.attr_dict
        spelling = self.spelling(op)
        if callable(spelling):
            return spelling(operands, **attrs)
        if spelling is not None:
            printed = {k: codegen.literal(v) for k, v in attrs.items()}
            try:
                return spelling.format(*operands, **printed)
            except (KeyError, IndexError, AttributeError) as error:
                raise codegen.CodegenError(
                    f"spelling of {op.name} does not fit its call: {error}"
                ) from None
        if isinstance(op.eval, np.ufunc):
            return f"np.{op.eval.__name__}({', '.join(operands)})"
        return self._kernel_call(op.eval, node, operands)

    def expression_into(self, node: Node, operands: list[str], out: str) -> str:
        return f"np.{node.op.eval.__name__}({', '.join(operands)}, out={out})"

    def guard(self, node: Node, operands: list[str], helpers: dict) -> str | None:
        if node.op.check is None:
            return None
        return self._kernel_call(node.op.check, node, operands)

    def _kernel_call(self, kernel, node: Node, operands: list[str]) -> str:
        """``rt.kernel(operands..., attr=value...)``. Constant operands are typed numpy
        scalars (the kernel may read ``.dtype``), as eager mode passes them."""
        if getattr(kernel, "__module__", None) != self.runtime:
            raise codegen.CodegenError(
                f"{node.op.name} has no numpy spelling and no kernel in {self.runtime}"
            )
        operands = [
            codegen.typed_constant(i) if i.kind == CONST else text
            for i, text in zip(node.inputs, operands, strict=True)
        ]
        arguments = operands + [f"{k}={codegen.literal(v)}" for k, v in node.attrs]
        call = f"rt.{kernel.__name__}({', '.join(arguments)})"
        if not kernel_result_needs_cast(node):
            return call
        return f"np.asarray({call}, dtype=np.{node.dtype.numpy.name})"

    def writes_into(self, op) -> bool:
        """Ops computed by one numpy ufunc, which takes ``out=``."""
        return isinstance(op.eval, np.ufunc)

    no_workspace = None

    def into_workspace(self, node: Node) -> bool:
        """A single-output ufunc whose own result type (numpy's, as the statement without
        ``out=`` would give) is the node's dtype: ``out=`` then changes where the result goes,
        never how it is computed."""
        ufunc = node.op.eval
        if not isinstance(ufunc, np.ufunc) or ufunc.nout != 1:
            return False
        bare = self.bare_constants(node)
        operands = []
        for source in node.inputs:
            if source.kind != CONST:
                operands.append(source.dtype.numpy)
            elif bare and source.dtype.numpy.kind in "iuf":
                # printed as a bare Python number: numpy's weak scalar
                operands.append(float if source.dtype.numpy.kind == "f" else int)
            else:
                operands.append(source.dtype.numpy)
        try:
            resolved = ufunc.resolve_dtypes((*operands, None))
        except (TypeError, ValueError):
            return False
        return resolved[-1] == node.dtype.numpy

    def bare_constants(self, node: Node) -> bool:
        return self.writes_into(node.op) and any(i.kind != CONST for i in node.inputs)

    def constant(self, node: Node, bare: bool = False) -> str:
        return codegen.constant_text(node) if bare else codegen.typed_constant(node)

    def read_only(self, op) -> bool:
        return op.name == "expand"  # spelled np.broadcast_to, a read-only view

    def fresh_copy(self, text: str) -> str:
        return f"np.array({text})"

    def is_array(self, value) -> bool:
        return isinstance(value, np.ndarray)

    def to_output(self, value):
        # numpy returns scalars for 0-d results; the compiled function returns 0-d arrays
        return np.asarray(value) if isinstance(value, np.generic) else value

"""The ``"numpy"`` backend (the default): generated code calls numpy, on numpy arrays.

Spellings are the ops' own (``OpDef.spelling``, written for numpy) with this table's
overrides: full reductions as ndarray methods (``t3.sum()`` skips numpy's Python-level
dispatch, which dominates on small arrays). Ufunc ops write into dead temporaries with
``out=``; a Python number beside an array operand of a ufunc stays bare (numpy takes the
array's dtype).
"""

from __future__ import annotations

import numpy as np

from .. import codegen
from ..graph import CONST, Node
from .base import Backend


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

        Constant operands of an op called through its numpy function are typed numpy scalars
        (the function may read ``.dtype``), as eager mode passes them."""
        op = node.op
        attrs = node.attr_dict
        spelling = self.spelling(op)
        if callable(spelling):
            return spelling(operands, **attrs)
        if spelling is not None and not codegen.calls_private(spelling):
            printed = {k: codegen.literal(v) for k, v in attrs.items()}
            try:
                return spelling.format(*operands, **printed)
            except (KeyError, IndexError, AttributeError) as error:
                raise codegen.CodegenError(
                    f"spelling of {op.name} does not fit its call: {error}"
                ) from None
        if isinstance(op.eval, np.ufunc):
            return f"np.{op.eval.__name__}({', '.join(operands)})"
        return codegen.helper_call(op.eval, node, operands, helpers)

    def expression_into(self, node: Node, operands: list[str], out: str) -> str:
        return f"np.{node.op.eval.__name__}({', '.join(operands)}, out={out})"

    def guard(self, node: Node, operands: list[str], helpers: dict) -> str | None:
        if node.op.check is None:
            return None
        return codegen.helper_call(node.op.check, node, operands, helpers)

    def writes_into(self, op) -> bool:
        """Ops computed by one numpy ufunc, which takes ``out=``."""
        return isinstance(op.eval, np.ufunc)

    def bare_constants(self, node: Node) -> bool:
        return self.writes_into(node.op) and any(i.kind != CONST for i in node.inputs)

    def constant(self, node: Node, bare: bool = False) -> str:
        return codegen.constant_text(node) if bare else codegen.typed_constant(node)

    def fresh_copy(self, text: str) -> str:
        return f"np.array({text})"

    def is_array(self, value) -> bool:
        return isinstance(value, np.ndarray)

    def to_output(self, value):
        # numpy returns scalars for 0-d results; the compiled function returns 0-d arrays
        return np.asarray(value) if isinstance(value, np.generic) else value

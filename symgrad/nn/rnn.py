"""``RNN``, ``LSTM``, ``GRU`` (torch.nn.modules.rnn): the recurrence unrolled in Python over
time steps, each step a few matmuls and elementwise ops, so autograd and the compiler
differentiate it like any other code. Parameter names and shapes, gate order, the range of
initial values and the results (``output, h_n``; LSTM: ``output, (h_n, c_n)``) are torch's."""

from __future__ import annotations

import math

from .. import creation
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.join import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["GRU", "LSTM", "RNN"]


class _RNNBase(Module):
    """Layers and directions of a recurrent cell; subclasses give the number of gates per
    step and the cell. Input is (L, N, input_size) ((N, L, input_size) with ``batch_first``,
    or unbatched (L, input_size))."""

    _gates = 1
    _has_cell_state = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if proj_size != 0:
            raise NotImplementedError("symgrad's LSTM does not support proj_size")
        if not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                "an element being zeroed"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                gates = self._gates * hidden_size
                shapes = {"weight_ih": (gates, layer_input), "weight_hh": (gates, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                for kind, shape in shapes.items():
                    empty = creation.empty(*shape, dtype=dtype)
                    self.register_parameter(f"{kind}_l{layer}{suffix}", Parameter(empty))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _weights(self, layer: int, suffix: str):
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return [self._parameters.get(f"{name}_l{layer}{suffix}") for name in names]

    def _cell(self, projected: Tensor, recurrent: Tensor, h: Tensor, c):
        """One step from the input's and the hidden state's projections: the new (h, c)."""
        raise NotImplementedError

    def _run_direction(self, inputs: Tensor, h: Tensor, c, weights, reverse: bool):
        """One layer in one direction over (L, N, features): outputs (L, N, H), h_n, c_n."""
        w_ih, w_hh, b_ih, b_hh = weights
        # the input projections of every step in one matmul
        projected = F.linear(inputs, w_ih, b_ih)
        steps = range(inputs.shape[0] - 1, -1, -1) if reverse else range(inputs.shape[0])
        outputs = [None] * inputs.shape[0]
        for t in steps:
            h, c = self._cell(projected[t], F.linear(h, w_hh, b_hh), h, c)
            outputs[t] = h
        return stack(outputs), h, c

    def forward(self, input: Tensor, hx=None):
        batched = input.ndim == 3
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{self._get_name()}: Expected input to be 2D or 3D, got {input.ndim}D instead"
            )
        states = None if hx is None else (hx if self._has_cell_state else (hx,))
        if not batched:
            input = input.unsqueeze(1)
            states = None if states is None else tuple(s.unsqueeze(1) for s in states)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
        directions = 2 if self.bidirectional else 1
        if states is None:
            zeros = creation.zeros(
                self.num_layers * directions, input.shape[1], self.hidden_size, dtype=input.dtype
            )
            states = (zeros, zeros) if self._has_cell_state else (zeros,)
        layer_input, h_n, c_n = input, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + direction
                c0 = states[1][k] if self._has_cell_state else None
                out, h, c = self._run_direction(
                    layer_input, states[0][k], c0, self._weights(layer, suffix), bool(direction)
                )
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output, finals = layer_input, [stack(h_n)]
        if self._has_cell_state:
            finals.append(stack(c_n))
        if not batched:
            output, finals = output.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (tuple(finals) if self._has_cell_state else finals[0])

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(_RNNBase):
    """An Elman recurrent network: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args, nonlinearity: str = "tanh", **kwargs) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(*args, **kwargs)
        self.nonlinearity = nonlinearity

    def _cell(self, projected, recurrent, h, c):
        activation = tanh if self.nonlinearity == "tanh" else relu
        return activation(projected + recurrent), None


class LSTM(_RNNBase):
    """A long short-term memory network; gates in torch's order: input, forget, cell,
    output. Returns ``output, (h_n, c_n)``."""

    _gates = 4
    _has_cell_state = True

    def _cell(self, projected, recurrent, h, c):
        i, f, g, o = (projected + recurrent).chunk(4, 1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        return sigmoid(o) * tanh(c), c


class GRU(_RNNBase):
    """A gated recurrent unit network; gates in torch's order: reset, update, new."""

    _gates = 3

    def _cell(self, projected, recurrent, h, c):
        x_r, x_z, x_n = projected.chunk(3, 1)
        h_r, h_z, h_n = recurrent.chunk(3, 1)
        r = sigmoid(x_r + h_r)
        z = sigmoid(x_z + h_z)
        n = tanh(x_n + r * h_n)
        return (1 - z) * n + z * h, None

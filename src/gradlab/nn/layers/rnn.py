"""Recurrent layers RNN, LSTM, GRU and their cells, as PyTorch's: same
arguments, gate order, weight names (``weight_ih_l0``, ``weight_hh_l0_reverse``,
...) and shapes, so a PyTorch state dict loads unchanged.

An LSTM layer runs each direction as one fused graph node; GRU and RNN
layers run their input projections for the whole sequence as one matrix
product, then loop over time for the recurrent part (the step functions are
in :mod:`gradlab.nn.functional.rnn`).
"""

from __future__ import annotations

import math
from typing import Any

from gradlab import ops
from gradlab.backend import Generator
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.functional.rnn import GRULayer, LSTMLayer, Unbind0, gru_step, lstm_step, rnn_step
from gradlab.nn.layers._factory import check_positive, new_parameter
from gradlab.nn.module import Module
from gradlab.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU.

    Shape (``batch_first=False``): input (L, N, H_in) or unbatched (L, H_in);
    output (L, N, D H) with D = 2 if bidirectional; hidden state
    (num_layers D, N, H). With ``batch_first=True`` input and output are
    (N, L, *) (the hidden state is not affected, as in PyTorch).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None, dtype: Any = None,
                 *, generator: Generator | None = None) -> None:
        super().__init__()
        check_positive(input_size, "input_size")
        check_positive(hidden_size, "hidden_size")
        check_positive(num_layers, "num_layers")
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"dropout should be a number in range [0, 1], got {dropout!r}")
        if proj_size:
            raise NotImplementedError("proj_size is not supported")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        self.generator = generator
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, new_parameter(*shape, device=device, dtype=dtype))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters(generator)

    def flatten_parameters(self) -> None:
        """A no-op, for programs written for PyTorch on a GPU (where it packs
        the weights into one cuDNN buffer): gradlab's weights need no packing."""

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """PyTorch's default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix), \
            get("bias_hh" + suffix)

    def _check_state(self, state: Tensor, batch: int, name: str) -> None:
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.hidden_size)
        if tuple(state.shape) != expected:
            raise RuntimeError(f"{type(self).__name__}: expected {name} of shape {expected}, "
                               f"got {tuple(state.shape)}")

    def _run(self, input: Tensor, states: tuple) -> tuple:  # noqa: A002
        """Run all layers; ``states`` is (h0,) or (h0, c0), each (layers D, N, H)."""
        directions = 2 if self.bidirectional else 1
        x = input
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                out, last = self._direction(x, [s[k] for s in states], w_ih, w_hh, b_ih, b_hh,
                                            bool(direction))
                outputs.append(out)
                for slot, value in zip(finals, last):
                    slot.append(value)
            x = outputs[0] if directions == 1 else ops.cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True, generator=self.generator)
        return x, tuple(ops.stack(f, 0) for f in finals)

    def _direction(self, x: Tensor, carry: list, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                   b_hh: Tensor | None, reverse: bool) -> tuple[Tensor, list]:
        """One layer in one direction: the outputs (T, N, H) and final states."""
        if self.mode == "LSTM":
            bias = None if b_ih is None else b_ih + b_hh
            hs, h_n, c_n = LSTMLayer.apply(x, carry[0], carry[1], w_ih, w_hh, bias, reverse)
            return hs, [h_n, c_n]
        if self.mode == "GRU":
            hs, h_n = GRULayer.apply(x, carry[0], w_ih, w_hh, b_ih, b_hh, reverse)
            return hs, [h_n]
        proj = F.linear(x, w_ih, b_ih)  # all steps' input projections: one matrix product
        steps = list(Unbind0.apply(proj)) if proj.shape[0] > 1 else [proj[0]]
        if reverse:
            steps.reverse()
        (h,) = carry
        hs = []
        for step in steps:
            h = rnn_step(step, h, w_hh, b_hh, "tanh" if self.mode == "RNN_TANH" else "relu")
            hs.append(h)
        if reverse:
            hs.reverse()
        return ops.stack(hs, 0), [h]

    def _forward(self, input: Tensor, hx: Any, n_states: int) -> tuple:  # noqa: A002
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected input of 2 or 3 dimensions, "
                             f"got shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: input.size(-1) must be equal to input_size. "
                               f"Expected {self.input_size}, got {input.shape[-1]}")
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        if x.shape[0] == 0:
            raise RuntimeError(f"{type(self).__name__}: expected sequence length to be larger than 0, "
                               f"got input of shape {tuple(input.shape)}")
        batch = x.shape[1]
        if hx is None:
            directions = 2 if self.bidirectional else 1
            shape = (self.num_layers * directions, batch, self.hidden_size)
            states = tuple(_zeros(x, shape) for _ in range(n_states))
        else:
            states = (hx,) if n_states == 1 else tuple(hx)
            if len(states) != n_states:
                raise ValueError(f"{type(self).__name__}: expected {n_states} initial states, "
                                 f"got {len(states)}")
            if unbatched:
                states = tuple(s.unsqueeze(1) for s in states)
            for s, name in zip(states, ("h_0", "c_0")):
                self._check_state(s, batch, name)
        out, finals = self._run(x, states)
        if unbatched:
            out = out.squeeze(1)
            finals = tuple(f.squeeze(1) for f in finals)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


def _zeros(like: Tensor, shape: tuple) -> Tensor:
    from gradlab.backend import array_module

    return Tensor._make(array_module(like.array).zeros(shape, dtype=like.dtype))


class RNN(RNNBase):
    """Elman RNN, h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh
    or relu (``nonlinearity``). Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None, *, generator: Generator | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype,
                         generator=generator)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "nonlinearity" and "_parameters" not in self.__dict__:
            self.__dict__[name] = value
            return
        super().__setattr__(name, value)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        out, (h,) = self._forward(input, hx, 1)
        return out, h


class LSTM(RNNBase):
    """Long short-term memory; gates i, f, g, o stacked in that order in
    ``weight_ih_l{k}`` (4H, in) and ``weight_hh_l{k}`` (4H, H). Returns
    (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None, *,
                 generator: Generator | None = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype, generator=generator)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:  # noqa: A002
        out, (h, c) = self._forward(input, hx, 2)
        return out, (h, c)


class GRU(RNNBase):
    """Gated recurrent unit; gates r, z, n stacked in that order. Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None, *, generator: Generator | None = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, generator=generator)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        out, (h,) = self._forward(input, hx, 1)
        return out, h


class RNNCellBase(Module):
    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, generator: Generator | None = None) -> None:
        super().__init__()
        self.input_size = check_positive(input_size, "input_size")
        self.hidden_size = check_positive(hidden_size, "hidden_size")
        self.bias = bias
        gate = self._gates * hidden_size
        self.weight_ih = new_parameter(gate, input_size, device=device, dtype=dtype)
        self.weight_hh = new_parameter(gate, hidden_size, device=device, dtype=dtype)
        if bias:
            self.bias_ih = new_parameter(gate, device=device, dtype=dtype)
            self.bias_hh = new_parameter(gate, device=device, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def _prepare(self, input: Tensor, hx: Any, n: int) -> tuple:  # noqa: A002
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: expected input to be 1-D or 2-D, got shape "
                             f"{tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: input has {input.shape[-1]} features, "
                               f"expected input_size={self.input_size}")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            states = tuple(_zeros(x, (x.shape[0], self.hidden_size)) for _ in range(n))
        else:
            states = (hx,) if n == 1 else tuple(hx)
            if unbatched:
                states = tuple(s.unsqueeze(0) for s in states)
        proj = x @ self.weight_ih.T
        if self.bias_ih is not None:
            proj = proj + self.bias_ih
        return unbatched, proj, states

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None, *, generator: Generator | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype, generator=generator)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        unbatched, proj, (h,) = self._prepare(input, hx, 1)
        out = rnn_step(proj, h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    """One LSTM step: (x, (h, c)) -> (h', c')."""

    _gates = 4

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        unbatched, proj, (h, c) = self._prepare(input, hx, 2)
        if self.bias_hh is not None:
            proj = proj + self.bias_hh
        h2, c2 = lstm_step(proj, h, c, self.weight_hh)
        return (h2.squeeze(0), c2.squeeze(0)) if unbatched else (h2, c2)


class GRUCell(RNNCellBase):
    """One GRU step: (x, h) -> h'."""

    _gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        unbatched, proj, (h,) = self._prepare(input, hx, 1)
        out = gru_step(proj, h, self.weight_hh, self.bias_hh)
        return out.squeeze(0) if unbatched else out

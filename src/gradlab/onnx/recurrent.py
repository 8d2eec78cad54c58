"""LSTM, GRU and RNN as ONNX's ``LSTM``, ``GRU`` and ``RNN`` nodes, one per
layer (both directions in one node).

ONNX stacks the gates in another order than PyTorch: LSTM ``i, o, f, c``
(PyTorch ``i, f, g, o``), GRU ``z, r, h`` (PyTorch ``r, z, n``); the
weights are reordered here. PyTorch's GRU applies the reset gate after the
hidden-state product, ONNX's ``linear_before_reset=1``. ONNX's sequence
output is (L, D, N, H); it is transposed and reshaped to PyTorch's
(L, N, D H) before the next layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import nn
from gradlab.onnx.graph import Graph, UnsupportedOperatorError
from gradlab.onnx.modules import host
from gradlab.onnx.registry import module_converter

__all__: list[str] = []

# PyTorch's gate blocks, in ONNX's order
_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}


def _reorder(array: np.ndarray, mode: str, hidden: int) -> np.ndarray:
    return np.concatenate([array[k * hidden:(k + 1) * hidden] for k in _ORDER[mode]], axis=0)


def _layer_weights(m: Any, layer: int, directions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W (D, G H, in), R (D, G H, H) and B (D, 2 G H) of one layer, in ONNX's gate order."""
    ws, rs, bs = [], [], []
    h = m.hidden_size
    for direction in range(directions):
        w_ih, w_hh, b_ih, b_hh = m._weights(layer, direction)
        w, r = host(w_ih), host(w_hh)
        ws.append(_reorder(w, m.mode, h))
        rs.append(_reorder(r, m.mode, h))
        if b_ih is None:
            bs.append(np.zeros(2 * w.shape[0], dtype=w.dtype))
        else:
            bs.append(np.concatenate([_reorder(host(b_ih), m.mode, h), _reorder(host(b_hh), m.mode, h)]))
    return np.stack(ws), np.stack(rs), np.stack(bs)


@module_converter(nn.LSTM, nn.GRU, nn.RNN)
def _recurrent(g: Graph, m: Any, inputs: list, args: tuple, out: Any) -> Any:
    name = type(m).__name__
    if args[0].ndim != 3:
        raise UnsupportedOperatorError(
            f"ONNX export: {name} on an unbatched (2-D) input is not exportable; give a batch dimension"
        )
    directions = 2 if m.bidirectional else 1
    x = inputs[0]
    if m.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    states = inputs[1:]  # h0, and c0 for an LSTM; absent when the module was called without them
    finals: list[list[str]] = [[], []]
    for layer in range(m.num_layers):
        w, r, b = _layer_weights(m, layer, directions)
        bounds = [g.ints([layer * directions]), g.ints([(layer + 1) * directions]), g.ints([0])]
        initial = [g.node("Slice", [s, *bounds]) if s else "" for s in states]
        attributes: dict[str, Any] = {
            "hidden_size": m.hidden_size,
            "direction": "bidirectional" if m.bidirectional else "forward",
        }
        if m.mode == "GRU":
            attributes["linear_before_reset"] = 1
        elif m.mode.startswith("RNN"):
            attributes["activations"] = ["Tanh" if m.mode == "RNN_TANH" else "Relu"] * directions
        op_type = "RNN" if m.mode.startswith("RNN") else m.mode
        weights = [g.constant(a, f"{name.lower()}_{part}") for a, part in ((w, "W"), (r, "R"), (b, "B"))]
        n_outputs = 3 if m.mode == "LSTM" else 2
        results = g.node(op_type, [x, *weights, "", *initial], outputs=n_outputs, **attributes)
        y = g.node("Transpose", [results[0]], perm=[0, 2, 1, 3])  # (L, N, D, H)
        x = g.node("Reshape", [y, g.ints([0, 0, -1])])  # (L, N, D H)
        for slot, value in zip(finals, results[1:]):
            slot.append(value)
    output = g.node("Transpose", [x], perm=[1, 0, 2]) if m.batch_first else x
    stacked = [f[0] if len(f) == 1 else g.node("Concat", f, axis=0) for f in finals if f]
    if m.mode == "LSTM":
        return output, (stacked[0], stacked[1])
    return output, stacked[0]

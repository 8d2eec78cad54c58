"""The ONNX graph under construction: nodes, initializers (the weights) and
fresh value names, built with the ``onnx`` package's helpers."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Graph", "UnsupportedOperatorError"]


class UnsupportedOperatorError(RuntimeError):
    """A module or operation of the traced forward pass that gradlab cannot
    write as ONNX (PyTorch's ``torch.onnx.errors.UnsupportedOperatorError``)."""


def _onnx() -> Any:
    try:
        import onnx
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "gradlab.onnx needs the onnx package: pip install 'gradlab[onnx]'"
        ) from None
    return onnx


class Graph:
    """Nodes and initializers in the order they are added.

    ``node(op_type, inputs, **attributes)`` appends one ONNX node and returns
    its output name (a tuple of names with ``outputs=n``); ``constant(array)``
    adds an initializer and returns its name. An input name ``""`` is ONNX's
    "optional input left out". ``call_kwargs`` holds the keyword arguments
    of the module call being converted.
    """

    def __init__(self, opset_version: int) -> None:
        self.onnx = _onnx()
        self.opset_version = opset_version
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0
        self.call_kwargs: dict[str, Any] = {}

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, array: Any, hint: str = "const", dtype: Any = None) -> str:
        """An initializer holding ``array`` (NumPy; cast to ``dtype`` if given)."""
        value = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def ints(self, values: Any, hint: str = "shape") -> str:
        """An int64 vector initializer (shapes, axes, slice bounds)."""
        return self.constant(np.asarray(values, dtype=np.int64).reshape(-1), hint)

    def node(self, op_type: str, inputs: list[str], outputs: int = 1, **attributes: Any) -> Any:
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, names, **attributes))
        return names[0] if outputs == 1 else tuple(names)

"""The converters: one function per module type and per primitive op.

A module converter is called as ``convert(g, module, inputs, args, output)``
with the Graph, the module, the ONNX names of its Tensor arguments (None for
an argument that is not a traced Tensor), the arguments themselves and the
module's output; it returns the ONNX name of each output Tensor, in the
nesting of ``output`` (a name, or a tuple of names and tuples).

An op converter is called as ``convert(g, op, inputs, tensors, output)``
with the op node (its parameters are attributes: ``op.shape``, ``op.axes``,
...), the input names, the input Tensors and the output Tensor; it returns
the output's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MODULES", "NAMED_MODULES", "OPS", "converter_for", "module_converter", "named_module_converter",
           "op_converter"]

MODULES: dict[type, Callable[..., Any]] = {}
# converters of gradlab.nn layers by class name, for layers written in parallel on other branches
# (ConvTranspose, MultiheadAttention): they apply to classes defined in gradlab.nn only
NAMED_MODULES: dict[str, Callable[..., Any]] = {}
OPS: dict[str, Callable[..., Any]] = {}


def converter_for(module: Any) -> Callable[..., Any] | None:
    """The converter of a module's exact type, or None."""
    cls = type(module)
    if cls in MODULES:
        return MODULES[cls]
    if cls.__module__.startswith("gradlab.nn."):
        return NAMED_MODULES.get(cls.__name__)
    return None


def module_converter(*classes: type) -> Callable:
    def register(fn: Callable) -> Callable:
        for cls in classes:
            MODULES[cls] = fn
        return fn

    return register


def named_module_converter(*names: str) -> Callable:
    def register(fn: Callable) -> Callable:
        for name in names:
            NAMED_MODULES[name] = fn
        return fn

    return register


def op_converter(*names: str) -> Callable:
    def register(fn: Callable) -> Callable:
        for name in names:
            OPS[name] = fn
        return fn

    return register

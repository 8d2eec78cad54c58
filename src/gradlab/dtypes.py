"""gradlab's dtypes and the rules for combining them.

A gradlab dtype is a NumPy ``dtype`` object: a Tensor's ``dtype`` is exactly
its array's dtype and every NumPy or CuPy function accepts it. The names and
aliases are PyTorch's (``gradlab.float32``, ``gradlab.long``, ...).

Type promotion follows PyTorch, which differs from NumPy in two places:
an integer combined with a floating tensor takes the floating tensor's dtype
(NumPy widens int64 + float32 to float64), and a 0-d tensor or a Python
number does not widen a dimensioned tensor of the same category
(``float32_matrix * float64_scalar_tensor`` stays float32).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")  # noqa: A001 - PyTorch's alias
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")  # noqa: A001 - PyTorch's alias
int64 = long = np.dtype("int64")
bool = np.dtype("bool")  # noqa: A001 - PyTorch's name

_NAMES = {
    "float16": float16, "half": float16,
    "float32": float32, "float": float32,
    "float64": float64, "double": float64,
    "int8": int8, "uint8": uint8, "int16": int16, "short": int16,
    "int32": int32, "int": int32, "int64": int64, "long": int64,
    "bool": bool,
}
SUPPORTED = frozenset(_NAMES.values())

_default = float32


def as_dtype(dtype: Any) -> np.dtype:
    """The gradlab dtype named by ``dtype`` (a dtype, a NumPy scalar type or
    a name such as ``"float32"``); TypeError naming the value otherwise."""
    if isinstance(dtype, np.dtype) and dtype in SUPPORTED:
        return dtype
    if isinstance(dtype, str):
        found = _NAMES.get(dtype.removeprefix("gradlab.").removeprefix("torch."))
    elif dtype is builtins.float:
        found = _default
    elif dtype is builtins.int:
        found = int64
    elif dtype is builtins.bool:
        found = bool
    else:
        try:
            found = np.dtype(dtype)
        except TypeError:
            found = None
    if found is None or found not in SUPPORTED:
        names = ", ".join(sorted({str(d) for d in SUPPORTED}))
        raise TypeError(f"dtype must be one of {names}; got {dtype!r}")
    return found


def get_default_dtype() -> np.dtype:
    """The dtype given to tensors made from Python floats (float32 at start)."""
    return _default


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of tensors made from Python floats, as
    ``torch.set_default_dtype``; only floating dtypes are accepted."""
    global _default
    found = as_dtype(dtype)
    if found.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype, got {found}")
    _default = found


def is_floating(dtype: np.dtype) -> builtins.bool:
    return dtype.kind == "f"


def _category(dtype: np.dtype) -> builtins.int:
    # bool < integer < floating, as in PyTorch's promotion lattice
    return 2 if dtype.kind == "f" else (0 if dtype.kind == "b" else 1)


def promote(a: np.dtype, a_dim: builtins.int, b: np.dtype, b_dim: builtins.int) -> np.dtype:
    """The dtype of a binary op on tensors of dtypes ``a`` and ``b`` with
    ``a_dim`` and ``b_dim`` dimensions, by PyTorch's rules."""
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    # same category: a 0-d operand does not widen a dimensioned one
    if a_dim == 0 and b_dim > 0:
        return b
    if b_dim == 0 and a_dim > 0:
        return a
    return np.promote_types(a, b)


def scalar_dtype(value: Any, other: np.dtype) -> np.dtype:
    """The dtype a Python number takes when combined with a tensor of dtype
    ``other``: the tensor's own, unless the number is of a higher category
    (a float with an integer tensor gives the default float dtype)."""
    if isinstance(value, builtins.bool):
        return other
    if isinstance(value, builtins.int):
        return other if other.kind != "b" else int64
    if other.kind == "f":
        return other
    return _default

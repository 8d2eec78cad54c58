"""Comparisons and logical operations. Their results are boolean tensors,
which carry no gradient."""

from __future__ import annotations

from typing import Any

from gradlab import backend
from gradlab.ops._util import dims, operands
from gradlab.tensor import Tensor


def _compare(fn: str, a: Any, b: Any) -> Tensor:
    a, b = operands(a, b, fn)
    xp = backend.array_module(a.array)
    try:
        return Tensor._make(getattr(xp, fn)(a.array, b.array))
    except ValueError as err:
        raise RuntimeError(
            f"{fn}: the shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
            "broadcast together"
        ) from err


def eq(a: Any, b: Any) -> Tensor:
    return _compare("equal", a, b)


def ne(a: Any, b: Any) -> Tensor:
    return _compare("not_equal", a, b)


def lt(a: Any, b: Any) -> Tensor:
    return _compare("less", a, b)


def le(a: Any, b: Any) -> Tensor:
    return _compare("less_equal", a, b)


def gt(a: Any, b: Any) -> Tensor:
    return _compare("greater", a, b)


def ge(a: Any, b: Any) -> Tensor:
    return _compare("greater_equal", a, b)


def logical_and(a: Any, b: Any) -> Tensor:
    return _compare("logical_and", a, b)


def logical_or(a: Any, b: Any) -> Tensor:
    return _compare("logical_or", a, b)


def logical_xor(a: Any, b: Any) -> Tensor:
    return _compare("logical_xor", a, b)


def logical_not(x: Tensor) -> Tensor:
    return Tensor._make(backend.array_module(x.array).logical_not(x.array))


def bitwise_and(a: Any, b: Any) -> Tensor:
    return _integral("bitwise_and", a, b)


def bitwise_or(a: Any, b: Any) -> Tensor:
    return _integral("bitwise_or", a, b)


def bitwise_xor(a: Any, b: Any) -> Tensor:
    return _integral("bitwise_xor", a, b)


def bitwise_not(x: Tensor) -> Tensor:
    if x.array.dtype.kind not in "biu":
        raise TypeError(f"~ is only defined for bool and integer tensors, got {x.dtype}")
    return Tensor._make(backend.array_module(x.array).invert(x.array))


def _integral(fn: str, a: Any, b: Any) -> Tensor:
    a, b = operands(a, b, fn)
    if a.array.dtype.kind not in "biu":
        raise TypeError(f"{fn} is only defined for bool and integer tensors, got {a.dtype}")
    return _compare(fn, a, b)


def isnan(x: Tensor) -> Tensor:
    return Tensor._make(backend.array_module(x.array).isnan(x.array))


def isinf(x: Tensor) -> Tensor:
    return Tensor._make(backend.array_module(x.array).isinf(x.array))


def isfinite(x: Tensor) -> Tensor:
    return Tensor._make(backend.array_module(x.array).isfinite(x.array))


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = dims(dim, x.ndim)
    return Tensor._make(backend.array_module(x.array).all(x.array, axis=axes, keepdims=keepdim))


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    axes = dims(dim, x.ndim)
    return Tensor._make(backend.array_module(x.array).any(x.array, axis=axes, keepdims=keepdim))


def equal(a: Tensor, b: Tensor) -> bool:
    """True if both tensors have the same shape and elements."""
    return tuple(a.shape) == tuple(b.shape) and bool(eq(a, b).array.all())


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    a, b = operands(a, b, "isclose")
    xp = backend.array_module(a.array)
    return Tensor._make(xp.isclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(isclose(a, b, rtol, atol, equal_nan).array.all())

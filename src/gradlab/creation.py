"""Making tensors: from data, filled with a constant, ranges, random.

Random tensors take an optional :class:`gradlab.Generator`; without one they
draw from the default generator that :func:`gradlab.manual_seed` seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend, dtypes
from gradlab.backend import Device, Generator
from gradlab.tensor import Size, Tensor, _shape_arg

__all__ = [
    "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like",
    "linspace", "ones", "ones_like", "rand", "rand_like", "randint", "randint_like", "randn",
    "randn_like", "randperm", "tensor", "zeros", "zeros_like",
]


def _finish(array: np.ndarray, device: Any, requires_grad: bool) -> Tensor:
    if device is not None:
        array = backend.to_device(array, Device(device))
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer(data: Any, dtype: Any) -> np.ndarray:
    """An array from Python data with PyTorch's dtype inference: Python
    floats give the default dtype, ints int64, bools bool; arrays keep
    theirs."""
    if isinstance(data, Tensor):
        array = backend.to_device(data.array, backend.CPU)
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
    else:
        try:
            array = np.asarray(data)
        except ValueError as err:
            raise ValueError(f"could not make a tensor from {type(data).__name__}: {err}") from None
        if array.dtype == np.float64 and dtype is None and not _holds_float64(data):
            array = array.astype(dtypes.get_default_dtype())
    if dtype is not None:
        return array.astype(dtypes.as_dtype(dtype))
    if array.dtype not in dtypes.SUPPORTED:
        if array.dtype.kind in "iu":
            array = array.astype(np.int64)
        else:
            raise TypeError(
                f"can't make a tensor of dtype {array.dtype} from {type(data).__name__}; "
                "gradlab holds floats, integers and bools"
            )
    return array


def _holds_float64(data: Any) -> bool:
    """Whether a nested sequence contains float64 arrays or tensors, whose
    dtype wins over the default (as in PyTorch)."""
    if isinstance(data, (list, tuple)):
        return any(_holds_float64(d) for d in data)
    return getattr(data, "dtype", None) == np.float64


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested sequence,
    array or tensor).

    Example:
        >>> import gradlab
        >>> gradlab.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
        >>> gradlab.tensor([0.5]).dtype
        dtype('float32')
    """
    array = np.array(_infer(data, dtype), copy=True)
    return _finish(array, device, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a NumPy array (or returns
    a tensor unchanged) when no conversion is needed."""
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
        return out if device is None else out.to(device)
    if not isinstance(data, np.ndarray) and backend.array_module(data) is not np:
        return Tensor._make(data if dtype is None else data.astype(dtypes.as_dtype(dtype)))
    return _finish(_infer(data, dtype), device, False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    if array.dtype not in dtypes.SUPPORTED:
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype}")
    return Tensor._make(array)


def _filled(kind: str, size: tuple, dtype: Any, device: Any, requires_grad: bool,
            fill: Any = None) -> Tensor:
    shape = _shape_arg(size)
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if kind == "full":
        array = np.full(shape, fill, dtype=dt)
    else:
        array = getattr(np, kind)(shape, dtype=dt)
    return _finish(array, device, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled("zeros", size, dtype, device, requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled("ones", size, dtype, device, requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled("empty", size, dtype, device, requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = _infer(fill_value, None).dtype
    return _filled("full", (size,) if isinstance(size, int) else tuple(size), dtype, device,
                   requires_grad, fill_value)


def _like(t: Tensor, dtype: Any, device: Any) -> tuple[Any, Any]:
    return (dtype if dtype is not None else t.dtype), (device if device is not None else t.device)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return zeros(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return ones(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return empty(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``;
    int64 when all three are integers, else the default float dtype."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if integral else dtypes.get_default_dtype()
    array = np.arange(start, end, step).astype(dtypes.as_dtype(dtype))
    return _finish(array, device, requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return _finish(np.linspace(start, end, steps).astype(dt), device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return _finish(np.eye(n, m, dtype=dt), device, requires_grad)


def _float_dtype(dtype: Any) -> np.dtype:
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dt.kind != "f":
        raise TypeError(f"random floats need a floating dtype, got {dt}")
    return dt


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    array = backend.resolve_generator(generator).uniform(_shape_arg(size), dtype=_float_dtype(dtype))
    return _finish(array, device, requires_grad)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    array = backend.resolve_generator(generator).normal(_shape_arg(size), dtype=_float_dtype(dtype))
    return _finish(array, device, requires_grad)


def randint(low: int, high: int | None = None, size: Any = None, *,
            generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` starts at 0."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() needs a size, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    gen = backend.resolve_generator(generator)
    array = gen.integers(low, high, _shape_arg((size,)), dtype=np.int64).astype(dt)
    return _finish(array, device, False)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None) -> Tensor:
    """A random permutation of 0 .. n-1."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    return _finish(backend.resolve_generator(generator).permutation(n).astype(dt), device, False)


def rand_like(t: Tensor, *, generator: Generator | None = None, dtype: Any = None,
              device: Any = None) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return rand(t.shape, generator=generator, dtype=dt, device=dev)


def randn_like(t: Tensor, *, generator: Generator | None = None, dtype: Any = None,
               device: Any = None) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return randn(t.shape, generator=generator, dtype=dt, device=dev)


def randint_like(t: Tensor, low: int, high: int | None = None, *,
                 generator: Generator | None = None, dtype: Any = None) -> Tensor:
    dt, dev = _like(t, dtype, None)
    return randint(low, high, t.shape, generator=generator, dtype=dt, device=dev)


# ----------------------------------------------------------------------------
# PyTorch's legacy typed constructors: gradlab.FloatTensor([1, 2]),
# gradlab.LongTensor(2, 3), isinstance(x, gradlab.FloatTensor)
# ----------------------------------------------------------------------------
class _LegacyTensorType(type):
    """The class of ``FloatTensor`` and friends: calling one makes a Tensor
    of its dtype (from data, or of the given sizes); ``isinstance`` asks for
    a CPU tensor of that dtype, as in PyTorch."""

    dtype: np.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        if len(args) == 1 and isinstance(args[0], Size):
            args = tuple(args[0])
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return tensor(args[0], dtype=cls.dtype, device=device)
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            raise TypeError(f"{cls.__name__}() takes data (a sequence, array or tensor) or sizes "
                            f"(ints), got {args!r}")
        return zeros(*(args or (0,)), dtype=cls.dtype, device=device)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"

    def __repr__(cls) -> str:
        return f"<class 'gradlab.{cls.__name__}'>"


def _legacy(name: str, dtype: np.dtype) -> type:
    doc = (f"``{name}(data)`` or ``{name}(*sizes)``: a {dtype} tensor (from sizes, filled "
           "with zeros: gradlab hands out no uninitialised memory).")
    return _LegacyTensorType(name, (), {"dtype": dtype, "__doc__": doc})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
HalfTensor = _legacy("HalfTensor", dtypes.float16)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
ShortTensor = _legacy("ShortTensor", dtypes.int16)
ByteTensor = _legacy("ByteTensor", dtypes.uint8)
BoolTensor = _legacy("BoolTensor", dtypes.bool)
LEGACY_TYPES = {t.__name__: t for t in (FloatTensor, DoubleTensor, HalfTensor, LongTensor,
                                        IntTensor, ShortTensor, ByteTensor, BoolTensor)}

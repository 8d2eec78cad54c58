"""The Tensor: one array of the active backend plus what backpropagation
needs to know about it.

A Tensor made by a recorded operation remembers that operation in
``grad_fn`` (a node of the graph); a Tensor made by the user is a *leaf*, and
if it ``requires_grad`` the engine accumulates gradients into its ``grad``.
The operations themselves live in :mod:`gradlab.ops`; they are attached to
the class as methods at the bottom of this file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gradlab import backend, dtypes

_NDARRAY = np.ndarray


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    Attributes:
        array: the raw array (``numpy.ndarray`` or ``cupy.ndarray``): what op
            code works on.
        data: as in PyTorch, a Tensor sharing this one's storage, cut from
            the graph (see :attr:`data`).
        grad: the accumulated gradient (a Tensor) or None.
        grad_fn: the graph node that made this tensor, None for a leaf.

    Example:
        >>> import gradlab
        >>> x = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    __slots__ = ("array", "grad", "grad_fn", "_rg", "_nr", "_version", "_hooks",
                 "_retains_grad", "__weakref__")

    # NumPy's operators return NotImplemented for an object that sets this, so
    # ``array @ tensor`` and ``array + tensor`` reach Tensor.__rmatmul__ and
    # friends instead of turning the tensor into an array.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.array
        elif not hasattr(data, "__cuda_array_interface__"):
            from gradlab.creation import _infer  # creation imports this module

            data = _infer(data, None)  # PyTorch's dtype inference
        self.array = data
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._rg = False
        self._nr = 0
        self._version = 0
        self._hooks: list | None = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: Any, grad_fn: Any = None, output_nr: int = 0) -> Tensor:
        """Wrap an op's result without the checks of ``__init__`` (hot path)."""
        t = Tensor.__new__(Tensor)
        if type(data) is not _NDARRAY and isinstance(data, (np.generic, float, int)):
            # NumPy returns scalars from operations on 0-d arrays.
            data = np.asarray(data)
        t.array = data
        t.grad = None
        t.grad_fn = grad_fn
        t._rg = grad_fn is not None
        t._nr = output_nr
        t._version = 0
        t._hooks = None
        t._retains_grad = False
        return t

    # ------------------------------------------------------------------ basics
    @property
    def data(self) -> Tensor:
        """A Tensor sharing this one's storage, with ``requires_grad=False``
        and no history, as PyTorch's ``.data``: ``p.data.add_(g, alpha=-lr)``
        changes ``p`` itself, unseen by autograd. Assigning a Tensor to it
        replaces this tensor's storage (``p.data = other``); shape and dtype
        may change, as in PyTorch. The raw array is :attr:`array`."""
        return Tensor._make(self.array)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"data must be a Tensor, got {type(value).__name__}; "
                "wrap an array with gradlab.as_tensor(array)"
            )
        if self._rg and value.array.dtype.kind != "f":
            raise RuntimeError(
                f"data set to a tensor of dtype {value.dtype} on a tensor that requires grad; "
                "only floating point tensors can require gradients"
            )
        self.array = value.array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def device(self) -> backend.Device:
        return backend.device_of(self.array)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables; "
                    "use tensor.detach() to get a tensor that does not require grad"
                )
            return
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether a leaf records operations for backpropagation."""
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables; "
                    "use tensor.detach() to get a tensor that does not require grad"
                )
            return self
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                "only Tensors of floating point dtype can require gradients, "
                f"got dtype {self.array.dtype}"
            )
        self._rg = bool(requires_grad)
        return self

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        if dim is None:
            return self.array.shape
        return self.array.shape[_wrap_dim(dim, self.array.ndim)]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def element_size(self) -> int:
        return self.array.itemsize

    @property
    def itemsize(self) -> int:
        return self.array.itemsize

    @property
    def nbytes(self) -> int:
        return int(self.array.nbytes)

    def is_contiguous(self) -> bool:
        """Whether the array is C-contiguous (row-major without gaps)."""
        return bool(self.array.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    __hash__ = object.__hash__

    # ------------------------------------------------------ leaving the graph
    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._make(self.array)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._rg = False
        return self

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array (shared on the CPU, as PyTorch's)."""
        if self._rg and not force:
            raise RuntimeError(
                "can't call numpy() on a Tensor that requires grad; "
                "use tensor.detach().numpy() instead"
            )
        if not isinstance(self.array, np.ndarray):
            if not force:
                raise TypeError(
                    f"can't convert a {self.device} tensor to numpy; "
                    "use tensor.cpu() to copy it to the host first"
                )
            return backend.to_device(self.array, backend.CPU)
        return self.array

    def item(self) -> float | int | bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.array.size} elements cannot be converted "
                "to a Python scalar"
            )
        return self.array.item()

    def tolist(self) -> Any:
        return backend.to_device(self.array, backend.CPU).tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = backend.to_device(self.array, backend.CPU)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a Tensor with {self.array.size} elements "
                "is ambiguous; use .any() or .all()"
            )
        return bool(self.array)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be "
                            "converted to an index")
        return int(self.array.item())

    def __repr__(self) -> str:
        array = backend.to_device(self.array, backend.CPU)
        body = np.array2string(array, separator=", ", prefix="tensor(",
                               precision=4)
        extras = []
        if self.array.dtype not in (dtypes.get_default_dtype(), dtypes.int64,
                                   dtypes.bool) or self.array.size == 0:
            extras.append(f"dtype={self.array.dtype}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self._rg:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ------------------------------------------------- devices and dtypes
    def to(self, *args: Any, dtype: Any = None, device: Any = None,
           copy: bool = False) -> Tensor:
        """Move to a device and/or cast: ``t.to("cuda")``,
        ``t.to(gradlab.float64)``, ``t.to("cpu", gradlab.float32)``, or
        ``t.to(other_tensor)``. Differentiable."""
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, backend.Device) or (
                isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda")
            ):
                device = arg
            else:
                dtype = arg
        out = self
        if dtype is not None:
            out = _ops.cast(out, dtypes.as_dtype(dtype))
        if device is not None:
            out = _ops.to_device(out, backend.Device(device))
        if copy and out is self:
            out = _ops.clone(self)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Tensor:
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def type(self, dtype: Any = None) -> Tensor | str:
        if dtype is None:
            return str(self.dtype)
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    # --------------------------------------------------------- autograd API
    def backward(self, gradient: Tensor | None = None,
                 retain_graph: bool | None = None, create_graph: bool = False,
                 inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into the ``grad`` of every leaf that
        requires grad (or only of ``inputs``).

        ``gradient`` is the vector in the vector-Jacobian product and may be
        left out only for a single-element tensor. The graph is freed after
        the call unless ``retain_graph`` (which defaults to ``create_graph``).
        """
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self) -> None:
        """Keep the gradient of a non-leaf tensor in its ``grad`` after
        backward (leaves keep theirs anyway)."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on a Tensor that has "
                               "requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            self.grad_fn.retain(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a
        returned tensor replaces the gradient. Returns a function that removes
        the hook."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that "
                               "doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.add_hook(self._nr, hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        hooks = self._hooks
        return lambda: hooks.remove(hook) if hook in hooks else None

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call ``hook(self)`` after each backward has accumulated into this
        leaf's ``grad`` (what DistributedDataParallel starts its gradient
        averaging from). Returns a handle with ``remove()``."""
        return _engine.register_post_accumulate_grad_hook(self, hook)

    # ------------------------------------------------------ in-place updates
    def _check_inplace(self, what: str) -> None:
        if _state.enabled and self._rg:
            kind = "a leaf Variable that requires grad" if self.grad_fn is None \
                else "a tensor that is part of a recorded graph"
            raise RuntimeError(
                f"{what}: {kind} is being used in an in-place operation; "
                "wrap it in `with gradlab.no_grad():` or use out-of-place ops"
            )
        self._version += 1

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("__setitem__")
        value = value.array if isinstance(value, Tensor) else value
        self.array[_ops.as_index(index, backend.array_module(self.array))] = value

    def _inplace(self, what: str, result: Any) -> Tensor:
        self._check_inplace(what)
        xp = backend.array_module(self.array)
        xp.copyto(self.array, result, casting="unsafe")
        return self

    def zero_(self) -> Tensor:
        return self._inplace("zero_", 0)

    def fill_(self, value: Any) -> Tensor:
        return self._inplace("fill_", _raw(value))

    def copy_(self, src: Any) -> Tensor:
        src = _raw(src)
        if backend.array_module(src) is not backend.array_module(self.array):
            src = backend.to_device(src, self.device)
        return self._inplace("copy_", src)

    def _ufunc_(self, what: str, ufunc: str, other: Any) -> Tensor:
        """``self = ufunc(self, other)`` written into self's own array."""
        self._check_inplace(what)
        other = _raw(other)
        xp = backend.array_module(self.array)
        if self.array.dtype.kind != "f" and getattr(other, "dtype", np.dtype(type(other))).kind == "f":
            raise RuntimeError(
                f"{what}: result type float can't be cast to the desired output type {self.dtype}"
            )
        try:
            getattr(xp, ufunc)(self.array, other, out=self.array, casting="unsafe")
        except ValueError as err:
            raise RuntimeError(
                f"{what}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                f"shape of the operand {tuple(getattr(other, 'shape', ()))}"
            ) from err
        return self

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        return self._ufunc_("add_", "add", other if alpha == 1 else alpha * _raw(other))

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        return self._ufunc_("sub_", "subtract", other if alpha == 1 else alpha * _raw(other))

    def mul_(self, other: Any) -> Tensor:
        return self._ufunc_("mul_", "multiply", other)

    def div_(self, other: Any) -> Tensor:
        return self._ufunc_("div_", "true_divide", other)

    # ``p -= lr * p.grad`` under no_grad updates p in place, as in PyTorch
    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        xp = backend.array_module(self.array)
        return self._inplace("clamp_", xp.clip(self.array, _raw(min), _raw(max)))

    def uniform_(self, a: float = 0.0, b: float = 1.0,
                 generator: backend.Generator | None = None) -> Tensor:
        gen = backend.resolve_generator(generator)
        return self._inplace("uniform_", _to_like(gen.uniform(self.shape, a, b), self))

    def normal_(self, mean: float = 0.0, std: float = 1.0,
                generator: backend.Generator | None = None) -> Tensor:
        gen = backend.resolve_generator(generator)
        return self._inplace("normal_", _to_like(gen.normal(self.shape, mean, std), self))

    def new_tensor(self, data: Any, dtype: Any = None) -> Tensor:
        array = np.asarray(_raw(data), dtype=dtype or self.dtype)
        return Tensor._make(backend.to_device(array, self.device))

    def new_zeros(self, *size: Any, dtype: Any = None) -> Tensor:
        return self._new("zeros", size, dtype)

    def new_ones(self, *size: Any, dtype: Any = None) -> Tensor:
        return self._new("ones", size, dtype)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None) -> Tensor:
        xp = backend.array_module(self.array)
        return Tensor._make(xp.full(_shape_arg((size,)), fill_value,
                                    dtype=dtype or self.dtype))

    def _new(self, kind: str, size: tuple, dtype: Any) -> Tensor:
        xp = backend.array_module(self.array)
        return Tensor._make(getattr(xp, kind)(_shape_arg(size), dtype=dtype or self.dtype))


def _raw(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


def _to_like(array: np.ndarray, like: Tensor) -> Any:
    array = array.astype(like.dtype, copy=False)
    return backend.to_device(array, like.device)


def _shape_arg(size: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` as PyTorch does."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"size must be non-negative integers, got {size!r}")
    return tuple(int(s) for s in size)


def _wrap_dim(dim: int, ndim: int) -> int:
    """A possibly negative dimension as an index in ``range(ndim)``."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {dim!r}")
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise IndexError(
            f"dimension out of range (expected to be in range of "
            f"[{-bound}, {bound - 1}], but got {dim})"
        )
    return int(dim) % bound


# The engine and the ops import Tensor from this module, so they come after it.
from gradlab import ops as _ops  # noqa: E402
from gradlab.autograd import engine as _engine  # noqa: E402
from gradlab.autograd.grad_mode import _state  # noqa: E402

_ops.attach_methods(Tensor)

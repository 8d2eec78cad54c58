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


class Size(tuple):
    """A tensor's shape: a tuple of ints, as ``torch.Size`` (``x.shape``,
    ``x.size()``), with :meth:`numel`. Slicing it or adding a tuple to it
    gives a Size."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key: Any) -> Any:
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __repr__(self) -> str:
        return f"gradlab.Size({list(self)})"


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

    # _vc: the version counter, a one-element list shared by a tensor and its
    # views (see gradlab.autograd.views); _view: None, or [base, replay, version]
    # for a view of ``base``
    __slots__ = ("array", "grad", "grad_fn", "_rg", "_nr", "_vc", "_view", "_hooks",
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
        self._vc = [0]
        self._view = None
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
        t._vc = [0]
        t._view = None
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
    def shape(self) -> Size:
        return Size(self.array.shape)

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

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return Size(self.array.shape)
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

    def nelement(self) -> int:
        """The number of elements (as :meth:`numel`)."""
        return int(self.array.size)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Steps in elements between neighbours along each dimension (0 along
        a broadcast one), as PyTorch's."""
        steps = tuple(s // self.array.itemsize for s in self.array.strides)
        return steps if dim is None else steps[_wrap_dim(dim, self.array.ndim)]

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``); others
        only with an empty format, as their ``str``, as PyTorch's."""
        if self.array.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor cast to ``other``'s dtype (and moved to its device)."""
        return self.to(other.dtype).to(other.device)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """A tensor of ``size`` with this one's dtype and device unless given
        (filled with zeros: gradlab hands out no uninitialised memory)."""
        return self._new("zeros", size, dtype, device, requires_grad)

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
        """A tensor sharing this one's data (and, as in PyTorch, its version
        counter), cut from the graph."""
        t = Tensor._make(self.array)
        t._vc = self._vc
        return t

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
        """The dtype's name, or this tensor cast to ``dtype`` (a dtype, a
        legacy type such as ``gradlab.FloatTensor``, or its name)."""
        if dtype is None:
            return str(self.dtype)
        from gradlab.creation import LEGACY_TYPES, _LegacyTensorType

        if isinstance(dtype, str) and dtype.rpartition(".")[2] in LEGACY_TYPES:
            dtype = LEGACY_TYPES[dtype.rpartition(".")[2]]
        if isinstance(dtype, _LegacyTensorType):
            dtype = dtype.dtype
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
    # An in-place op writes into this tensor's memory and adds one to its
    # version (shared with its views). With grad mode on, when this tensor
    # is in the graph or the value written requires grad, the write is also
    # recorded: the tensor's history moves onto the new value, as in PyTorch
    # (gradlab.ops.inplace, gradlab.autograd.views). Otherwise (no_grad, or
    # plain tensors) only the values are written.
    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen."""
        return self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._vc[0] = value

    def _recorded(self, *values: Any) -> bool:
        """Whether an in-place op writing ``values`` into self is recorded."""
        if not _state.enabled:
            return False
        if self._view is not None:
            _views.current(self)
        if self._rg:
            return True
        return any(isinstance(v, Tensor) and v._rg for v in values)

    def _check_inplace(self, what: str) -> None:
        """Count an unrecorded write (see ``_recorded``)."""
        self._vc[0] += 1

    def __setitem__(self, index: Any, value: Any) -> None:
        if self._recorded(value):
            items = index if isinstance(index, tuple) else (index,)
            basic = all(isinstance(i, _BASIC_INDEX) and not isinstance(i, bool) for i in items)
            _inplace_ops.setitem(self, index, value, basic)
            return
        array = value.array if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and backend.array_module(array) is not backend.array_module(self.array):
            array = backend.to_device(array, self.device)
        index = _ops.as_index(index, backend.array_module(self.array))
        try:
            self.array[index] = array
        except ValueError as err:
            if not getattr(self.array.flags, "writeable", True):
                raise _views.write_error(self, array, "__setitem__") from err
            raise
        self._check_inplace("__setitem__")

    def _inplace(self, what: str, result: Any) -> Tensor:
        """Write the raw ``result`` (broadcast) into self: a value that does not
        depend on self's old one (fill_, uniform_, ...)."""
        if self._recorded():
            return _inplace_ops.copy_(self, Tensor._make(result) if hasattr(result, "shape")
                                      else result, what)
        _views.write(self, result, what)
        return self

    def zero_(self) -> Tensor:
        return self._inplace("zero_", 0)

    def fill_(self, value: Any) -> Tensor:
        if isinstance(value, Tensor) and self._recorded(value):
            return _inplace_ops.copy_(self, value, "fill_")
        return self._inplace("fill_", _raw(value))

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        """Copy the values of ``src`` (broadcast to self's shape, cast to its
        dtype, moved to its device) into self. Recorded when ``src`` requires
        grad or self is in the graph: the gradient of self then flows to
        ``src``."""
        if self._recorded(src):
            return _inplace_ops.copy_(self, src, "copy_")
        src = _raw(src)
        if backend.array_module(src) is not backend.array_module(self.array):
            src = backend.to_device(src, self.device)
        _views.write(self, src, "copy_")
        return self

    def _ufunc_(self, what: str, ufunc: str, other: Any) -> Tensor:
        """``self = ufunc(self, other)`` written into self's own array."""
        other = _raw(other)
        xp = backend.array_module(self.array)
        if self.array.dtype.kind != "f":  # PyTorch's casting rule and error
            result = getattr(other, "dtype", None)
            if result is None:
                result = dtypes.scalar_dtype(other, self.array.dtype)
            _inplace_ops.check_cast(what, result, self.array.dtype)
        try:
            getattr(xp, ufunc)(self.array, other, out=self.array, casting="unsafe")
        except ValueError as err:
            raise _views.write_error(self, other, what) from err
        self._check_inplace(what)
        return self

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        if self._recorded(other):
            return _inplace_ops.add_(self, other, alpha, "add_")
        return self._ufunc_("add_", "add", other if alpha == 1 else alpha * _raw(other))

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        if self._recorded(other):
            return _inplace_ops.sub_(self, other, alpha, "sub_")
        return self._ufunc_("sub_", "subtract", other if alpha == 1 else alpha * _raw(other))

    def mul_(self, other: Any) -> Tensor:
        if self._recorded(other):
            return _inplace_ops.mul_(self, other, "mul_")
        return self._ufunc_("mul_", "multiply", other)

    def div_(self, other: Any) -> Tensor:
        if self._recorded(other):
            return _inplace_ops.div_(self, other, "div_")
        return self._ufunc_("div_", "true_divide", other)

    # ``p -= lr * p.grad`` under no_grad updates p in place, as in PyTorch;
    # ``loss += term`` in grad mode is recorded
    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        if self._recorded(min, max):
            return _inplace_ops.clamp_(self, min, max)
        xp = backend.array_module(self.array)
        return self._inplace("clamp_", xp.clip(self.array, _raw(min), _raw(max)))

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """Write ``value`` where the boolean ``mask`` (broadcast) holds."""
        if self._recorded(value):
            return _inplace_ops.masked_fill_(self, mask, value)
        m = _raw(mask)
        if getattr(m, "dtype", None) is None or m.dtype.kind != "b":
            raise RuntimeError("masked_fill_ only supports boolean masks, but got mask "
                               f"with dtype {getattr(m, 'dtype', type(m).__name__)}")
        xp = backend.array_module(self.array)
        return self._inplace("masked_fill_", xp.where(m, _raw(value), self.array))

    def index_put_(self, indices: tuple, values: Any, accumulate: bool = False) -> Tensor:
        """``self[indices] = values`` (``+=`` with ``accumulate``, summing at
        repeated positions), ``indices`` a tuple of index tensors."""
        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"index_put_: indices must be a tuple of Tensors, got "
                            f"{type(indices).__name__}")
        index = _ops.as_index(tuple(indices), backend.array_module(self.array))
        if self._recorded(values):
            return _inplace_ops.index_put(self, index, values, accumulate, "index_put_")
        v = _raw(values)
        if accumulate:
            backend.add_at(self.array, index, v)
        else:
            self.array[index] = v
        self._check_inplace("index_put_")
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0,
                 generator: backend.Generator | None = None) -> Tensor:
        gen = backend.resolve_generator(generator)
        return self._inplace("uniform_", _to_like(gen.uniform(self.shape, a, b), self))

    def normal_(self, mean: float = 0.0, std: float = 1.0,
                generator: backend.Generator | None = None) -> Tensor:
        gen = backend.resolve_generator(generator)
        return self._inplace("normal_", _to_like(gen.normal(self.shape, mean, std), self))

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` with this tensor's dtype and device unless given."""
        data = backend.to_device(data.array, backend.CPU) if isinstance(data, Tensor) else data
        array = np.array(data, dtype=dtypes.as_dtype(dtype) if dtype is not None else self.dtype)
        return self._finish_new(array, device, requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return self._new("zeros", size, dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return self._new("ones", size, dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return self._new("full", (size,), dtype, device, requires_grad, fill_value)

    def _new(self, kind: str, size: tuple, dtype: Any, device: Any = None,
             requires_grad: bool = False, fill_value: Any = None) -> Tensor:
        dtype = dtypes.as_dtype(dtype) if dtype is not None else self.dtype
        shape = _shape_arg(size)
        xp = backend.array_module(self.array)  # made where this tensor is, then moved if asked
        array = xp.full(shape, fill_value, dtype=dtype) if kind == "full" else \
            getattr(xp, kind)(shape, dtype=dtype)
        return self._finish_new(array, device, requires_grad)

    def _finish_new(self, array: Any, device: Any, requires_grad: bool) -> Tensor:
        """An array made by a ``new_*`` method, on ``device`` (this tensor's
        unless given)."""
        target = backend.Device(device) if device is not None else self.device
        out = Tensor._make(backend.to_device(array, target))
        return out.requires_grad_(True) if requires_grad else out


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
from gradlab.autograd import views as _views  # noqa: E402
from gradlab.autograd.grad_mode import _state  # noqa: E402
from gradlab.ops import inplace as _inplace_ops  # noqa: E402

_BASIC_INDEX = (int, np.integer, slice, type(None), type(Ellipsis))

_ops.attach_methods(Tensor)
_ops.attach_surface_methods(Tensor)

"""Sampling with tensors as parameters: ``normal``, ``bernoulli``,
``multinomial``. Every one takes an optional :class:`gradlab.Generator`;
numbers are drawn on the host and moved to the parameters' device.

A sample of a distribution with parameters that require grad records the
graph, with gradient zero for the parameters, as PyTorch's ``normal`` and
``bernoulli`` do (use ``mean + std * randn_like(mean)`` for the
reparameterised sample that has a gradient).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend, dtypes
from gradlab.autograd.node import Op
from gradlab.tensor import Tensor, _shape_arg


class Sampled(Op):
    """A sample ``value`` drawn with the inputs as parameters: gradient 0."""

    reads_inputs = False

    def forward(self, *params):
        return self.value

    def backward(self, g):
        zero = g * 0.0
        return zero if len(self.inputs) == 1 else (zero,) * len(self.inputs)


def _sample(value: Any, params: list[Tensor]) -> Tensor:
    return Sampled.apply(*params, value=value)


def _host(t: Tensor) -> np.ndarray:
    return backend.to_device(t.array, backend.CPU)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: backend.Generator | None = None, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2). ``mean`` and ``std`` may be tensors (they
    broadcast; the result has their shape) or numbers (then ``size`` gives
    the shape), as the overloads of ``torch.normal``."""
    gen = backend.resolve_generator(generator)
    params = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not params:
        if size is None:
            raise TypeError("normal(): with a number as mean and as std, size must be given")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        array = gen.normal(_shape_arg((size,)), float(mean), float(std), dtype=dt)
        out = Tensor._make(array if device is None else backend.to_device(array, backend.Device(device)))
        return out.requires_grad_(True) if requires_grad else out
    if size is not None:
        raise TypeError("normal(): size is only taken with a number as mean and as std")
    like = params[0]
    if like.array.dtype.kind != "f" or any(t.array.dtype.kind != "f" for t in params):
        raise RuntimeError("normal expects floating point mean and std tensors")
    m = _host(mean) if isinstance(mean, Tensor) else np.asarray(float(mean))
    s = _host(std) if isinstance(std, Tensor) else np.asarray(float(std))
    if s.size and float(s.min()) < 0:
        raise RuntimeError(f"normal expects all elements of std >= 0.0, found {float(s.min())}")
    shape = np.broadcast_shapes(m.shape, s.shape)
    array = (m + s * gen.normal(shape)).astype(like.dtype, copy=False)
    return _sample(backend.to_device(array, like.device), params)


def bernoulli(input: Tensor, p: float | None = None, *,  # noqa: A002
              generator: backend.Generator | None = None) -> Tensor:
    """0/1 samples, 1 with probability ``input`` (elementwise), or with
    probability ``p`` in ``input``'s shape when ``p`` is given. The result
    has ``input``'s dtype."""
    gen = backend.resolve_generator(generator)
    if p is None:
        if input.array.dtype.kind != "f":
            raise RuntimeError(f"bernoulli: probabilities must be floating point, got {input.dtype}")
        prob = _host(input)
        if prob.size and not (float(prob.min()) >= 0 and float(prob.max()) <= 1):
            raise RuntimeError("bernoulli: expected all probabilities in [0, 1], got values from "
                               f"{float(prob.min())} to {float(prob.max())}")
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli: expected 0 <= p <= 1, got p={p}")
        prob = np.full(input.shape, float(p))
    array = (gen.uniform(prob.shape) < prob).astype(input.dtype)
    array = backend.to_device(array, input.device)
    return _sample(array, [input]) if p is None else Tensor._make(array)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: backend.Generator | None = None) -> Tensor:
    """Indices of categories drawn with probability proportional to the
    non-negative weights ``input`` (a vector, or one row per distribution),
    as int64 of shape (num_samples,) or (rows, num_samples).

    With replacement each draw inverts the cumulative distribution at a
    uniform number. Without, the categories with the ``num_samples``
    smallest keys E_i / w_i (E_i ~ Exp(1)) are taken in that order, which is
    drawing one at a time, each proportional to the weights left
    (Efraimidis & Spirakis, "Weighted random sampling with a reservoir",
    2006, in its exponential-clock form). When the categories of non-zero
    weight run out, the zero-weight ones follow (in index order here; PyTorch
    leaves their order unspecified).
    """
    if not isinstance(input, Tensor) or input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got "
                           f"{getattr(input, 'ndim', type(input).__name__)}")
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got {input.dtype}")
    if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool) or num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples!r} "
                           "(expected a positive int)")
    w = _host(input).astype(np.float64).reshape(-1, input.shape[-1])
    n = w.shape[1]
    if n == 0:
        raise RuntimeError("multinomial: number of categories cannot be zero")
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    total = w.sum(axis=1)
    if (total <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement:
        if num_samples > n:
            raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > "
                               f"prob_dist.size(-1) ({n}) samples without replacement")
    rng = backend.resolve_generator(generator).numpy
    if replacement:
        cdf = np.cumsum(w, axis=1)
        cdf /= cdf[:, -1:]  # the last entry is exactly 1, so every u in [0, 1) lands
        u = rng.random((w.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, row, side="right") for c, row in zip(cdf, u)])
    else:
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(w.shape) / w  # weight 0: key inf, never taken
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64).reshape(input.shape[:-1] + (num_samples,))
    return Tensor._make(backend.to_device(out, input.device))




# ------------------------------------------------------ in-place fills
# Tensor methods: each fills the tensor with samples of a distribution, drawn
# on the host in float64 and cast to the tensor's dtype (zero gradient when
# the write is recorded, as PyTorch's).
def _fill(t: Tensor, what: str, array: np.ndarray) -> Tensor:
    array = backend.to_device(array.astype(t.dtype, copy=False), t.device)
    if t._recorded():  # a tensor in the graph: its history gets a zero gradient
        from gradlab.ops.inplace import NoGradient, record

        return record(t, what, lambda: NoGradient.apply(t, value=array))
    return t._inplace(what, array)


def _floating_only(t: Tensor, what: str) -> None:
    if t.array.dtype.kind != "f":
        raise RuntimeError(f"{what}: not implemented for dtype {t.dtype} (expected a floating "
                           "point tensor)")


def exponential_(t: Tensor, lambd: float = 1.0, *,
                 generator: backend.Generator | None = None) -> Tensor:
    """Fill with samples of the exponential distribution of rate ``lambd``:
    density lambd e^(-lambd x), mean 1 / lambd."""
    _floating_only(t, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    rng = backend.resolve_generator(generator).numpy
    return _fill(t, "exponential_", rng.exponential(1.0 / lambd, size=t.shape))


def log_normal_(t: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: backend.Generator | None = None) -> Tensor:
    """Fill with e^N(mean, std^2) samples."""
    _floating_only(t, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    rng = backend.resolve_generator(generator).numpy
    return _fill(t, "log_normal_", rng.lognormal(mean, std, size=t.shape))


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: backend.Generator | None = None) -> Tensor:
    """Fill with Cauchy samples: density 1 / (pi sigma (1 + ((x - median) / sigma)^2))."""
    _floating_only(t, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    rng = backend.resolve_generator(generator).numpy
    return _fill(t, "cauchy_", median + sigma * rng.standard_cauchy(size=t.shape))


def geometric_(t: Tensor, p: float, *, generator: backend.Generator | None = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success
    (1, 2, ...: P(k) = (1 - p)^(k - 1) p)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    rng = backend.resolve_generator(generator).numpy
    return _fill(t, "geometric_", rng.geometric(p, size=t.shape))


def random_(t: Tensor, from_: int = 0, to: int | None = None, *,
            generator: backend.Generator | None = None) -> Tensor:
    """Fill with integers drawn uniformly from [from_, to - 1]; ``random_(n)``
    is [0, n - 1]; without arguments [0, 2^mantissa] for floats (every
    integer the dtype holds exactly) and [0, max] for integers."""
    for name, v in (("from", from_), ("to", to)):
        if v is not None and (not isinstance(v, (int, np.integer)) or isinstance(v, bool)):
            raise TypeError(f"random_: {name} must be an int, got {v!r}")
    dtype = t.array.dtype
    if to is None:
        if from_ != 0:  # random_(n): one bound, the exclusive upper one
            from_, to = 0, from_
        elif dtype.kind == "f":
            to = 2 ** (np.finfo(dtype).nmant + 1) + 1
        elif dtype.kind == "b":
            to = 2
        else:
            to = int(np.iinfo(dtype).max) + 1
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} "
                           f">= to={to}")
    rng = backend.resolve_generator(generator).numpy
    return _fill(t, "random_", rng.integers(from_, to, size=t.shape, dtype=np.int64))

"""Elementwise operations, with NumPy broadcasting.

Each primitive gives the derivative of its output with respect to each input,
multiplied by the incoming gradient ``g``; where the forward op broadcast an
input, the engine sums the gradient back to the input's shape. Rules are
written with Tensor operations so that they can be differentiated again.
Where PyTorch picks a value at a point of non-differentiability (relu and abs
at 0, maximum at ties, clamp at its bounds), gradlab picks the same.
"""

from __future__ import annotations

import math
from typing import Any

from gradlab import backend
from gradlab.autograd.grad_mode import _state
from gradlab.autograd.node import Op
from gradlab.kernels.activation import activation_backward, activation_forward
from gradlab.ops._util import constant, floating, operands
from gradlab.tensor import Tensor


def _broadcast_error(op: str, a: Tensor, b: Tensor) -> RuntimeError:
    return RuntimeError(
        f"{op}: the shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
        "broadcast together (sizes must match or be 1 in each trailing dimension)"
    )


class _Binary(Op):
    @classmethod
    def call(cls, a: Any, b: Any, name: str) -> Tensor:
        a, b = operands(a, b, name)
        try:
            return cls.apply(a, b)
        except ValueError as err:
            if "broadcast" in str(err):
                raise _broadcast_error(name, a, b) from None
            raise


class Add(_Binary):
    reads_inputs = False

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(_Binary):
    reads_inputs = False

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, -g


class Mul(_Binary):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.inputs
        return (g * b if a._rg else None), (g * a if b._rg else None)


class Div(_Binary):
    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs
        ga = g / b if a._rg else None
        gb = -g * a / (b * b) if b._rg else None
        return ga, gb


class Pow(_Binary):
    """a ** b for tensors: d/da = b a^(b-1), d/db = a^b log a (taken as 0
    where a = 0 and b >= 0, as PyTorch does, so 0 ** b has a finite
    gradient)."""

    def forward(self, a, b):
        self.out = a ** b
        return self.out

    def backward(self, g):
        a, b = self.inputs
        ga = gb = None
        if a._rg:
            ga = where(b == 0, 0.0, g * b * a ** (b - 1))
        if b._rg:
            gb = where((a == 0) & (b >= 0), 0.0, g * self.output() * log(a))
        return ga, gb


class PowScalar(Op):
    """x ** p for a Python number p: d/dx = p x^(p-1)."""

    def forward(self, x):
        return x ** self.p

    def backward(self, g):
        (x,) = self.inputs
        p = self.p
        if p == 0:
            return g * 0.0
        if p == 1:
            return g
        if p == 2:
            return g * (2.0 * x)
        return g * (p * x ** (p - 1))


class RPowScalar(Op):
    """c ** x for a Python number c: d/dx = c^x log c."""

    reads_inputs = False

    def forward(self, x):
        self.out = self.c ** x
        if self.c == 0:
            self.below = x < 0
        return self.out

    def backward(self, g):
        if self.c > 0:
            return g * self.output() * math.log(self.c)
        if self.c < 0:  # no real derivative: nan, as PyTorch
            return g * math.nan
        # 0 ** x: PyTorch takes 0 for x >= 0 and (inf * log 0 =) -inf below
        xp = backend.array_module(self.below)
        return g * Tensor._make(xp.where(self.below, -xp.inf, 0.0).astype(g.array.dtype, copy=False))


class Maximum(_Binary):
    reads_inputs = False

    def forward(self, a, b):
        xp = backend.array_module(a)
        # where a == b the gradient is split in two, and where either is nan
        # (no order) both inputs get all of it, as in PyTorch
        tie = 0.5 * (a == b)
        self.share, self.other = 1.0 - (a < b) - tie, 1.0 - (a > b) - tie
        return xp.maximum(a, b)

    def backward(self, g):
        return _split(g, self.share, self.other, self.inputs)


class Minimum(_Binary):
    reads_inputs = False

    def forward(self, a, b):
        xp = backend.array_module(a)
        tie = 0.5 * (a == b)
        self.share, self.other = 1.0 - (a > b) - tie, 1.0 - (a < b) - tie
        return xp.minimum(a, b)

    def backward(self, g):
        return _split(g, self.share, self.other, self.inputs)


def _split(g: Tensor, share: Any, other: Any, inputs: tuple) -> tuple:
    a, b = inputs
    dtype = g.array.dtype
    return (MulConst.apply(g, c=share.astype(dtype, copy=False)) if a._rg else None), \
        (MulConst.apply(g, c=other.astype(dtype, copy=False)) if b._rg else None)


class MulConst(Op):
    """x * c for a constant array c (a mask or weights) that is not
    differentiated: its own backward. Relu, clamp and the tie-splitting of
    maximum use it; multiplying by a bool mask is several times faster than
    ``where`` with a scattered condition."""

    reads_inputs = False

    def forward(self, x):
        return x * self.c

    def backward(self, g):
        return MulConst.apply(g, c=self.c)


class Where(Op):
    """cond ? a : b; ``cond`` is not differentiable."""

    reads_inputs = False

    def forward(self, a, b):
        return backend.array_module(a).where(self.cond, a, b)

    def backward(self, g):
        a, b = self.inputs
        zero = constant(0, g)
        ga = Where.apply(g, zero, cond=self.cond) if a._rg else None
        gb = Where.apply(zero, g, cond=self.cond) if b._rg else None
        return ga, gb


# ---------------------------------------------------------------- unary ops
class Neg(Op):
    reads_inputs = False

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class Exp(Op):
    reads_inputs = False

    def forward(self, x):
        self.out = backend.array_module(x).exp(x)
        return self.out

    def backward(self, g):
        return g * self.output()


class Log(Op):
    def forward(self, x):
        return backend.array_module(x).log(x)

    def backward(self, g):
        return g / self.inputs[0]


class Log1p(Op):
    def forward(self, x):
        return backend.array_module(x).log1p(x)

    def backward(self, g):
        return g / (self.inputs[0] + 1.0)


class Expm1(Op):
    reads_inputs = False

    def forward(self, x):
        self.out = backend.array_module(x).expm1(x)
        return self.out

    def backward(self, g):
        return g * (self.output() + 1.0)


class Sqrt(Op):
    reads_inputs = False

    def forward(self, x):
        self.out = backend.array_module(x).sqrt(x)
        return self.out

    def backward(self, g):
        return g / (2.0 * self.output())


class Abs(Op):
    def forward(self, x):
        return backend.array_module(x).abs(x)

    def backward(self, g):
        return g * sign(self.inputs[0])


class Sign(Op):
    reads_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        if x.dtype.kind == "b":
            return x.copy()  # NumPy has no sign of bools; PyTorch's is the identity
        out = xp.sign(x)
        if out.dtype.kind == "f":
            # PyTorch's sign is (x > 0) - (x < 0): 0 at nan, so abs has gradient 0 there
            out = xp.where(xp.isnan(out), 0, out).astype(out.dtype, copy=False)
        return out

    def backward(self, g):
        return g * 0.0


class Sin(Op):
    def forward(self, x):
        return backend.array_module(x).sin(x)

    def backward(self, g):
        return g * cos(self.inputs[0])


class Cos(Op):
    def forward(self, x):
        return backend.array_module(x).cos(x)

    def backward(self, g):
        return -g * sin(self.inputs[0])


class Tanh(Op):
    reads_inputs = False

    def forward(self, x):
        self.out = backend.array_module(x).tanh(x)
        return self.out

    def backward(self, g):
        if _state.enabled:  # recorded: a formula that can be differentiated again
            y = self.output()
            return g * (1.0 - y * y)
        return Tensor._make(activation_backward("tanh", g.array, self.out))


class Sigmoid(Op):
    """1 / (1 + e^-x), by SciPy's expit: accurate in both tails (no overflow
    for large -x, no rounding to 1 - 1 for small values). The forward stays
    in SciPy/NumPy (vectorized exp; the kernel's scalar exp is slower), the
    backward g y (1 - y) is one kernel pass."""

    reads_inputs = False

    def forward(self, x):
        self.out = backend.expit(x)
        return self.out

    def backward(self, g):
        if _state.enabled:
            y = self.output()
            return g * y * (1.0 - y)
        return Tensor._make(activation_backward("sigmoid", g.array, self.out))


class Relu(Op):
    """max(x, 0) with gradient 0 at x = 0 (PyTorch's choice), by the kernels
    of :mod:`gradlab.kernels.activation`. The backward reads the output (as
    PyTorch's does): changing it in place before backward is an error."""

    reads_inputs = False

    def forward(self, x):
        self.out = activation_forward("relu", x)
        return self.out

    def backward(self, g):
        if _state.enabled:
            return MulConst.apply(g, c=self.out > 0)
        return Tensor._make(activation_backward("relu", g.array, self.out))


class Erf(Op):
    def forward(self, x):
        return backend.erf(x)

    def backward(self, g):
        x = self.inputs[0]
        return g * (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


class Clamp(Op):
    """Clamp to [lo, hi]; the gradient passes where lo <= x <= hi."""

    reads_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        self.mask = xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            self.mask &= x >= self.lo
        if self.hi is not None:
            self.mask &= x <= self.hi
        return xp.clip(x, self.lo, self.hi)

    def backward(self, g):
        return MulConst.apply(g, c=self.mask)


class ZeroGrad(Op):
    """Piecewise-constant functions (floor, ceil, round, trunc): zero
    gradient everywhere, as PyTorch defines it."""

    reads_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        if getattr(self, "decimals", 0):
            return xp.round(x, self.decimals)
        return getattr(xp, self.fn)(x)

    def backward(self, g):
        return g * 0.0


class Cast(Op):
    reads_inputs = False

    def forward(self, x):
        self.src = x.dtype
        return x.astype(self.dtype)

    def backward(self, g):
        return g.to(self.src)


class ToDevice(Op):
    reads_inputs = False

    def forward(self, x):
        self.src = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, g):
        return g.to(self.src)


class Clone(Op):
    reads_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


# ------------------------------------------------------------ functions
def add(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a + alpha * b."""
    return Add.call(a, b if alpha == 1 else b * alpha, "add")


def sub(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a - alpha * b."""
    for v in (a, b):
        if v is True or v is False or (isinstance(v, Tensor) and v.array.dtype.kind == "b"):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported; "
                               "use the `~` operator or logical_not() to invert a mask")
    return Sub.call(a, b if alpha == 1 else b * alpha, "sub")


def mul(a: Any, b: Any) -> Tensor:
    return Mul.call(a, b, "mul")


def div(a: Any, b: Any, *, rounding_mode: str | None = None) -> Tensor:
    """a / b; integer operands give a float result, as in PyTorch. With
    ``rounding_mode`` "floor" or "trunc" the quotient is rounded (no gradient)."""
    if rounding_mode is None:
        # a Python int divides as a float: it must not take an integer
        # tensor's dtype first (uint8 tensor / -3 is negative, as in PyTorch)
        a, b = (float(v) if type(v) is int else v for v in (a, b))
    a, b = operands(a, b, "div")
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        xp = backend.array_module(a.array)
        if a.array.dtype.kind in "iub":
            q = a.array // b.array if rounding_mode == "floor" else xp.trunc(a.array / b.array)
            return Tensor._make(q.astype(a.array.dtype))
        return ZeroGrad.apply(div(a, b), fn=rounding_mode)
    return Div.call(floating(a), floating(b), "div")


def neg(x: Tensor) -> Tensor:
    if x.array.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported; "
                           "use the `~` operator or logical_not() to invert a mask")
    return Neg.apply(x)


def pow(x: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """x ** exponent, for a tensor or number on either side."""
    if isinstance(x, Tensor) and isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if x.array.dtype.kind != "f" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError(
                f"Integers to negative integer powers are not allowed: a {x.dtype} tensor "
                f"to the power {exponent}; convert the tensor to float first"
            )
        if x.array.dtype.kind != "f" and isinstance(exponent, float):
            x = floating(x)
        return PowScalar.apply(x, p=exponent)
    if not isinstance(x, Tensor) and isinstance(x, (int, float)) and isinstance(exponent, Tensor):
        exponent = exponent if isinstance(x, int) else floating(exponent)
        return RPowScalar.apply(exponent, c=x)
    return Pow.call(x, exponent, "pow")


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum.call(a, b, "maximum")


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.call(a, b, "minimum")


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elements of ``x`` where ``condition`` holds, else of ``y``."""
    cond = condition.array if isinstance(condition, Tensor) else condition
    if getattr(cond, "dtype", None) is not None and cond.dtype.kind != "b":
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype}"
        )
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = as_tensor(x, device=backend.device_of(backend.array_module(cond).asarray(cond)))
    x, y = operands(x, y, "where")
    try:
        return Where.apply(x, y, cond=backend.array_module(x.array).asarray(cond, dtype=bool))
    except ValueError as err:
        raise RuntimeError(
            f"where: condition of shape {getattr(cond, 'shape', ())} and values "
            f"of shapes {tuple(x.shape)}, {tuple(y.shape)} cannot be broadcast"
        ) from err


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clamp each element into [min, max]; either bound may be a tensor."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = where(lt(out, min), min, out)
        if max is not None:
            out = where(gt(out, max), max, out)
        return out
    if isinstance(min, float) or isinstance(max, float):
        x = floating(x)  # an integer tensor clamped to a float bound is float, as in PyTorch
    return Clamp.apply(x, lo=min, hi=max)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(floating(x))


def log(x: Tensor) -> Tensor:
    return Log.apply(floating(x))


def log1p(x: Tensor) -> Tensor:
    return Log1p.apply(floating(x))


def expm1(x: Tensor) -> Tensor:
    return Expm1.apply(floating(x))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(floating(x))


def rsqrt(x: Tensor) -> Tensor:
    return pow(floating(x), -0.5)


def square(x: Tensor) -> Tensor:
    return x * x


def reciprocal(x: Tensor) -> Tensor:
    return 1.0 / floating(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    return Sign.apply(x)


def sin(x: Tensor) -> Tensor:
    return Sin.apply(floating(x))


def cos(x: Tensor) -> Tensor:
    return Cos.apply(floating(x))


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(floating(x))


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(floating(x))


def relu(x: Tensor) -> Tensor:
    return Relu.apply(x)


def erf(x: Tensor) -> Tensor:
    return Erf.apply(floating(x))


def floor(x: Tensor) -> Tensor:
    return ZeroGrad.apply(x, fn="floor")


def ceil(x: Tensor) -> Tensor:
    return ZeroGrad.apply(x, fn="ceil")


def round(x: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even (to ``decimals`` decimal places), as PyTorch."""
    return ZeroGrad.apply(x, fn="round", decimals=decimals)


def trunc(x: Tensor) -> Tensor:
    return ZeroGrad.apply(x, fn="trunc")


def cast(x: Tensor, dtype: Any) -> Tensor:
    if x.array.dtype == dtype:
        return x
    if dtype.kind != "f" or x.array.dtype.kind != "f":
        return Tensor._make(x.array.astype(dtype))  # not differentiable
    return Cast.apply(x, dtype=dtype)


def to_device(x: Tensor, device: backend.Device) -> Tensor:
    if x.device == device:
        return x
    return ToDevice.apply(x, device=device)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


# needed by the functions above; these modules import this one
from gradlab.creation import as_tensor  # noqa: E402
from gradlab.ops.compare import gt, lt  # noqa: E402

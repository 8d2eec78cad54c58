"""gradlab's operations, by family. Each is a function here, a function in
the ``gradlab`` namespace and (where PyTorch has one) a Tensor method."""

from __future__ import annotations

from typing import Any

from gradlab.ops.compare import (
    all,
    allclose,
    any,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    eq,
    equal,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
)
from gradlab.ops.elementwise import (
    abs,
    add,
    cast,
    ceil,
    clamp,
    clone,
    cos,
    div,
    erf,
    exp,
    expm1,
    floor,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    reciprocal,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tanh,
    to_device,
    trunc,
    where,
)
from gradlab.ops.indexing import (
    as_index,
    gather,
    getitem,
    index_select,
    masked_fill,
    one_hot,
    scatter_add,
)
from gradlab.ops.linalg import bmm, dot, matmul, mm, outer
from gradlab.ops.movement import (
    broadcast_to,
    cat,
    chunk,
    contiguous,
    expand,
    expand_as,
    flatten,
    flip,
    pad,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    view,
)
from gradlab.ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    max,
    mean,
    min,
    std,
    sum,
    var,
)
from gradlab.ops.softmax import log_softmax, logsumexp, softmax

clip = clamp
true_divide = divide = div
multiply = mul
subtract = sub
concat = concatenate = cat
swapaxes = transpose
negative = neg

# Tensor methods that are exactly the function of the same name with the
# tensor as first argument.
_METHODS = [
    "abs", "add", "all", "amax", "amin", "any", "argmax", "argmin", "bitwise_not", "ceil",
    "chunk", "clamp", "clip", "clone", "contiguous", "cos", "div", "eq", "equal", "erf",
    "exp", "expand_as", "expm1", "flatten", "flip", "floor", "gather", "ge", "gt",
    "index_select", "isclose", "allclose", "isfinite", "isinf", "isnan", "le", "log",
    "log1p", "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor",
    "logsumexp", "lt", "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum",
    "mul", "ne", "neg", "permute", "pow", "reciprocal", "relu", "repeat", "reshape",
    "round", "rsqrt", "scatter_add", "sigmoid", "sign", "sin", "softmax", "split", "sqrt",
    "square", "squeeze", "std", "sub", "sum", "t", "tanh", "transpose", "trunc", "unbind",
    "unflatten", "unsqueeze", "var", "view", "expand", "mm", "bmm", "dot", "outer",
]


def _reflected(fn: Any) -> Any:
    return lambda self, other: fn(other, self)


def attach_methods(cls: type) -> None:
    """Bind the ops to ``Tensor`` as methods and Python operators."""
    ns = globals()
    for name in _METHODS:
        setattr(cls, name, ns[name])
    cls.multiply, cls.subtract, cls.true_divide, cls.divide = mul, sub, div, div
    cls.swapaxes, cls.negative = transpose, neg
    cls.view_as = lambda self, other: reshape(self, other.shape)
    cls.reshape_as = cls.view_as
    cls.__getitem__ = getitem
    cls.__add__, cls.__radd__ = add, _reflected(add)
    cls.__sub__, cls.__rsub__ = sub, _reflected(sub)
    cls.__mul__, cls.__rmul__ = mul, _reflected(mul)
    cls.__truediv__, cls.__rtruediv__ = div, _reflected(div)
    cls.__pow__, cls.__rpow__ = pow, _reflected(pow)
    cls.__matmul__, cls.__rmatmul__ = matmul, _reflected(matmul)
    cls.__neg__, cls.__abs__ = neg, abs
    cls.__pos__ = lambda self: self
    cls.__eq__, cls.__ne__ = eq, ne
    cls.__lt__, cls.__le__, cls.__gt__, cls.__ge__ = lt, le, gt, ge
    cls.__and__, cls.__rand__ = bitwise_and, _reflected(bitwise_and)
    cls.__or__, cls.__ror__ = bitwise_or, _reflected(bitwise_or)
    cls.__xor__, cls.__rxor__ = bitwise_xor, _reflected(bitwise_xor)
    cls.__invert__ = bitwise_not
    cls.__floordiv__ = lambda self, other: div(self, other, rounding_mode="floor")
    cls.__rfloordiv__ = lambda self, other: div(other, self, rounding_mode="floor")
    cls.T = property(lambda self: permute(self, *reversed(range(self.ndim))))
    cls.mT = property(lambda self: transpose(self, -2, -1))


# ---------------------------------------------------------------------------
# PyTorch's wider Tensor surface (issue 17): new op families, each in its file
# ---------------------------------------------------------------------------
from gradlab.ops.einsum import einsum  # noqa: E402
from gradlab.ops.linalg import addmm, baddbmm  # noqa: E402
from gradlab.ops.norms import cdist, norm, vector_norm  # noqa: E402
from gradlab.ops.pointwise import (  # noqa: E402
    addcdiv,
    addcmul,
    clamp_max,
    clamp_min,
    copysign,
    fmod,
    frac,
    hypot,
    lerp,
    logaddexp,
    logit,
    nan_to_num,
    remainder,
    rsub,
    xlogy,
)
from gradlab.ops.random import (  # noqa: E402
    bernoulli,
    cauchy_,
    exponential_,
    geometric_,
    log_normal_,
    multinomial,
    normal,
    random_,
)
from gradlab.ops.rearrange import (  # noqa: E402
    diag,
    diagonal,
    movedim,
    narrow,
    repeat_interleave,
    roll,
    tril,
    triu,
)
from gradlab.ops.scan import cumprod, cumsum, prod  # noqa: E402
from gradlab.ops.scatter import (  # noqa: E402
    fill_diagonal_,
    index_add,
    index_copy_,
    index_fill_,
    masked_scatter_,
    scatter,
)
from gradlab.ops.sorting import argsort, histc, histogram, sort, topk, unique  # noqa: E402
from gradlab.ops.special import log2, log10  # noqa: E402

moveaxis = movedim
swapdims = transpose
absolute = abs
fix = trunc
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne

_SURFACE_METHODS = [
    "addmm", "argsort", "baddbmm", "bernoulli", "cumprod", "cumsum", "diag", "diagonal",
    "histc", "histogram", "index_add", "log10", "log2", "movedim", "moveaxis", "multinomial",
    "narrow", "norm", "prod", "repeat_interleave", "roll", "scatter", "sort", "topk", "tril",
    "triu", "unique",
    "addcdiv", "addcmul", "clamp_max", "clamp_min", "copysign", "fmod", "frac", "hypot", "lerp",
    "logaddexp", "logit", "nan_to_num", "remainder", "rsub", "xlogy", "bitwise_and",
    "bitwise_or", "bitwise_xor", "swapdims", "absolute", "fix", "less", "less_equal",
    "greater", "greater_equal", "not_equal",
]

# Ops whose result has self's shape (elementwise ops, scans, triangles,
# scatters) and whose in-place form is generic: ``self.NAME_(...)`` writes
# ``NAME(self, ...)`` into self (gradlab.ops.inplace.elementwise_). add_, sub_,
# mul_, div_, clamp_ and masked_fill_ have hand-written fast paths in Tensor.
_ELEMENTWISE_INPLACE = [
    "abs", "absolute", "neg", "negative", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p",
    "log2", "log10", "sign", "reciprocal", "square", "relu", "sigmoid", "tanh", "floor",
    "ceil", "round", "trunc", "fix", "sin", "cos", "erf", "frac", "logit", "nan_to_num",
    "pow", "multiply", "divide", "true_divide", "subtract", "fmod", "remainder", "copysign",
    "hypot", "xlogy", "clamp_min", "clamp_max", "clip", "lerp", "addcmul", "addcdiv",
    "lt", "le", "gt", "ge", "eq", "ne", "less", "less_equal", "greater", "greater_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "addmm", "baddbmm", "cumprod", "cumsum",
    "tril", "triu", "scatter", "scatter_add", "index_add", "masked_fill",
]

def _elementwise_in_place(fn: Any, name: str) -> Any:
    from gradlab.ops.inplace import elementwise_

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return elementwise_(self, fn, name, args, kwargs)

    method.__name__ = name
    method.__doc__ = f"In-place :func:`{name[:-1]}`: writes the result into this tensor."
    return method


def _reshape_in_place(fn: Any, name: str) -> Any:
    from gradlab.ops.inplace import reshape_

    def method(self: Any, *args: Any) -> Any:
        return reshape_(self, fn, name, *args)

    method.__name__ = name
    method.__doc__ = f"In-place :func:`{fn.__name__}`: this tensor takes the new shape."
    return method


_RESHAPE_INPLACE = {"unsqueeze_": unsqueeze, "squeeze_": squeeze, "t_": t,
                    "transpose_": transpose, "swapaxes_": transpose, "swapdims_": transpose}


def _bernoulli_(self: Any, p: Any = 0.5, *, generator: Any = None) -> Any:
    """Fill with 0/1 samples, 1 with probability ``p`` (a number or a
    tensor of probabilities)."""
    if hasattr(p, "array"):
        return self.copy_(bernoulli(p.to(self.dtype).expand(self.shape), generator=generator))
    return self.copy_(bernoulli(self, p, generator=generator))


def attach_surface_methods(cls: type) -> None:
    """Bind the ops of the wider surface to ``Tensor``."""
    ns = globals()
    for name in _SURFACE_METHODS:
        setattr(cls, name, ns[name])
    for name in _ELEMENTWISE_INPLACE:
        if name + "_" not in cls.__dict__:  # a method of the class's own (a fast path) wins
            setattr(cls, name + "_", _elementwise_in_place(ns[name], name + "_"))
    for name, fn in _RESHAPE_INPLACE.items():
        setattr(cls, name, _reshape_in_place(fn, name))
    for fn in (exponential_, log_normal_, cauchy_, geometric_, random_, index_fill_,
               index_copy_, fill_diagonal_, masked_scatter_):
        setattr(cls, fn.__name__, fn)
    if "bernoulli_" not in cls.__dict__:
        cls.bernoulli_ = _bernoulli_

"""gradlab: a deep-learning framework built from first principles on NumPy.

The public API follows PyTorch's names and semantics::

    import gradlab
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    x.grad            # tensor([2., 4.])
"""

from gradlab.tensor import Size, Tensor  # noqa: I001 - the Tensor must come first

from gradlab import autograd, cuda, dtypes, ops
from gradlab import memory  # on import: freed arrays stay mapped for the next step
from gradlab.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradlab.backend import Device, Generator, default_generator, initial_seed, manual_seed, seed
from gradlab.threads import get_num_threads, set_num_threads  # on import: one count for Numba and BLAS
from gradlab.creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
    ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, tensor,
    zeros, zeros_like,
)
from gradlab.dtypes import (
    bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16,
    int32, int64, long, set_default_dtype, short, uint8,
)
from gradlab.ops import (
    abs, add, all, allclose, amax, amin, any, argmax, argmin, bmm, broadcast_to, cat, ceil,
    chunk, clamp, clip, clone, concat, cos, div, dot, eq, equal, erf, exp, expm1, flatten, flip,
    floor, gather, ge, gt, index_select, isclose, isfinite, isinf, isnan, le, log, log1p,
    log_softmax, logical_and, logical_not, logical_or, logical_xor, logsumexp, lt, masked_fill,
    matmul, max, maximum, mean, min, minimum, mm, mul, ne, neg, one_hot, outer, pad, permute,
    pow, reciprocal, relu, repeat, reshape, round, rsqrt, scatter_add, sigmoid, sign, sin,
    softmax, split, sqrt, square, squeeze, stack, std, sub, sum, t, tanh, transpose, trunc,
    unbind, unflatten, unsqueeze, var, where,
)
from gradlab.creation import (
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
    ShortTensor,
)
from gradlab.ops import (
    addmm, argsort, baddbmm, bernoulli, cdist, cumprod, cumsum, diag, diagonal, einsum, histc,
    histogram, index_add, log2, log10, moveaxis, movedim, multinomial, narrow, norm, normal, prod,
    repeat_interleave, roll, scatter, sort, topk, tril, triu, unique,
)
from gradlab.ops import (
    absolute, addcdiv, addcmul, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, clamp_max,
    clamp_min, copysign, divide, fix, fmod, frac, greater, greater_equal, hypot, less,
    less_equal, lerp, logaddexp, logit, multiply, nan_to_num, negative, not_equal, remainder,
    rsub, subtract, swapaxes, swapdims, true_divide, xlogy,
)
from gradlab import accelerator, backends
from gradlab.autograd.inference import (
    are_deterministic_algorithms_enabled, inference_mode, is_deterministic_algorithms_warn_only_enabled,
    is_inference_mode_enabled, use_deterministic_algorithms,
)
from gradlab import data  # after the creation functions: a DataLoader hands out Tensors
from gradlab import utils  # PyTorch's paths: gradlab.utils.data
from gradlab import nn  # after the ops and creation functions it is built from
from gradlab import optim  # optimizers and learning-rate schedules, on the engine only
from gradlab.io import load, save
from gradlab import train  # last: the training loop brings nn, optim and data together
from gradlab import diagnostics  # beside train: statistics, health checks, the lr finder
from gradlab.summary import summary  # the function: torchinfo's table of a model
from gradlab import onnx  # export to ONNX; the onnx package itself is imported on first use


def device(spec: str) -> Device:
    """``gradlab.device("cuda:0")``, as ``torch.device``."""
    return Device(spec)


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002 - PyTorch's name
    return input.numel()


__version__ = "0.1.0"

"""How layers make their parameters: ``device``/``dtype`` arguments as
PyTorch's, the default float dtype otherwise."""

from __future__ import annotations

import math
from typing import Any

from gradlab import dtypes
from gradlab.backend import Generator
from gradlab.creation import empty
from gradlab.nn import init
from gradlab.nn.parameter import Parameter


def new_parameter(*shape: int, device: Any = None, dtype: Any = None) -> Parameter:
    """An uninitialized Parameter (layers fill it in ``reset_parameters``)."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dt.kind != "f":
        raise TypeError(f"parameters must have a floating dtype, got dtype={dt}")
    return Parameter(empty(*shape, dtype=dt, device=device))


def default_init_(weight: Parameter, bias: Parameter | None,
                  generator: Generator | None = None) -> None:
    """PyTorch's default for Linear and Conv layers: W from
    ``kaiming_uniform_(a=sqrt(5))``, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    and b from the same interval."""
    init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound, generator)


def check_positive(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_channels(in_channels: Any, out_channels: Any, groups: Any) -> None:
    """A convolution's channel counts: positive integers, both divisible by
    ``groups``."""
    check_positive(in_channels, "in_channels")
    check_positive(out_channels, "out_channels")
    check_positive(groups, "groups")
    if in_channels % groups:
        raise ValueError(f"in_channels ({in_channels}) must be divisible by groups ({groups})")
    if out_channels % groups:
        raise ValueError(f"out_channels ({out_channels}) must be divisible by groups ({groups})")


__all__ = ["check_channels", "check_positive", "default_init_", "new_parameter"]

"""Convolution layers."""

from __future__ import annotations

from typing import Any

from gradlab.backend import Generator
from gradlab.nn import functional as F
from gradlab.nn.layers._factory import check_channels, default_init_, new_parameter
from gradlab.nn.module import Module
from gradlab.ops.conv import _tuple
from gradlab.tensor import Tensor


class _ConvNd(Module):
    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None, *,
                 generator: Generator | None = None) -> None:
        super().__init__()
        nd = self._nd
        check_channels(in_channels, out_channels, groups)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size")
        self.stride = _tuple(stride, nd, "stride")
        self.dilation = _tuple(dilation, nd, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"padding must be 'same', 'valid', an int or a tuple, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, nd, "padding")
        self.padding_mode = padding_mode
        self.weight = new_parameter(out_channels, in_channels // groups, *self.kernel_size,
                                    device=device, dtype=dtype)
        if bias:
            self.bias = new_parameter(out_channels, device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def _pad_input(self, x: Tensor) -> tuple[Tensor, Any]:
        """For a ``padding_mode`` other than zeros, ``x`` padded that way and
        the conv padding 0, as PyTorch; otherwise ``x`` and the padding."""
        if self.padding_mode == "zeros" or self.padding == "valid":
            return x, self.padding
        if self.padding == "same":  # the total d (k - 1), the odd cell on the right
            pairs = [(r * (k - 1) // 2, r * (k - 1) - r * (k - 1) // 2)
                     for k, r in zip(self.kernel_size, self.dilation)]
        else:
            pairs = [(p, p) for p in self.padding]
        flat = [v for lo_hi in reversed(pairs) for v in lo_hi]
        return F.pad(x, flat, mode=self.padding_mode), 0

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """PyTorch's default: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        default_init_(self.weight, self.bias, generator)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution: (N, C_in, L) -> (N, C_out, L_out), with
    L_out = floor((L + 2p - r (k - 1) - 1) / s) + 1. Weight (C_out, C_in / groups, k)."""

    _nd = 1

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x, padding = self._pad_input(input)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation, as every framework's "conv"):
    (N, C_in, H, W) -> (N, C_out, H_out, W_out), with
    H_out = floor((H + 2p - r (k - 1) - 1) / s) + 1. Weight
    (C_out, C_in / groups, kH, kW); ``padding`` may be ``"same"`` or ``"valid"``.
    Computed by im2col and one matrix product (:mod:`gradlab.ops.conv`).

    Example:
        >>> import gradlab
        >>> gradlab.nn.Conv2d(1, 4, 3, padding=1)(gradlab.zeros(2, 1, 8, 8)).shape
        (2, 4, 8, 8)
    """

    _nd = 2

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x, padding = self._pad_input(input)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

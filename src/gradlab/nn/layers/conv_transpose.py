"""Transposed convolution layers (the up-sampling half of DCGAN, U-Net and
autoencoders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gradlab.backend import Generator
from gradlab.nn.functional.conv_transpose import (
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose_output_padding,
)
from gradlab.nn.layers._factory import check_channels, default_init_, new_parameter
from gradlab.nn.module import Module
from gradlab.ops.conv import _tuple
from gradlab.tensor import Tensor

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class _ConvTransposeNd(Module):
    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
                 *, generator: Generator | None = None) -> None:
        super().__init__()
        nd = self._nd
        check_channels(in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}, '
                             f"got padding_mode={padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"padding must be an int or a tuple of {nd} ints for {type(self).__name__}, "
                             f"got {padding!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size")
        self.stride = _tuple(stride, nd, "stride")
        self.padding = _tuple(padding, nd, "padding")
        self.output_padding = _tuple(output_padding, nd, "output_padding")
        self.dilation = _tuple(dilation, nd, "dilation")
        self.padding_mode = padding_mode
        # PyTorch's layout: (C_in, C_out / groups, *kernel), the transpose of Conv's
        self.weight = new_parameter(in_channels, out_channels // groups, *self.kernel_size,
                                    device=device, dtype=dtype)
        if bias:
            self.bias = new_parameter(out_channels, device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """PyTorch's default: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with
        fan_in = (C_out / groups) prod(kernel) from the weight's layout."""
        default_init_(self.weight, self.bias, generator)

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:  # noqa: A002
        if output_size is None:
            return self.output_padding
        return conv_transpose_output_padding(input.shape[-self._nd:], output_size, self.kernel_size,
                                             self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: (N, C_in, L) -> (N, C_out, L_out), with
    L_out = (L - 1) s - 2 p + r (k - 1) + output_padding + 1. Weight
    (C_in, C_out / groups, k). See :mod:`gradlab.nn.functional.conv_transpose`."""

    _nd = 1

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:  # noqa: A002
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    with H_out = (H - 1) s - 2 p + r (k - 1) + output_padding + 1. Weight
    (C_in, C_out / groups, kH, kW). ``forward(x, output_size=...)`` picks the
    output_padding that gives that size, as PyTorch's.

    Example:
        >>> import gradlab
        >>> up = gradlab.nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        >>> up(gradlab.zeros(2, 8, 4, 4)).shape
        (2, 4, 8, 8)
    """

    _nd = 2

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:  # noqa: A002
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)

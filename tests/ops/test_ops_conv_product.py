"""The convolution's product (ops.conv.ColumnProduct), whose backward
computes dW = (cols dY^T)^T: first and second derivatives against
PyTorch in float64, and the weight gradient laid out like the weight."""

import numpy as np
import pytest
import torch
from test_ops_double_backward import check_double

import gradlab
import gradlab.nn.functional as F
from helpers import assert_close, randn

X = randn(3, 2, 7, 6, seed=1)
W = randn(4, 2, 3, 3, seed=2)
B = randn(4, seed=3)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv_gradients_match_torch_and_are_laid_out_like_the_weights(bias, stride):
    args = dict(stride=stride, padding=1)
    gl = [gradlab.tensor(a, requires_grad=True) for a in (X, W, B)]
    th = [torch.tensor(a, requires_grad=True) for a in (X, W, B)]
    up = np.random.default_rng(4).standard_normal(
        tuple(torch.nn.functional.conv2d(th[0], th[1], **args).shape))
    gl_out = F.conv2d(gl[0], gl[1], gl[2] if bias else None, **args)
    th_out = torch.nn.functional.conv2d(th[0], th[1], th[2] if bias else None, **args)
    (gl_out * gradlab.tensor(up)).sum().backward()
    (th_out * torch.tensor(up)).sum().backward()
    assert_close(gl_out, th_out)
    for g, t in zip(gl[:2], th[:2]):
        assert_close(g.grad, t.grad)
    assert gl[1].grad.numpy().flags.c_contiguous  # laid out like the weight, as every .grad
    if bias:
        assert_close(gl[2].grad, th[2].grad)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_conv_second_derivatives_match_torch(bias):
    if bias:
        check_double(lambda x, w, b: F.conv2d(x, w, b, padding=1),
                     lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1), X, W, B)
    else:
        check_double(lambda x, w: F.conv2d(x, w, padding=1),
                     lambda x, w: torch.nn.functional.conv2d(x, w, padding=1), X, W)

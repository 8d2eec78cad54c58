"""ConvTranspose1d/2d and F.conv_transpose1d/2d against PyTorch (float64,
values and gradients), gradcheck, output_size, and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_twin import twin

import gradlab
from gradlab import nn
from gradlab.nn import functional as F
from helpers import check, gradchecks, randn

CASES_2D = [  # in, out, groups, kernel, stride, padding, output_padding, dilation, (H, W)
    (4, 6, 2, 3, 2, 1, 1, 1, (5, 6)),
    (3, 2, 1, 4, 2, 1, 0, 1, (4, 4)),
    (2, 4, 1, 3, 1, 0, 0, 2, (3, 5)),
    (6, 3, 3, (2, 3), (3, 2), (1, 0), (2, 1), (1, 2), (4, 3)),
    (2, 2, 1, 3, 1, 2, 0, 1, (6, 6)),
    (3, 2, 1, 3, 1, 1, 1, 2, (5, 4)),  # output_padding below the dilation, stride 1
]


@pytest.mark.parametrize("cin,cout,groups,k,s,p,op,r,size", CASES_2D)
def test_conv_transpose2d_matches_torch(cin, cout, groups, k, s, p, op, r, size):
    kk = k if isinstance(k, tuple) else (k, k)
    x, w, b = randn(2, cin, *size, seed=1), randn(cin, cout // groups, *kk, seed=2), randn(cout, seed=3)
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, groups, r),
          lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, s, p, op, groups, r), x, w, b)


@pytest.mark.parametrize("cin,cout,groups,k,s,p,op,r", [(3, 4, 1, 3, 2, 1, 1, 1), (4, 2, 2, 2, 3, 0, 2, 1),
                                                          (2, 3, 1, 3, 1, 1, 0, 3)])
def test_conv_transpose1d_matches_torch(cin, cout, groups, k, s, p, op, r):
    x, w = randn(3, cin, 7, seed=4), randn(cin, cout // groups, k, seed=5)
    check(lambda x, w: F.conv_transpose1d(x, w, None, s, p, op, groups, r),
          lambda x, w: torch.nn.functional.conv_transpose1d(x, w, None, s, p, op, groups, r), x, w)


def test_unbatched_input():
    x, w = randn(3, 4, 4, seed=6), randn(3, 2, 3, 3, seed=7)
    check(lambda x, w: F.conv_transpose2d(x, w, stride=2),
          lambda x, w: torch.nn.functional.conv_transpose2d(x, w, stride=2), x, w)


def test_conv_transpose_gradcheck_and_double_backward():
    gradchecks(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
               randn(1, 2, 3, 3, seed=8), randn(2, 3, 3, 3, seed=9), randn(3, seed=10))


@pytest.mark.parametrize("nd", [1, 2])
def test_layers_load_torch_state_dicts_and_agree(nd):
    gl_cls, th_cls = (nn.ConvTranspose1d, torch.nn.ConvTranspose1d) if nd == 1 else \
        (nn.ConvTranspose2d, torch.nn.ConvTranspose2d)
    args = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    th = th_cls(4, 6, 3, **args)
    gl = gl_cls(4, 6, 3, **args)
    assert list(gl.state_dict()) == list(th.state_dict()) == ["weight", "bias"]
    assert gl.weight.shape == tuple(th.weight.shape) == (4, 3, *([3] * nd))
    twin(gl, th, randn(2, 4, *([5] * nd), seed=11))


def test_default_init_has_torch_bounds():
    gl = nn.ConvTranspose2d(8, 4, 3)
    bound = 1 / np.sqrt(4 * 9)  # fan_in from the (C_in, C_out, k, k) layout: C_out k k
    w = gl.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


def test_output_size_picks_output_padding_as_torch():
    th = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    gl = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    gl.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    x = randn(1, 2, 4, 4, seed=12)
    for size in ([8, 8], (1, 3, 7, 8), [7, 7]):
        out = gl(gradlab.tensor(x), output_size=size)
        expected = th(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        gl(gradlab.tensor(x), output_size=[9, 9])


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="output_padding must be smaller than either stride or dilation"):
        nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)(gradlab.zeros(1, 2, 4, 4))
    with pytest.raises(RuntimeError, match="has 3 channels, but weight"):
        nn.ConvTranspose2d(2, 2, 3)(gradlab.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="padding_mode"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="in_channels \\(3\\) must be divisible by groups \\(2\\)"):
        nn.ConvTranspose2d(3, 2, 3, groups=2)

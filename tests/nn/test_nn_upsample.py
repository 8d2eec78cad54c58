"""F.interpolate / nn.Upsample (and nn.Unflatten) against PyTorch (float64
values and gradients), gradcheck, and bad arguments."""

from __future__ import annotations

import pytest
import torch

import gradlab
from gradlab import nn
from gradlab.nn import functional as F
from helpers import check, gradchecks, randn

CASES = [
    (4, {"scale_factor": 2}),
    (4, {"scale_factor": 1.7}),
    (4, {"size": (3, 11)}),
    (4, {"size": (9, 4), "mode": "nearest-exact"}),
    (4, {"scale_factor": (2.3, 0.6), "mode": "bilinear"}),
    (4, {"size": (8, 13), "mode": "bilinear", "align_corners": True}),
    (4, {"size": (8, 13), "mode": "bilinear"}),
    (4, {"size": (1, 1), "mode": "bilinear", "align_corners": True}),
    (4, {"scale_factor": 1.5, "mode": "bilinear", "recompute_scale_factor": True}),
    (4, {"size": (2, 3), "mode": "area"}),
    (3, {"scale_factor": 3, "mode": "linear"}),
    (3, {"size": 4, "mode": "linear", "align_corners": True}),
    (3, {"size": 12}),
    (5, {"scale_factor": (2, 1, 0.5), "mode": "trilinear"}),
]


@pytest.mark.parametrize("ndim,kwargs", CASES)
def test_interpolate_matches_torch(ndim, kwargs):
    x = randn(*[2, 3, 5, 7, 4][:ndim], seed=ndim)
    check(lambda x: F.interpolate(x, **kwargs), lambda x: torch.nn.functional.interpolate(x, **kwargs), x)


def test_upsample_layers_match_torch():
    x = randn(1, 2, 3, 4, seed=9)
    pairs = [(nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
             (nn.Upsample(size=(5, 5), mode="bilinear"), torch.nn.Upsample(size=(5, 5), mode="bilinear")),
             (nn.UpsamplingBilinear2d(scale_factor=2), torch.nn.UpsamplingBilinear2d(scale_factor=2)),
             (nn.UpsamplingNearest2d(size=7), torch.nn.UpsamplingNearest2d(size=7))]
    for gl, th in pairs:
        check(gl, th, x)
        assert list(gl.state_dict()) == []


def test_interpolate_gradcheck():
    gradchecks(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), randn(1, 1, 3, 2, seed=10))
    gradchecks(lambda x: F.interpolate(x, size=(4, 5)), randn(1, 2, 3, 2, seed=11))


def test_bad_arguments():
    x = gradlab.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="output size of \\[2, 2, 2\\]"):
        F.interpolate(x, size=(2, 2, 2))


@pytest.mark.parametrize("dim,sizes", [(1, (2, 3)), (-1, (2, -1)), (0, (1, 4))])
def test_unflatten_matches_torch(dim, sizes):
    check(nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), randn(4, 6, seed=12))

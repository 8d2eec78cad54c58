"""Channel dropout (Dropout1d/2d/3d) against PyTorch 2.13: which entries
share one draw, the scaling, the warnings and the errors, for every input
dimension PyTorch accepts. Random values differ between the libraries, so
the masks' structure is compared, not the masks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gradlab
from gradlab import nn

P = 0.5


def _shared_axes(ratio: np.ndarray) -> tuple[int, ...]:
    """The axes along which the mask ``ratio`` (output / input) is constant."""
    return tuple(a for a in range(ratio.ndim)
                 if np.all(ratio == np.take(ratio, [0], axis=a)))


def _run(lib, name: str, shape: tuple, inplace: bool = False):
    x = lib.ones(*shape, dtype=lib.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(lib.nn.functional, name)(x, P, True, inplace)
    ratio = out.numpy()
    return ratio, [str(w.message) for w in caught]


# at least ~8 draws along every axis that is not shared, so that a mask
# constant along it by chance is unlikely (below 1e-3)
CASES = [("dropout1d", (12, 40)), ("dropout1d", (6, 7, 9)),
         ("dropout2d", (30, 40)), ("dropout2d", (6, 7, 9)), ("dropout2d", (4, 5, 6, 7)),
         ("dropout2d", (3, 4, 5, 6, 2)), ("dropout3d", (12, 3, 4, 5)), ("dropout3d", (3, 4, 5, 6, 2))]


@pytest.mark.parametrize("name,shape", CASES)
def test_channel_dropout_structure_scaling_and_warnings_match_pytorch(name, shape):
    gradlab.manual_seed(1)
    torch.manual_seed(1)
    expected, expected_warnings = _run(torch, name, shape)
    actual, actual_warnings = _run(gradlab, name, shape)
    assert _shared_axes(actual) == _shared_axes(expected)
    assert set(np.unique(actual)) == {0.0, 1.0 / (1.0 - P)}
    assert actual_warnings == expected_warnings


def test_dropout2d_on_3d_input_drops_per_sample_and_channel_with_a_warning():
    x = gradlab.ones(8, 16, 10, dtype=gradlab.float64)
    with pytest.warns(UserWarning, match=r"interpreted as shape \(N, C, L\)"):
        out = nn.Dropout2d(P)(x).numpy()
    assert _shared_axes(out) == (2,)  # one draw per (N, C), not per C of (C, H, W)


def test_dropout2d_on_2d_input_drops_elementwise_with_a_warning():
    x = gradlab.ones(30, 40, dtype=gradlab.float64)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        out = nn.Dropout2d(P)(x).numpy()
    assert _shared_axes(out) == ()


@pytest.mark.parametrize("name,shape", [("dropout1d", (5,)), ("dropout1d", (2, 3, 4, 5)),
                                        ("dropout2d", (5,))])
def test_channel_dropout_refuses_what_pytorch_refuses(name, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch.nn.functional, name)(torch.ones(shape), P)
        with pytest.raises(RuntimeError) as ours:
            getattr(gradlab.nn.functional, name)(gradlab.ones(*shape), P)
    assert str(ours.value).split(",")[0] == str(theirs.value).split(",")[0]


@pytest.mark.parametrize("layer,shape", [(nn.Dropout(P, inplace=True), (4, 6, 5)),
                                         (nn.Dropout1d(P, inplace=True), (4, 6, 5)),
                                         (nn.Dropout2d(P, inplace=True), (2, 4, 6, 5))])
def test_inplace_dropout_writes_the_input_and_its_gradient_is_the_mask(layer, shape):
    w = gradlab.ones(*shape, dtype=gradlab.float64, requires_grad=True)
    h = w * 1
    out = layer(h)
    assert out is h
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), h.detach().numpy())


def test_eval_is_the_identity_and_repr_as_pytorch():
    x = gradlab.ones(2, 3, 4)
    assert nn.Dropout1d(P).eval()(x) is x
    assert repr(nn.Dropout1d(0.3)) == repr(torch.nn.Dropout1d(0.3))
    assert repr(nn.Dropout3d(0.3, inplace=True)) == repr(torch.nn.Dropout3d(0.3, inplace=True))

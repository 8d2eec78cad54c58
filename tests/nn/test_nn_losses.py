"""Losses against PyTorch over reductions, weights, ignore_index and label
smoothing; stability at extreme logits; gradchecks."""

import numpy as np
import pytest
import torch

import gradlab
from gradlab import nn
from helpers import check, gradchecks

rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]


def _pair(gl_cls, th_cls, **kwargs):
    gl_kwargs = {k: gradlab.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    th_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return gl_cls(**gl_kwargs), th_cls(**th_kwargs)


def _check_loss(gl_cls, th_cls, x, target, **kwargs):
    gl, th = _pair(gl_cls, th_cls, **kwargs)
    check(lambda a: gl(a, gradlab.tensor(target)), lambda a: th(a, torch.tensor(target)), x)


W = np.array([0.5, 2.0, 1.0, 0.3])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, W])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_with_indices(reduction, weight, label_smoothing, ignore_index):
    x = rng.standard_normal((6, 4))
    y = np.array([0, 2, 3, 1, 2, 0])
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing, ignore_index=ignore_index)
    if weight is not None:
        kwargs["weight"] = weight
    _check_loss(nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, x, y, **kwargs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, W])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_with_probabilities(reduction, weight, label_smoothing):
    x = rng.standard_normal((5, 4))
    q = rng.dirichlet(np.ones(4), 5)
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing)
    if weight is not None:
        kwargs["weight"] = weight
    _check_loss(nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, x, q, **kwargs)


def test_cross_entropy_spatial_and_unbatched():
    _check_loss(nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, rng.standard_normal((2, 4, 3, 2)),
                rng.integers(0, 4, (2, 3, 2)), weight=W, label_smoothing=0.1)
    _check_loss(nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, rng.standard_normal(4), np.array(2))
    _check_loss(nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, rng.standard_normal(4),
                rng.dirichlet(np.ones(4)))


def test_cross_entropy_stable_at_extreme_logits():
    x = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 5e3]])
    y = np.array([1, 0])
    _check_loss(nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, x, y)
    out = nn.CrossEntropyLoss()(gradlab.tensor(x.astype(np.float32)), gradlab.tensor(y))
    assert np.isfinite(out.item()) and abs(out.item() - (2e4 + 1e4 + np.log(2)) / 2) < 1e-2


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    x = np.log(rng.dirichlet(np.ones(4), 6))
    y = np.array([0, 2, 3, 1, 2, 0])
    _check_loss(nn.NLLLoss, torch.nn.NLLLoss, x, y, reduction=reduction, weight=W, ignore_index=1)
    _check_loss(nn.NLLLoss, torch.nn.NLLLoss, x, y, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gl_cls,th_cls,kwargs", [
    (nn.MSELoss, torch.nn.MSELoss, {}), (nn.L1Loss, torch.nn.L1Loss, {}),
    (nn.HuberLoss, torch.nn.HuberLoss, {}), (nn.HuberLoss, torch.nn.HuberLoss, dict(delta=0.3)),
    (nn.SmoothL1Loss, torch.nn.SmoothL1Loss, dict(beta=0.5)),
])
def test_regression_losses(reduction, gl_cls, th_cls, kwargs):
    x, y = rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3))
    gl, th = gl_cls(reduction=reduction, **kwargs), th_cls(reduction=reduction, **kwargs)
    check(gl, th, x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    p = rng.uniform(0.01, 0.99, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (4, 3))
    _check_loss(nn.BCELoss, torch.nn.BCELoss, p, y, reduction=reduction)
    _check_loss(nn.BCELoss, torch.nn.BCELoss, p, y, reduction=reduction, weight=w)


def test_bce_clamps_log_at_minus_100():
    p, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    check(lambda a: nn.BCELoss()(a, gradlab.tensor(y)), lambda a: torch.nn.BCELoss()(a, torch.tensor(y)), p,
          grad=False)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    x = np.concatenate([rng.standard_normal(10) * 3, [0.0, 200.0, -200.0]]).reshape(-1, 1) * np.ones((1, 3))
    y = rng.uniform(0, 1, x.shape)
    pos = np.array([0.5, 1.0, 3.0])
    _check_loss(nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, x, y, reduction=reduction)
    _check_loss(nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, x, y, reduction=reduction, pos_weight=pos,
                weight=np.array([1.0, 0.2, 2.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin(reduction, p):
    x = rng.standard_normal((6, 4))
    y = np.array([0, 2, 3, 1, 2, 0])
    _check_loss(nn.MultiMarginLoss, torch.nn.MultiMarginLoss, x, y, p=p, reduction=reduction)
    _check_loss(nn.MultiMarginLoss, torch.nn.MultiMarginLoss, x, y, p=p, margin=0.5, weight=W,
                reduction=reduction)
    _check_loss(nn.MultiMarginLoss, torch.nn.MultiMarginLoss, x[0], y[0], p=p, reduction=reduction)


def test_gradchecks():
    y = gradlab.tensor([0, 2, 1])
    q = gradlab.tensor(rng.dirichlet(np.ones(3), 3))
    gradchecks(lambda x: nn.CrossEntropyLoss(label_smoothing=0.1)(x, y), rng.standard_normal((3, 3)))
    w = gradlab.tensor([0.5, 2.0, 1.0])
    for reduction in REDUCTIONS:  # the fused 2-D path, including its double backward
        for eps in (0.0, 0.2):
            gradchecks(lambda x, r=reduction, e=eps: nn.CrossEntropyLoss(w, ignore_index=1, reduction=r,
                                                                         label_smoothing=e)(x, y),
                       rng.standard_normal((3, 3)))
    gradchecks(lambda x: nn.CrossEntropyLoss()(x, q), rng.standard_normal((3, 3)))
    gradchecks(lambda x, t: nn.BCEWithLogitsLoss(pos_weight=gradlab.tensor([2.0]))(x, t),
               rng.standard_normal(4), rng.uniform(0, 1, 4))
    gradchecks(lambda x: nn.MultiMarginLoss(p=2)(x, y), rng.standard_normal((3, 3)))
    gradchecks(lambda x, t: nn.HuberLoss(delta=0.5)(x, t), rng.standard_normal(5), rng.standard_normal(5))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(IndexError, match="target 7"):
        nn.CrossEntropyLoss()(gradlab.zeros(2, 3), gradlab.tensor([0, 7]))
    with pytest.raises(ValueError, match="target size"):
        nn.MSELoss()(gradlab.zeros(2, 3), gradlab.zeros(3, 2))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        nn.BCELoss()(gradlab.tensor([1.5]), gradlab.tensor([1.0]))

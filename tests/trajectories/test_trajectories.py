"""Whole training trajectories against PyTorch (issue 16, part 4).

Each model family is built in both libraries, PyTorch's weights are copied
into gradlab, and both train in float64 on the same batches for a few
steps with the same optimizer. After every step the loss, every parameter
and every buffer must equal PyTorch's to 1e-8. A single-step test of one
op or one optimizer on a fresh C-ordered array cannot see a bug that only
shows when a real model hands the optimizer its gradients (issue 16 part 1:
gradients equal to 2e-9, weights off by 8.6 after one Adam step).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from trajectory_models import FAMILIES, OPTIMIZERS, batches

import gradlab

STEPS = 3
ATOL = 1e-8


@pytest.fixture(autouse=True)
def _torch_float64():
    """PyTorch keeps scalar optimizer state (NAdam's product of mu) in its
    default dtype; float64 there too, so that the trajectories are float64
    throughout (with float32 NAdam's weights differ by 3e-11 per step)."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def _pair(family):
    torch.manual_seed(0)
    th = family.build(torch).double()
    gl = family.build(gradlab).double()
    state = {k: v.detach().numpy().copy() for k, v in th.state_dict().items()}
    result = gl.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    return gl, th


def _optimizer(lib, model, name):
    cls, kwargs = OPTIMIZERS[name]
    return getattr(lib.optim, cls)(model.parameters(), **kwargs)


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("family_name", sorted(FAMILIES))
def test_trajectory_matches_pytorch(family_name, opt_name):
    family = FAMILIES[family_name]
    gl, th = _pair(family)
    gl_opt, th_opt = _optimizer(gradlab, gl, opt_name), _optimizer(torch, th, opt_name)
    for step, (x, y) in enumerate(batches(family, STEPS)):
        th_opt.zero_grad()
        th_loss = family.loss(torch, th, torch.tensor(x), torch.tensor(y))
        th_loss.backward()
        th_opt.step()
        gl_opt.zero_grad()
        gl_loss = family.loss(gradlab, gl, gradlab.tensor(x), gradlab.tensor(y))
        gl_loss.backward()
        gl_opt.step()
        np.testing.assert_allclose(gl_loss.item(), th_loss.item(), rtol=1e-10,
                                   err_msg=f"loss at step {step}")
        gl_state = gl.state_dict()
        for name, value in th.state_dict().items():
            np.testing.assert_allclose(
                gl_state[name].detach().numpy(), value.detach().numpy(), atol=ATOL, rtol=0,
                err_msg=f"{name} after step {step + 1}")

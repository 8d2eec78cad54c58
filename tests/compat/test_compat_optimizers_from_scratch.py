"""Optimizers written from scratch as ``torch.optim.Optimizer`` subclasses
(SGD with momentum and Adam, as textbooks write them: ``p.data``,
``self.state[p]``, ``@torch.no_grad()``), checked against the built-in
ones step for step and trained on the digits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from compat_run import FRAMEWORKS, assert_comparable, run
from sklearn.datasets import load_digits


def program(torch):
    nn = torch.nn
    F = torch.nn.functional

    class MomentumSGD(torch.optim.Optimizer):
        def __init__(self, params, lr=0.01, momentum=0.9):
            if lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @torch.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d_p = p.grad.data
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        buf = state["momentum_buffer"] = torch.clone(d_p).detach()
                    else:
                        buf = state["momentum_buffer"]
                        buf.mul_(group["momentum"]).add_(d_p)
                    p.data.add_(buf, alpha=-group["lr"])
            return loss

    class ScratchAdam(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

        def step(self, closure=None):
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.data
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = torch.zeros_like(p.data)
                        state["exp_avg_sq"] = torch.zeros_like(p.data)
                    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                    state["step"] += 1
                    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                    exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
                    bias_correction1 = 1 - beta1 ** state["step"]
                    bias_correction2 = 1 - beta2 ** state["step"]
                    denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
                    p.data.add_(-(group["lr"] / bias_correction1) * exp_avg / denom)

    images, labels = load_digits(return_X_y=True)
    X = torch.tensor(images / 16.0, dtype=torch.float64)
    y = torch.tensor(labels)

    def make_model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).double()

    def train(make_opt, steps=100):
        model = make_model()
        opt = make_opt(model.parameters())
        losses = []
        for i in range(steps):
            idx = torch.arange(i * 25 % 1700, i * 25 % 1700 + 64)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            accuracy = (model(X).argmax(1) == y).float().mean().item()
        return losses, [p.detach().clone() for p in model.parameters()], accuracy

    results = {}
    pairs = {"sgd": (lambda ps: MomentumSGD(ps, lr=0.1, momentum=0.9),
                     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
             "adam": (lambda ps: ScratchAdam(ps, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01))}
    for name, (scratch, builtin) in pairs.items():
        losses, params, accuracy = train(scratch)
        ref_losses, ref_params, _ = train(builtin)
        results[name] = {
            "first_loss": float(np.mean(losses[:5])), "last_loss": float(np.mean(losses[-5:])),
            "accuracy": accuracy,
            "max_diff_to_builtin": max(float((a - b).abs().max()) for a, b in zip(params, ref_params)),
            "loss_diff_to_builtin": max(abs(a - b) for a, b in zip(losses, ref_losses)),
        }
    return results


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_optimizer_from_scratch_as_under_torch(framework, optimizer):
    result = run(program, framework)[optimizer]
    # the hand-written optimizer follows the framework's own, step for step
    assert result["max_diff_to_builtin"] < 1e-10 and result["loss_diff_to_builtin"] < 1e-10
    assert result["last_loss"] < result["first_loss"] / 3
    assert result["accuracy"] > 0.8
    if framework != "torch":
        assert_comparable(result, run(program, "torch")[optimizer], "accuracy", abs_=0.05)

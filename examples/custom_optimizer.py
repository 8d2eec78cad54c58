"""A custom optimizer in 20 lines: SGD with heavy-ball momentum, written as
in PyTorch (subclass Optimizer, update the parameters in place under
no_grad), and checked step for step against gradlab.optim.SGD.

    v <- mu v + g,    theta <- theta - lr v      (PyTorch's form of momentum)

Run: python examples/custom_optimizer.py   (a second)
"""

import numpy as np

import gradlab
from gradlab import nn
from gradlab.optim import Optimizer


class Momentum(Optimizer):
    def __init__(self, params, lr=0.01, momentum=0.9):
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"expected lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @gradlab.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]  # per-parameter state, created lazily
                if "velocity" not in state:
                    state["velocity"] = gradlab.zeros_like(p)
                v = state["velocity"]
                v.mul_(group["momentum"]).add_(p.grad)
                p.add_(v, alpha=-group["lr"])


def train(make_optimizer):
    gradlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = make_optimizer(model.parameters())
    x, y = gradlab.randn(32, 4), gradlab.randn(32, 1)
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item(), [p.detach().numpy() for p in model.parameters()]


mine = train(lambda params: Momentum(params, lr=0.05))
theirs = train(lambda params: gradlab.optim.SGD(params, lr=0.05, momentum=0.9))
print(f"loss after 20 steps: {mine[0]:.6f} (Momentum), {theirs[0]:.6f} (gradlab.optim.SGD)")
assert all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(mine[1], theirs[1]))

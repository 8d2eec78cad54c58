"""Adversarial examples and adversarial training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradlab import autograd, ops
from gradlab.autograd import enable_grad, no_grad
from gradlab.backend import Generator, default_generator, to_device
from gradlab.nn import Module
from gradlab.nn.functional import cross_entropy
from gradlab.tensor import Tensor

__all__ = ["AdversarialTraining", "fgsm", "pgd"]

Loss = Callable[[Any, Any], Tensor]


def _input_grad(model: Module, x: Tensor, y: Tensor, loss_fn: Loss) -> Tensor:
    """grad_x J(model(x), y), the model's parameters left untouched."""
    with enable_grad():  # attacks also work when called under no_grad()
        x = x.detach().requires_grad_(True)
        (grad,) = autograd.grad(loss_fn(model(x), y), x)
    return grad


def _clamp(x: Tensor, clamp: tuple[float, float] | None) -> Tensor:
    return x if clamp is None else x.clamp(clamp[0], clamp[1])


def _in_eval(model: Module, fn: Callable[[], Tensor]) -> Tensor:
    was = model.training
    model.eval()
    try:
        return fn()
    finally:
        model.train(was)


def fgsm(
    model: Module,
    x: Tensor,
    y: Tensor,
    eps: float,
    loss_fn: Loss | None = None,
    clamp: tuple[float, float] | None = None,
) -> Tensor:
    r"""Fast gradient sign method (Goodfellow, Shlens & Szegedy 2015):

    .. math:: \tilde x = x + \epsilon\, \mathrm{sign}(\nabla_x J(\theta, x, y))

    the worst case of a max-norm perturbation of size eps under a linear
    approximation of the loss. The gradient is taken in the model's current
    mode; the parameters' ``.grad`` are not touched.

    Args:
        eps: the L-infinity size of the perturbation (>= 0).
        loss_fn: J (cross-entropy by default).
        clamp: (low, high) valid range of the inputs, e.g. (0, 1), or None.

    Returns:
        the adversarial inputs, detached.
    """
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps < 0:
        raise ValueError(f"fgsm: eps must be a number >= 0, got {eps!r}")
    grad = _input_grad(model, x, y, loss_fn or cross_entropy)
    with no_grad():
        return _clamp(x.detach() + grad.sign() * eps, clamp)


def pgd(
    model: Module,
    x: Tensor,
    y: Tensor,
    eps: float,
    alpha: float | None = None,
    steps: int = 10,
    loss_fn: Loss | None = None,
    random_start: bool = True,
    clamp: tuple[float, float] | None = None,
    generator: Generator | None = None,
) -> Tensor:
    r"""Projected gradient descent on the loss (Madry et al. 2018), an
    iterated FGSM within the L-infinity ball of radius eps:

    .. math::
        x^{t+1} = \Pi_{\lVert x' - x \rVert_\infty \le \epsilon}
        \big(x^t + \alpha\, \mathrm{sign}(\nabla_x J(\theta, x^t, y))\big)

    starting from x plus uniform noise in the ball (``random_start``).

    Args:
        eps: radius; alpha: step size (default eps / 4); steps: iterations.
        generator: source of the random start.
    """
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps < 0:
        raise ValueError(f"pgd: eps must be a number >= 0, got {eps!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"pgd: steps must be an integer >= 1, got {steps!r}")
    alpha = eps / 4 if alpha is None else alpha
    loss_fn = loss_fn or cross_entropy
    x0 = x.detach()
    adv = x0
    if random_start:
        noise = (generator or default_generator).uniform(tuple(x0.shape), -eps, eps, dtype=x0.dtype)
        adv = _clamp(x0 + Tensor._make(to_device(noise, x0.device)), clamp)
    for _ in range(steps):
        grad = _input_grad(model, adv, y, loss_fn)
        with no_grad():
            adv = adv + grad.sign() * alpha
            adv = ops.minimum(ops.maximum(adv, x0 - eps), x0 + eps)
            adv = _clamp(adv, clamp)
    return adv.detach()


class AdversarialTraining:
    r"""Train on a mix of clean and adversarial examples (Goodfellow et al.
    2015, eq. 6):

    .. math:: \tilde J = \alpha\, J(\theta, x, y) + (1 - \alpha)\, J(\theta, x_{adv}, y)

    with x_adv made by FGSM or PGD against the current model for each
    batch. The attack runs in eval mode (so that it neither updates
    BatchNorm's running statistics nor draws dropout masks); both losses
    are then computed in training mode. Give it to ``Trainer(adversarial=...)``.

    Args:
        attack: "fgsm" or "pgd".
        eps: perturbation size; alpha: weight of the clean loss (0.5 in the
            paper); steps, step_size: PGD's; clamp: valid input range.
    """

    def __init__(
        self,
        attack: str = "fgsm",
        eps: float = 0.1,
        alpha: float = 0.5,
        steps: int = 7,
        step_size: float | None = None,
        clamp: tuple[float, float] | None = None,
        generator: Generator | None = None,
    ) -> None:
        if attack not in ("fgsm", "pgd"):
            raise ValueError(f"AdversarialTraining: attack must be 'fgsm' or 'pgd', got {attack!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"AdversarialTraining: alpha must be a number in [0, 1], got {alpha!r}")
        self.attack, self.eps, self.alpha, self.steps = attack, eps, float(alpha), steps
        self.step_size, self.clamp, self.generator = step_size, clamp, generator

    def perturb(self, model: Module, x: Tensor, y: Tensor, loss_fn: Loss) -> Tensor:
        if self.attack == "fgsm":
            return _in_eval(model, lambda: fgsm(model, x, y, self.eps, loss_fn, self.clamp))
        return _in_eval(
            model,
            lambda: pgd(
                model,
                x,
                y,
                self.eps,
                self.step_size,
                self.steps,
                loss_fn,
                clamp=self.clamp,
                generator=self.generator,
            ),
        )

    def forward_loss(self, model: Module, loss_fn: Loss, x: Tensor, y: Tensor) -> tuple[Any, Tensor, dict]:
        x_adv = self.perturb(model, x, y, loss_fn)
        output = model(x)
        clean = loss_fn(output, y)
        adversarial = loss_fn(model(x_adv), y)
        loss = clean * self.alpha + adversarial * (1.0 - self.alpha)
        return output, loss, {"loss_clean": float(clean.item()), "loss_adv": float(adversarial.item())}

"""Regularizers the Trainer adds to the loss (or, for weight noise, applies
around the forward pass), each on a selection of the parameters.

By default a regularizer acts on the *weights*: parameters whose name starts
with ``weight`` and that have at least two dimensions (matrices, kernels,
embeddings), outside normalization layers. Biases, BatchNorm/LayerNorm
scales and shifts and PReLU slopes are left out unless asked for, as the
usual practice (Goodfellow et al. 2016, sec. 7.1: penalizing biases can
cause underfitting and gains little).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gradlab.autograd import no_grad
from gradlab.backend import Generator, default_generator
from gradlab.nn import BatchNorm1d, BatchNorm2d, LayerNorm, Module, Parameter
from gradlab.tensor import Tensor

__all__ = ["L1", "L2", "ElasticNet", "ParameterTying", "Regularizer", "WeightNoise", "select_parameters"]

_NORMS = (BatchNorm1d, BatchNorm2d, LayerNorm)
Selection = str | Callable[[str, Parameter], bool] | Iterable[str]


def _check_strength(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{owner}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def select_parameters(model: Module, params: Selection = "weights") -> list[tuple[str, Parameter]]:
    """The (name, parameter) pairs a regularizer acts on.

    Args:
        params: "weights" (the default rule above), "all", a predicate
            ``(name, parameter) -> bool``, or an iterable of parameter names.
    """
    named = list(model.named_parameters())
    if params == "all":
        return named
    if params == "weights":
        norm_owned = {
            f"{prefix}.{n}" if prefix else n
            for prefix, m in model.named_modules()
            if isinstance(m, _NORMS)
            for n, _ in m.named_parameters(recurse=False)
        }
        return [
            (n, p)
            for n, p in named
            if n.rsplit(".", 1)[-1].startswith("weight") and p.ndim >= 2 and n not in norm_owned
        ]
    if callable(params):
        return [(n, p) for n, p in named if params(n, p)]
    if isinstance(params, str):
        raise ValueError(f"params must be 'weights', 'all', a predicate or a list of names, got {params!r}")
    wanted = list(params)
    table = dict(named)
    missing = [n for n in wanted if n not in table]
    if missing:
        raise ValueError(f"params names {missing} are not parameters of the model; it has {sorted(table)}")
    return [(n, table[n]) for n in wanted]


class Regularizer:
    """Base class: ``penalty(model)`` is added to the training loss;
    ``before_forward`` / ``after_backward`` run around each training batch's
    forward and backward passes."""

    def __init__(self, params: Selection = "weights") -> None:
        self.params = params

    def selected(self, model: Module) -> list[tuple[str, Parameter]]:
        return select_parameters(model, self.params)

    def penalty(self, model: Module) -> Tensor | None:
        return None

    def before_forward(self, model: Module) -> None:
        return None

    def after_backward(self, model: Module) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _sum(terms: list[Tensor]) -> Tensor | None:
    total = None
    for t in terms:
        total = t if total is None else total + t
    return total


class L1(Regularizer):
    r"""Lasso penalty :math:`\lambda \sum_i |w_i|`, gradient
    :math:`\lambda\,\mathrm{sign}(w)` (0 at 0, the subgradient PyTorch's
    ``abs`` uses). It drives weights to exactly zero more than L2 does
    (Tibshirani 1996)."""

    def __init__(self, strength: float = 1e-4, params: Selection = "weights") -> None:
        super().__init__(params)
        self.strength = _check_strength(strength, "strength", "L1")

    def penalty(self, model: Module) -> Tensor | None:
        total = _sum([p.abs().sum() for _, p in self.selected(model)])
        return None if total is None else total * self.strength


class L2(Regularizer):
    r"""Ridge / weight-decay penalty :math:`\lambda \sum_i w_i^2`, gradient
    :math:`2\lambda w` (Keras's ``l2`` convention; PyTorch's optimizer
    ``weight_decay=wd`` adds ``wd * w`` to the gradient, i.e. ``L2(wd / 2)``
    for SGD — but not for Adam, where AdamW's decoupled decay differs,
    Loshchilov & Hutter 2019)."""

    def __init__(self, strength: float = 1e-4, params: Selection = "weights") -> None:
        super().__init__(params)
        self.strength = _check_strength(strength, "strength", "L2")

    def penalty(self, model: Module) -> Tensor | None:
        total = _sum([(p * p).sum() for _, p in self.selected(model)])
        return None if total is None else total * self.strength


class ElasticNet(Regularizer):
    r""":math:`\lambda_1 \sum_i |w_i| + \lambda_2 \sum_i w_i^2` (Zou & Hastie 2005)."""

    def __init__(self, l1: float = 1e-4, l2: float = 1e-4, params: Selection = "weights") -> None:
        super().__init__(params)
        self.l1 = _check_strength(l1, "l1", "ElasticNet")
        self.l2 = _check_strength(l2, "l2", "ElasticNet")

    def penalty(self, model: Module) -> Tensor | None:
        total = _sum([p.abs().sum() * self.l1 + (p * p).sum() * self.l2 for _, p in self.selected(model)])
        return total


class ParameterTying(Regularizer):
    r"""Soft parameter tying (Goodfellow et al. 2016, sec. 7.9): pull pairs of
    parameters of the same shape together,
    :math:`\lambda \sum_{(A, B)} \lVert w_A - w_B \rVert_2^2`, gradient
    :math:`2\lambda (w_A - w_B)` on A and its negative on B.

    Args:
        pairs: (name_A, name_B) parameter names.
        strength: lambda.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]], strength: float = 1e-3) -> None:
        super().__init__(params="all")
        self.pairs = [tuple(p) for p in pairs]
        if not self.pairs or any(len(p) != 2 for p in self.pairs):
            raise ValueError(
                f"ParameterTying: pairs must be a non-empty list of (name_A, name_B), got {pairs!r}"
            )
        self.strength = _check_strength(strength, "strength", "ParameterTying")

    def penalty(self, model: Module) -> Tensor | None:
        table = dict(model.named_parameters())
        terms = []
        for a, b in self.pairs:
            for name in (a, b):
                if name not in table:
                    raise ValueError(
                        f"ParameterTying: {name!r} is not a parameter of the model; it has {sorted(table)}"
                    )
            if tuple(table[a].shape) != tuple(table[b].shape):
                raise ValueError(
                    f"ParameterTying: {a} has shape {tuple(table[a].shape)} and {b} has shape "
                    f"{tuple(table[b].shape)}; tied parameters need the same shape"
                )
            diff = table[a] - table[b]
            terms.append((diff * diff).sum())
        return _sum(terms) * self.strength


class WeightNoise(Regularizer):
    r"""Gaussian noise on the weights during each training forward pass
    (Graves 2011; Goodfellow et al. 2016, sec. 7.5): the loss and its gradient
    are computed at :math:`w + \epsilon`, :math:`\epsilon \sim N(0,
    \sigma^2)`, and the update is applied to the clean weights. For small
    sigma this approximately adds :math:`\sigma^2 \lVert \nabla_w f
    \rVert^2`-style penalties, favouring flat minima. Evaluation uses the
    clean weights.

    Args:
        std: sigma.
        params: the selection (weights by default).
        generator: the source of the noise.
    """

    def __init__(
        self, std: float = 0.01, params: Selection = "weights", generator: Generator | None = None
    ) -> None:
        super().__init__(params)
        self.std = _check_strength(std, "std", "WeightNoise")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(
                f"WeightNoise: generator must be a gradlab.Generator, got {type(generator).__name__}"
            )
        self.generator = generator
        self._clean: list[tuple[Parameter, Any]] = []

    def before_forward(self, model: Module) -> None:
        from gradlab.backend import to_device

        gen = self.generator or default_generator
        self._clean = []
        with no_grad():
            for _, p in self.selected(model):
                self._clean.append((p, p.array.copy()))
                noise = gen.normal(tuple(p.shape), 0.0, self.std, dtype=p.dtype)
                p.array += to_device(noise, p.device)

    def after_backward(self, model: Module) -> None:
        with no_grad():
            for p, clean in self._clean:
                p.array[...] = clean
        self._clean = []

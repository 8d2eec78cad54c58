"""Ensembles: average the predicted probabilities of several models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradlab import ops
from gradlab.autograd import no_grad
from gradlab.backend import Generator, default_generator
from gradlab.nn import Module, ModuleList
from gradlab.tensor import Tensor

__all__ = ["Ensemble", "bagging", "bootstrap_indices", "snapshot_ensemble"]


class Ensemble(Module):
    r"""Model averaging (Goodfellow et al. 2016, sec. 7.11; Breiman 1996):

    .. math:: p(y \mid x) = \frac1k \sum_{j=1}^k \mathrm{softmax}(f_j(x))

    ``forward`` returns :math:`\log p(y \mid x)`: its arg-max is the arg-max
    of the mean probability, and ``CrossEntropyLoss`` applied to it gives
    the ensemble's negative log-likelihood (log-softmax leaves normalized
    log-probabilities unchanged). ``predict_proba`` gives p itself.

    Args:
        models: the members, each mapping inputs (N, ...) to class scores
            (logits) of shape (N, C).
    """

    def __init__(self, models: Sequence[Module]) -> None:
        super().__init__()
        models = list(models)
        if not models or not all(isinstance(m, Module) for m in models):
            raise ValueError(f"Ensemble needs a non-empty list of gradlab.nn.Module, got {models!r}")
        self.members = ModuleList(models)

    def predict_proba(self, x: Tensor) -> Tensor:
        probs = [ops.softmax(m(x), 1) for m in self.members]
        return ops.stack(probs).mean(0)

    def forward(self, x: Tensor) -> Tensor:
        return self.predict_proba(x).clamp(min=1e-30).log()

    def predict(self, x: Tensor) -> Tensor:
        """Class indices: arg-max of the mean probability (eval mode, no grad)."""
        was = self.training
        self.eval()
        with no_grad():
            out = self.predict_proba(x).argmax(1)
        self.train(was)
        return out


def bootstrap_indices(n: int, generator: Generator | None = None) -> np.ndarray:
    """n indices drawn uniformly with replacement from range(n) (a bootstrap
    sample; about 1 - 1/e = 63.2% of the samples appear in it)."""
    return (generator or default_generator).integers(0, n, (n,))


def bagging(
    make_model: Callable[[], Module],
    dataset: Any,
    k: int,
    fit: Callable[[Module, Any], Any] | None = None,
    *,
    make_optimizer: Callable[[Module], Any] | None = None,
    loss_fn: Callable[..., Tensor] | None = None,
    epochs: int = 10,
    batch_size: int = 64,
    generator: Generator | None = None,
) -> Ensemble:
    """Bootstrap aggregating (Breiman 1996): train k models, each on its own
    bootstrap resample of ``dataset``, and average them.

    Args:
        make_model: returns a fresh model.
        dataset: a map-style dataset (e.g. ``TensorDataset(x, y)``).
        k: number of members.
        fit: ``fit(model, loader)`` trains one member; by default a Trainer
            with ``make_optimizer(model)`` and ``loss_fn`` for ``epochs``.
        generator: source of the resamples and of the loaders' order.

    Returns:
        the :class:`Ensemble`; its ``samples`` attribute lists each member's
        bootstrap indices.
    """
    from gradlab.data import DataLoader, Subset

    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"bagging: k must be an integer >= 1, got {k!r}")
    if fit is None and (make_optimizer is None or loss_fn is None):
        raise ValueError("bagging: give either fit(model, loader) or both make_optimizer and loss_fn")
    gen = generator or default_generator
    members, samples = [], []
    for _ in range(k):
        indices = bootstrap_indices(len(dataset), gen)
        loader = DataLoader(
            Subset(dataset, indices.tolist()), batch_size=batch_size, shuffle=True, generator=gen
        )
        model = make_model()
        if fit is not None:
            fit(model, loader)
        else:
            from gradlab.train.trainer import Trainer

            Trainer(model, make_optimizer(model), loss_fn).fit(loader, epochs=epochs)
        members.append(model)
        samples.append(indices)
    ensemble = Ensemble(members)
    ensemble.samples = samples
    return ensemble


def snapshot_ensemble(make_model: Callable[[], Module], snapshots: Sequence[dict[str, Any]]) -> Ensemble:
    """The snapshot ensemble's predictor (Huang et al. 2017): each snapshot
    (a weights dict, e.g. from :class:`~gradlab.train.callbacks.SnapshotEnsemble`)
    loaded into a fresh ``make_model()``, the probabilities averaged."""
    from gradlab.train.callbacks._weights import load_state

    if not snapshots:
        raise ValueError(
            "snapshot_ensemble needs at least one snapshot; was training long enough to end a cycle?"
        )
    members = []
    for snap in snapshots:
        model = make_model()
        load_state(model, snap)
        model.eval()
        members.append(model)
    return Ensemble(members).eval()

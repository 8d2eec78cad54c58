"""Copies of a model's weights as host-independent arrays, shared by the
callbacks that keep or restore weights."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gradlab import backend
from gradlab.autograd import no_grad
from gradlab.tensor import Tensor

if TYPE_CHECKING:
    from gradlab.nn import Module
    from gradlab.train.trainer import Trainer


def copy_state(model: Module) -> dict[str, Any]:
    """A snapshot of ``model.state_dict()`` (parameters and buffers) as
    arrays that later updates do not change."""
    return {k: v.array.copy() for k, v in model.state_dict().items()}


def load_state(model: Module, state: dict[str, Any]) -> None:
    """Write a snapshot taken by :func:`copy_state` back into ``model``."""
    current = model.state_dict()
    with no_grad():
        for key, value in state.items():
            target = current[key]
            array = value.array if isinstance(value, Tensor) else value
            target.array[...] = backend.to_device(array, target.device)


def evaluated_state(trainer: Trainer) -> dict[str, Any]:
    """The weights the last evaluation used: an EMA callback's averages when
    there is one, the model's own weights otherwise."""
    from gradlab.train.callbacks.ema import EMA

    for cb in trainer.callbacks:
        if isinstance(cb, EMA) and cb.shadow:
            state = copy_state(trainer.model)
            state.update({k: v.copy() for k, v in cb.shadow.items()})
            return state
    return copy_state(trainer.model)

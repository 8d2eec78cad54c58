"""Run checkpoints: everything a Trainer needs to continue a run exactly.

A run checkpoint is one ``gradlab.save`` file (safetensors + JSON metadata,
written atomically) holding:

- ``model``, ``optimizer``, ``scheduler``: their ``state_dict()``;
- ``train_loader`` / ``val_loader``: the loaders' ``state_dict()`` (epoch
  order, batches handed out, their generators' and transforms' states);
- ``rng``: the state of ``gradlab.default_generator`` and of every explicit
  generator the run uses (Dropout's, a regularizer's, an attack's);
- ``callbacks``: each callback's state (EarlyStopping's best and waiting
  count and best weights, EMA's averages, ...);
- ``history`` and ``progress``: the epochs logged so far, and the position
  in the running epoch with its partial sums, so that the epoch's logged
  means come out the same;
- ``grads``: gradients accumulated but not yet applied (with
  ``grad_accumulation > 1``);
- ``config``: the run's configuration when the Trainer carries one
  (``trainer.run_config``, set by :func:`gradlab.train.recipe.build`), so
  that a resume can refuse a configuration file edited since.

``gradlab.save`` stores a SHA-256 checksum of every array, checked when the
checkpoint is read; :func:`check_finite` refuses a model with nan or
infinite weights.

Restoring these and iterating on from the next batch reproduces, on the
CPU, the same arithmetic in the same order as a run that never stopped,
so the losses agree to the last bit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab import backend, io
from gradlab.autograd import no_grad
from gradlab.tensor import Tensor

if TYPE_CHECKING:
    from gradlab.train.trainer import Trainer

__all__ = ["check_finite", "load_checkpoint", "read_checkpoint", "remove_stale_temporaries",
           "save_checkpoint"]

FORMAT = "gradlab.run/1"


def _state(obj: Any) -> Any:
    return None if obj is None or not hasattr(obj, "state_dict") else obj.state_dict()


def run_state(trainer: Trainer) -> dict[str, Any]:
    """The run state of ``trainer`` as a nested dict (see the module doc)."""
    grads = {name: p.grad for name, p in trainer.model.named_parameters() if p.grad is not None}
    return {
        "format": FORMAT,
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": _state(trainer.scheduler),
        "train_loader": _state(trainer.train_loader),
        "val_loader": _state(trainer.val_loader),
        "rng": {
            "default": backend.default_generator.get_state(),
            "generators": [g.get_state() for g in trainer.generators],
        },
        "callbacks": trainer.callbacks.state_dict(),
        "regularizers": [_state(r) or {} for r in trainer.regularizers],
        "history": trainer.history.state_dict(),
        "progress": {
            "epoch": trainer.epoch,
            "batch_in_epoch": trainer.batch_in_epoch,
            "global_step": trainer.global_step,
            "epochs": trainer.epochs,
            "sums": dict(trainer._sums),
            "counts": dict(trainer._counts),
            "epoch_elapsed": trainer._epoch_elapsed,
            "stop_training": trainer.stop_training,
        },
        "grads": grads,
        "config": getattr(trainer, "run_config", None),
    }


def save_checkpoint(trainer: Trainer, path: str | Path) -> Path:
    """Write ``trainer``'s run state to ``path`` atomically; returns the path."""
    path = Path(path)
    io.save(run_state(trainer), path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and check a run checkpoint (not applying it to anything)."""
    state = io.load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"{str(path)!r} is not a gradlab run checkpoint (format {found!r}, expected {FORMAT!r})"
        )
    missing = [k for k in ("model", "optimizer", "rng", "callbacks", "history", "progress") if k not in state]
    if missing:
        raise ValueError(f"run checkpoint {str(path)!r} is incomplete: it lacks {missing}")
    return state


def check_finite(state: dict[str, Any], path: str | Path) -> None:
    """Refuse a run checkpoint whose model holds nan or infinite values
    (a diverged run's), naming the file and the first such entry."""
    for name, value in state["model"].items():
        array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            bad = "nan" if np.isnan(array).any() else "infinite"
            raise ValueError(
                f"run checkpoint {str(path)!r} holds {bad} values in the model's {name!r}: the run "
                "diverged before it was saved; train again with a lower learning rate (or "
                "--grad-clip), or use another checkpoint of the run"
            )


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files (``.NAME.*.tmp``) that a process killed
    while writing a checkpoint or log in ``folder`` left; returns them."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        if tmp.is_file():
            tmp.unlink()
            removed.append(tmp)
    return removed


def load_checkpoint(trainer: Trainer, path: str | Path) -> dict[str, Any]:
    """Restore a run state saved by :func:`save_checkpoint` into ``trainer``
    (and its loaders, which must be set on it). The model's keys and shapes,
    the presence of a scheduler, the number of generators and the callback
    types are checked before anything is changed, so the usual mismatches (a
    checkpoint of another run) raise a ValueError naming the file and leave
    the trainer as it was; a failure further in (an optimizer state that
    does not fit) also raises a ValueError naming the file. Returns the
    loaded state (the callbacks' states are applied by ``fit``)."""
    state = read_checkpoint(path)
    where = repr(str(path))
    model_keys = set(trainer.model.state_dict())
    saved_keys = set(state["model"])
    if model_keys != saved_keys:
        raise ValueError(
            f"run checkpoint {where} does not match the model: missing keys "
            f"{sorted(model_keys - saved_keys)}, unexpected keys {sorted(saved_keys - model_keys)}"
        )
    for name, value in trainer.model.state_dict().items():
        if tuple(state["model"][name].shape) != tuple(value.shape):
            raise ValueError(
                f"run checkpoint {where} does not match the model: {name} has shape "
                f"{tuple(state['model'][name].shape)} in the file and {tuple(value.shape)} "
                "in the model"
            )
    if (state.get("scheduler") is None) != (trainer.scheduler is None):
        raise ValueError(
            f"run checkpoint {where} was saved {'with' if state.get('scheduler') else 'without'} "
            "a scheduler; this Trainer has "
            f"{'one' if trainer.scheduler is not None else 'none'}"
        )
    generators = trainer.generators
    if len(state["rng"]["generators"]) != len(generators):
        raise ValueError(
            f"run checkpoint {where} holds {len(state['rng']['generators'])} generator states; "
            f"this run uses {len(generators)} explicit generators"
        )
    names = [type(cb).__name__ for cb in trainer.callbacks]
    saved_names = [c.get("type") for c in state["callbacks"]]
    if names != saved_names:
        raise ValueError(
            f"run checkpoint {where} holds the state of callbacks {saved_names}; this Trainer has {names}"
        )
    try:
        trainer.model.load_state_dict(state["model"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        if trainer.scheduler is not None:
            trainer.scheduler.load_state_dict(state["scheduler"])
        for loader_name in ("train_loader", "val_loader"):
            loader, saved = getattr(trainer, loader_name), state.get(loader_name)
            if loader is not None and saved is not None and hasattr(loader, "load_state_dict"):
                loader.load_state_dict(saved)
        for reg, reg_state in zip(trainer.regularizers, state.get("regularizers", [])):
            if hasattr(reg, "load_state_dict"):
                reg.load_state_dict(reg_state)
    except (ValueError, KeyError, TypeError, RuntimeError) as error:
        raise ValueError(f"run checkpoint {where} does not fit this run: {error}") from error
    backend.default_generator.set_state(state["rng"]["default"])
    for g, g_state in zip(generators, state["rng"]["generators"]):
        g.set_state(g_state)
    trainer.history.load_state_dict(state["history"])
    progress = state["progress"]
    trainer.epoch = int(progress["epoch"])
    trainer.batch_in_epoch = int(progress["batch_in_epoch"])
    trainer.global_step = int(progress["global_step"])
    trainer._sums = {k: float(v) for k, v in progress["sums"].items()}
    trainer._counts = {k: float(v) for k, v in progress["counts"].items()}
    trainer._epoch_elapsed = float(progress["epoch_elapsed"])
    trainer.stop_training = bool(progress.get("stop_training", False))
    params = dict(trainer.model.named_parameters())
    with no_grad():
        for p in params.values():
            p.grad = None
        for name, grad in state.get("grads", {}).items():
            p = params[name]
            p.grad = Tensor._make(backend.to_device(grad.array.astype(p.dtype), p.device))
    return state

"""Stop at the first non-finite loss and say where it came from."""

from __future__ import annotations

import math
from typing import Any

from gradlab.autograd import no_grad
from gradlab.train.callbacks.base import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss (or gradient norm) is nan
    or infinite, before the optimizer applies it (Keras's ``TerminateOnNaN``,
    plus a diagnosis).

    The culprit is named in ``self.culprit`` (and printed): the first
    parameter that holds a non-finite value; else the first layer (in
    forward order) whose output on the offending batch is non-finite; else
    the first parameter whose gradient is non-finite; else the loss function
    itself (e.g. log of 0). ``self.stopped_batch`` is the offending batch's
    0-based index in the run; ``self.where`` says where it happened (epoch
    and batch counted from 1, as the progress lines), and :meth:`message`
    gives the whole diagnosis with the likely cause and the usual remedy (the
    :class:`~gradlab.diagnostics.HealthMonitor`'s ``diverging_loss`` and
    ``exploding_gradients`` rules).
    """

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.culprit: str | None = None
        self.stopped_batch: int | None = None
        self.where: str | None = None
        self.values: str | None = None

    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        loss, norm = logs.get("loss", 0.0), logs.get("grad_norm", 0.0)
        if math.isfinite(loss) and math.isfinite(norm):
            return
        self.culprit = self._diagnose(loss)
        self.stopped_batch = self.trainer.global_step
        self.where = f"epoch {self.trainer.epoch + 1}, batch {batch + 1}"
        self.values = f"loss {loss}, gradient norm {norm}"
        self.trainer.stop_training = True
        if self.verbose:
            print(f"TerminateOnNaN: {self.message()}")

    def message(self) -> str:
        """The diagnosis in one line: where, what, the likely cause and the
        remedy (empty before a stop)."""
        if self.where is None:
            return ""
        from gradlab.diagnostics.rules import REMEDIES

        lr = self.trainer.optimizer.param_groups[0]["lr"] if self.trainer is not None else None
        rate = f" (learning rate {lr:.3g} at that step)" if lr is not None else ""
        _, remedy = REMEDIES["diverging_loss"]
        return (
            f"training diverged at {self.where}: {self.values}; first non-finite value: "
            f"{self.culprit}. Likely cause: a learning rate too high for this model{rate}, "
            f"or exploding gradients. Remedy: {remedy}"
        )

    def _diagnose(self, loss: float) -> str:
        model = self.model
        for name, p in model.named_parameters():
            if not _finite(p.array):
                return f"parameter {name}"
        x = self.trainer.last_inputs
        if x is not None:
            found: list[str] = []
            names = {id(m): n for n, m in model.named_modules()}
            handles = []

            def hook(module: Any, args: Any, output: Any) -> None:
                if not found and hasattr(output, "data") and not _finite(output.array):
                    found.append(
                        f"output of layer {names.get(id(module), '?') or 'model'} ({type(module).__name__})"
                    )

            for m in model.modules():
                if not list(m.children()):
                    handles.append(m.register_forward_hook(hook))
            try:
                with no_grad():
                    model(x)
            finally:
                for h in handles:
                    h.remove()
            if found:
                return found[0]
        for name, p in model.named_parameters():
            if p.grad is not None and not _finite(p.grad.array):
                return f"gradient of parameter {name}"
        return "the loss function (its inputs are finite)" if not math.isfinite(loss) else "the gradient norm"

    def state_dict(self) -> dict[str, Any]:
        return {"culprit": self.culprit, "stopped_batch": self.stopped_batch, "where": self.where,
                "values": self.values}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.culprit, self.stopped_batch = state["culprit"], state["stopped_batch"]
        self.where, self.values = state.get("where"), state.get("values")


def _finite(array: Any) -> bool:
    from gradlab.backend import array_module

    return bool(array_module(array).isfinite(array).all())

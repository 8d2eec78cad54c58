"""``Trainer``: the training loop, with callbacks, schedules, regularizers,
gradient clipping and accumulation, and exact resume from run checkpoints."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from gradlab import backend
from gradlab.autograd import no_grad
from gradlab.backend import Generator
from gradlab.nn import Module
from gradlab.nn.utils import clip_grad_norm_
from gradlab.optim import Optimizer
from gradlab.optim.lr_scheduler import CyclicLR, OneCycleLR, ReduceLROnPlateau, Warmup
from gradlab.tensor import Tensor
from gradlab.train import _distributed, _step
from gradlab.train.callbacks.base import Callback, CallbackList
from gradlab.train.history import History
from gradlab.train.interrupt import Interrupted, SigintToFlag
from gradlab.train.metrics import resolve_metrics

__all__ = ["Interrupted", "Trainer"]


def _total_norm(params: list[Tensor]) -> float:
    """||(g_1, ..., g_k)||_2 for logging: one dot product per gradient (a
    BLAS call, much cheaper than clip_grad_norm_'s float64 copies, which
    only clipping needs)."""
    total = 0.0
    for p in params:
        flat = p.grad.array.reshape(-1)
        total += float(backend.array_module(flat).dot(flat, flat))
    return math.sqrt(total)


def _is_plateau(scheduler: Any) -> bool:
    if isinstance(scheduler, ReduceLROnPlateau):
        return True
    return isinstance(scheduler, Warmup) and isinstance(scheduler.after, ReduceLROnPlateau)


class Trainer:
    """Fit a model with an optimizer, as Keras's ``model.fit`` does, on
    gradlab's (PyTorch's) modules, optimizers, schedules and loaders.

    One optimizer step per ``grad_accumulation`` batches (and at the end of
    an epoch) on the gradient of

        J = loss_fn(model(x), y) + sum_r penalty_r(model)

    (each batch's loss divided by ``grad_accumulation``, so that k batches of
    size B give the gradient of one batch of size kB). Before the step the
    total gradient norm is measured (and clipped to ``grad_clip`` when set,
    Pascanu et al. 2013).

    Args:
        model: the network; ``model(x)`` gives one output, or a dict/tuple of
            outputs for a multitask model.
        optimizer: a ``gradlab.optim`` optimizer over the model's parameters.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor``; for a
            multitask model a dict head -> loss function, the total loss being
            ``sum_h loss_weights[h] * loss_h`` (weights 1 by default), each
            head's loss and metrics logged as ``loss_<head>``,
            ``<metric>_<head>``.
        metrics: names ("accuracy", "mae", "mse") or functions
            ``(output, target) -> float``, as a list or a dict name -> metric.
        callbacks: :class:`~gradlab.train.callbacks.Callback` objects.
        scheduler: a learning-rate schedule on ``optimizer``.
        scheduler_interval: "batch" (step after every optimizer step),
            "epoch", or None to choose: OneCycleLR and CyclicLR per batch,
            the others per epoch. ReduceLROnPlateau (alone or behind a
            Warmup, per epoch) is fed ``logs[scheduler_monitor]``, falling
            back to the training ``loss`` when there is no validation.
        regularizers: :mod:`gradlab.train.regularizers` objects.
        grad_clip: maximum total gradient norm (L2), or None.
        grad_accumulation: batches per optimizer step (>= 1).
        device: a device to move the model and batches to (None: leave).
        loss_weights: for a multitask ``loss_fn``, head -> weight.
        adversarial: an :class:`~gradlab.train.adversarial.AdversarialTraining`
            to train on a mix of clean and adversarial examples.
        Under ``mpiexec -n N`` (after :func:`gradlab.distributed.init_process_group`)
        the Trainer trains data-parallel: the model is wrapped in
        :class:`~gradlab.nn.parallel.DistributedDataParallel`, each rank
        trains on its share of every batch, epoch metrics are those of the
        global batches, and only rank 0 writes checkpoints and runs the
        callbacks that print or write files (see
        :mod:`gradlab.train._distributed`).
        generators: every explicit ``gradlab.Generator`` the run draws from
            that the Trainer cannot find itself; the Trainer already finds the
            default generator, the model's modules' ``generator`` attributes
            (Dropout), and the regularizers' and attack's generators. Their
            states go into run checkpoints.

    Example:
        >>> trainer = Trainer(model, gradlab.optim.Adam(model.parameters(), lr=1e-3),
        ...                   nn.CrossEntropyLoss(), metrics=["accuracy"])
        >>> history = trainer.fit(train_loader, val_loader, epochs=10)
        >>> history["val_accuracy"][-1]
    """

    def __init__(
        self,
        model: Module,
        optimizer: Optimizer,
        loss_fn: Callable[..., Tensor] | Mapping[str, Callable[..., Tensor]],
        metrics: Any = None,
        callbacks: Iterable[Callback] | None = None,
        scheduler: Any = None,
        regularizers: Iterable[Any] | None = None,
        grad_clip: float | None = None,
        grad_accumulation: int = 1,
        device: str | backend.Device | None = None,
        *,
        scheduler_interval: str | None = None,
        scheduler_monitor: str = "val_loss",
        loss_weights: Mapping[str, float] | None = None,
        adversarial: Any = None,
        generators: Iterable[Generator] | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"model must be a gradlab.nn.Module, got {type(model).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a gradlab.optim.Optimizer, got {type(optimizer).__name__}")
        if not callable(loss_fn) and not isinstance(loss_fn, Mapping):
            raise TypeError(f"loss_fn must be callable or a dict of callables, got {type(loss_fn).__name__}")
        if grad_clip is not None and (
            isinstance(grad_clip, bool) or not isinstance(grad_clip, (int, float)) or not grad_clip > 0
        ):
            raise ValueError(f"grad_clip must be a positive number or None, got {grad_clip!r}")
        if (
            isinstance(grad_accumulation, bool)
            or not isinstance(grad_accumulation, int)
            or grad_accumulation < 1
        ):
            raise ValueError(f"grad_accumulation must be an integer >= 1, got {grad_accumulation!r}")
        if scheduler_interval not in (None, "batch", "epoch"):
            raise ValueError(
                f"scheduler_interval must be 'batch', 'epoch' or None, got {scheduler_interval!r}"
            )
        if scheduler is not None and getattr(scheduler, "optimizer", None) is not optimizer:
            raise ValueError("scheduler must be a schedule on the Trainer's optimizer")
        if scheduler_interval is None and scheduler is not None:
            scheduler_interval = "batch" if isinstance(scheduler, (OneCycleLR, CyclicLR)) else "epoch"
        if scheduler_interval == "batch" and _is_plateau(scheduler):
            raise ValueError(
                "a ReduceLROnPlateau schedule is stepped once per epoch with the monitored "
                "metric; scheduler_interval='batch' is not accepted for it"
            )
        self.device = None if device is None else backend.Device(device)
        self.model = model if self.device is None else model.to(self.device)
        self.optimizer = optimizer
        self.world_size = _distributed.world_size()
        self._net: Module = self.model  # what a training forward calls
        if self.world_size > 1:
            from gradlab.nn.parallel import DistributedDataParallel

            self._net = DistributedDataParallel(self.model, find_unused_parameters=True)
        self.loss_fn = loss_fn
        self.multitask = isinstance(loss_fn, Mapping)
        self.loss_weights = dict(loss_weights or {})
        if self.multitask:
            unknown = set(self.loss_weights) - set(loss_fn)
            if unknown:
                raise ValueError(
                    f"loss_weights has heads {sorted(unknown)} that loss_fn does not: "
                    f"expected a subset of {sorted(loss_fn)}"
                )
        elif self.loss_weights:
            raise ValueError("loss_weights needs a multitask loss_fn (a dict head -> loss)")
        if adversarial is not None and self.multitask:
            raise ValueError("adversarial training needs a single-task loss_fn")
        self.metrics = resolve_metrics(metrics)
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.regularizers = list(regularizers or [])
        self.grad_clip = grad_clip
        self.grad_accumulation = grad_accumulation
        self.adversarial = adversarial
        self._extra_generators = list(generators or [])
        for i, g in enumerate(self._extra_generators):
            if not isinstance(g, Generator):
                raise TypeError(f"generators[{i}] must be a gradlab.Generator, got {type(g).__name__}")
        self.callbacks = CallbackList(callbacks, self)
        self.history = History()
        self.stop_training = False
        self.epoch = 0  # the running (or next) epoch
        self.epochs = 0  # the epoch count fit was asked for
        self.global_step = 0  # batches trained in the whole run
        self.batch_in_epoch = 0
        self._sums: dict[str, float] = {}
        self._counts: dict[str, float] = {}
        self._epoch_elapsed = 0.0
        self._interrupt_requested = False
        self.train_loader: Any = None
        self.val_loader: Any = None
        self.last_inputs: Any = None
        self._pending_saves: list[tuple[Path, bool]] | None = None

    # ------------------------------------------------------------------ state
    @property
    def generators(self) -> list[Generator]:
        """The explicit generators whose states a run checkpoint keeps."""
        found: list[Generator] = []
        candidates = [getattr(m, "generator", None) for m in self.model.modules()]
        for owner in [*self.regularizers, self.adversarial]:
            candidates.append(getattr(owner, "generator", None))
        candidates.extend(self._extra_generators)
        for g in candidates:
            if (
                isinstance(g, Generator)
                and g is not backend.default_generator
                and all(g is not f for f in found)
            ):
                found.append(g)
        return found

    def request_interrupt(self) -> None:
        """Stop ``fit`` at the end of the current batch, writing a run
        checkpoint (what Ctrl-C does)."""
        self._interrupt_requested = True

    def save_checkpoint(self, path: str | Path) -> Path:
        """Write the whole run state (see :mod:`gradlab.train.checkpoint`);
        in a distributed run only rank 0 writes (all ranks hold the same)."""
        from gradlab.train.checkpoint import save_checkpoint

        if not _distributed.is_main_process():
            return Path(path)
        return save_checkpoint(self, path)

    def load_checkpoint(self, path: str | Path) -> dict[str, Any]:
        from gradlab.train.checkpoint import load_checkpoint

        return load_checkpoint(self, path)

    # -------------------------------------------------------------------- fit
    def fit(
        self,
        train_loader: Iterable[Any],
        val_loader: Iterable[Any] | None = None,
        epochs: int = 1,
        *,
        checkpoint_path: str | Path | None = None,
        resume_from: str | Path | None = None,
    ) -> History:
        """Train for ``epochs`` epochs (in total, counting the epochs of a
        resumed run) and return the :class:`History`.

        Each epoch logs the means over the epoch of ``loss`` and the metrics
        (training mode, as they were computed batch by batch), then
        ``val_loss`` and ``val_<metric>`` on ``val_loader`` (eval mode),
        ``lr`` (the first group's rate at the end of the epoch),
        ``grad_norm`` (the mean total gradient norm before clipping) and
        ``time`` (seconds).

        Args:
            checkpoint_path: where an interrupt (Ctrl-C, or
                :meth:`request_interrupt`) writes a run checkpoint before
                ``fit`` raises :class:`Interrupted`.
            resume_from: a run checkpoint to continue: the run goes on from
                the batch after the one it was saved at and gives, on the
                CPU, the same numbers bit for bit as a run never stopped
                (build the same model, optimizer, schedule, loaders and
                callbacks first).
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
        self.train_loader, self.val_loader, self.epochs = train_loader, val_loader, epochs
        self.stop_training = False
        self._interrupt_requested = False
        if resume_from is None:
            self.history = History()
            self.epoch, self.global_step, self.batch_in_epoch = 0, 0, 0
            callback_states = None
        else:
            callback_states = self.load_checkpoint(resume_from)["callbacks"]
        self.callbacks.on_train_begin({"resumed": resume_from is not None})
        if callback_states is not None:
            self.callbacks.load_state_dict(callback_states)
        if self.world_size > 1:
            _distributed.separate_random_streams(self, train_loader)
        with SigintToFlag(self):
            while self.epoch < epochs and not self.stop_training:
                self._run_epoch(checkpoint_path)
        self.callbacks.on_train_end({"epochs": self.epoch})
        return self.history

    def _run_epoch(self, checkpoint_path: str | Path | None) -> None:
        if self.batch_in_epoch == 0:
            self._sums, self._counts, self._epoch_elapsed = {}, {}, 0.0
            self.callbacks.on_epoch_begin(self.epoch)
        started = time.perf_counter()
        self.model.train()
        n_batches = len(self.train_loader) if hasattr(self.train_loader, "__len__") else None
        for batch in self.train_loader:
            index = self.batch_in_epoch
            self.callbacks.on_train_batch_begin(index)
            last = n_batches is not None and index + 1 == n_batches
            logs = self._train_batch(batch, index, last)
            self.batch_in_epoch += 1
            self.global_step += 1
            self.callbacks.on_train_batch_end(index, logs)
            interrupt = self._agree_to_stop()
            if self.stop_training:
                break
            if interrupt and not last:
                self._epoch_elapsed += time.perf_counter() - started
                self._interrupt(checkpoint_path)
        self._epoch_elapsed += time.perf_counter() - started
        if self.grad_accumulation > 1 and self._pending_grads() and not self.stop_training:
            if self.world_size > 1:  # accumulated under no_sync: average them now
                _distributed.average_gradients(self.model)
            self._optimizer_step(self.batch_in_epoch - 1, {})  # an epoch's last partial accumulation
        logs = self._epoch_logs()
        if self.val_loader is not None:  # also after an early stop: the callbacks monitor val_*
            logs.update({f"val_{k}": v for k, v in self.evaluate(self.val_loader).items()})
        if self.scheduler is not None and self.scheduler_interval == "epoch" and not self.stop_training:
            if _is_plateau(self.scheduler):
                metric = logs.get(self.scheduler_monitor, logs.get("loss"))
                self.scheduler.step(metric)
            else:
                self.scheduler.step()
        logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
        logs["time"] = self._epoch_elapsed
        finished = self.epoch
        # The run state moves to the next epoch before the callbacks see the
        # logs, so a checkpoint they ask for resumes at the next epoch.
        self.epoch += 1
        self.batch_in_epoch = 0
        self._sums, self._counts, self._epoch_elapsed = {}, {}, 0.0
        self._pending_saves = []
        self.callbacks.on_epoch_end(finished, logs)
        self.history.append(finished, logs)  # last, as Keras's History callback
        for path, weights_only in self._pending_saves:
            self._write(path, weights_only)
        self._pending_saves = None
        # a Ctrl-C may reach the ranks on either side of this point
        if self._agree_to_stop() and self.epoch < self.epochs and not self.stop_training:
            self._interrupt(checkpoint_path)

    def _agree_to_stop(self) -> bool:
        """Whether to interrupt here; with several processes, whether any rank
        was asked to (one allreduce, so that every rank stops at the same
        batch; ``stop_training`` too becomes true on all when true on any).

        The reduced value decides but never clears this rank's own request:
        a signal that arrives during the allreduce, after the flag was read,
        joins the next one instead of being lost."""
        if self.world_size == 1:
            return self._interrupt_requested
        interrupt, self.stop_training = _distributed.any_rank(self._interrupt_requested, self.stop_training)
        self._interrupt_requested = self._interrupt_requested or interrupt
        return interrupt

    def save_at_epoch_end(self, path: str | Path, weights_only: bool = False) -> None:
        """Write a checkpoint once every callback has seen the finished
        epoch (what :class:`ModelCheckpoint` uses); outside ``on_epoch_end``
        it is written at once."""
        if self._pending_saves is None:
            self._write(path, weights_only)
        else:
            self._pending_saves.append((Path(path), weights_only))

    def _write(self, path: str | Path, weights_only: bool) -> None:
        from gradlab import io

        if not _distributed.is_main_process():
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if weights_only:
            io.save(self.model.state_dict(), path)
        else:
            self.save_checkpoint(path)

    def _interrupt(self, checkpoint_path: str | Path | None) -> None:
        saved = self.save_checkpoint(checkpoint_path) if checkpoint_path is not None else None
        raise Interrupted(saved)

    # ------------------------------------------------------------ one batch
    def _train_batch(self, batch: Any, index: int, last: bool) -> dict[str, float]:
        x, target = _step.split_batch(batch, self.device)
        scale = 1.0
        if self.world_size > 1:  # this rank's share; see train/_distributed.py
            n_global = _step.batch_size(x)
            _distributed.check_share(n_global)
            x, target = _distributed.share(x, n_global), _distributed.share(target, n_global)
            scale = self.world_size * _step.batch_size(x) / n_global
        self.last_inputs = x
        n = _step.batch_size(x)
        for reg in self.regularizers:
            reg.before_forward(self.model)
        output, loss, parts = self._forward_loss(x, target)
        total = loss
        penalties = [p for p in (reg.penalty(self.model) for reg in self.regularizers) if p is not None]
        for p in penalties:
            total = total + p
        scale /= self.grad_accumulation
        steps = (index + 1) % self.grad_accumulation == 0 or last
        with contextlib.nullcontext() if steps or self._net is self.model else self._net.no_sync():
            (total * scale if scale != 1.0 else total).backward()
        for reg in self.regularizers:
            reg.after_backward(self.model)
        logs = {"loss": float(total.item()), "size": n}
        if penalties:
            logs["penalty"] = float(sum(float(p.item()) for p in penalties))
        logs.update(parts)
        logs.update(self._metrics(output, target))
        if steps:
            self._optimizer_step(index, logs)
        for key, value in logs.items():
            if key != "size":
                self._sums[key] = self._sums.get(key, 0.0) + value * n
                self._counts[key] = self._counts.get(key, 0.0) + n
        return logs

    def _forward_loss(self, x: Any, target: Any) -> tuple[Any, Tensor, dict[str, float]]:
        if self.adversarial is not None:
            return self.adversarial.forward_loss(self._net, self.loss_fn, x, target)
        output = self._net(x)
        loss, parts = _step.compute_loss(self.loss_fn, self.loss_weights, output, target, self.multitask)
        return output, loss, parts

    def _metrics(self, output: Any, target: Any) -> dict[str, float]:
        heads = list(self.loss_fn) if self.multitask else None
        return _step.compute_metrics(self.metrics, output, target, self.multitask, heads)

    def _pending_grads(self) -> bool:
        return any(p.grad is not None for p in self.model.parameters())

    def _optimizer_step(self, index: int, logs: dict[str, float]) -> None:
        params = [p for p in self.model.parameters() if p.grad is not None]
        if self.grad_clip is not None:
            logs["grad_norm"] = float(clip_grad_norm_(params, self.grad_clip).item())
        else:
            logs["grad_norm"] = _total_norm(params)
        self.callbacks.on_before_optimizer_step(index, logs)
        if self.stop_training:
            return
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.scheduler is not None and self.scheduler_interval == "batch":
            self.scheduler.step()

    def _epoch_logs(self) -> dict[str, float]:
        sums, counts = self._sums, self._counts
        if self.world_size > 1:
            sums, counts = _distributed.sum_over_ranks(sums, counts)
        return {k: sums[k] / counts[k] for k in sums if counts.get(k)}

    # ------------------------------------------------------- evaluate, predict
    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """Mean loss and metrics over ``loader`` in eval mode, without
        gradients (regularization penalties are not included)."""
        self.callbacks.on_test_begin()
        was_training = self.model.training
        self.model.eval()
        sums: dict[str, float] = {}
        total = 0
        with no_grad():
            for batch in loader:
                x, target = _step.split_batch(batch, self.device)
                output = self.model(x)
                loss, parts = _step.compute_loss(
                    self.loss_fn, self.loss_weights, output, target, self.multitask
                )
                n = _step.batch_size(x)
                values = {"loss": float(loss.item()), **parts, **self._metrics(output, target)}
                for key, value in values.items():
                    sums[key] = sums.get(key, 0.0) + value * n
                total += n
        self.model.train(was_training)
        logs = {k: v / total for k, v in sums.items()} if total else {}
        self.callbacks.on_test_end(logs)
        return logs

    def predict(self, loader: Iterable[Any]) -> Any:
        """The model's outputs on every batch of ``loader`` (inputs first in
        each batch), concatenated along the batch axis, in eval mode."""
        from gradlab.ops import cat

        self.callbacks.on_predict_begin()
        was_training = self.model.training
        self.model.eval()
        outputs = []
        with no_grad():
            for batch in loader:
                x, _ = _step.split_batch(batch, self.device)
                outputs.append(self.model(x))
        self.model.train(was_training)
        self.callbacks.on_predict_end()
        if not outputs:
            raise ValueError("predict got an empty loader")
        if isinstance(outputs[0], dict):
            return {k: cat([o[k] for o in outputs]) for k in outputs[0]}
        if isinstance(outputs[0], (tuple, list)):
            return tuple(cat([o[i] for o in outputs]) for i in range(len(outputs[0])))
        return cat(outputs)

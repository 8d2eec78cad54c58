"""The TensorBoard callback (Keras's ``keras.callbacks.TensorBoard``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradlab.train.callbacks.base import Callback

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Log a training run for TensorBoard, as Keras's callback does.

    Two runs are written, so that TensorBoard draws training and validation
    in the same chart: ``log_dir/train`` gets ``epoch_<name>`` for every
    logged training value (``epoch_loss``, ``epoch_accuracy``,
    ``epoch_learning_rate``), ``log_dir/validation`` gets ``epoch_<name>``
    for every ``val_<name>``. The x axis is the epoch (0-based).
    Every ``histogram_freq`` epochs the histogram of each parameter is
    written to ``train`` under its ``named_parameters`` name. With
    ``update_freq="batch"`` (or an integer N: every N batches) the batch
    loss and metrics also go to ``train`` as ``batch_<name>``, with the
    global step as x.

    Args:
        log_dir: the folder TensorBoard is pointed at
            (``tensorboard --logdir log_dir``).
        histogram_freq: epochs between parameter histograms (0: none).
        update_freq: ``"epoch"``, ``"batch"`` or a number of batches.

    Example:
        >>> trainer = Trainer(model, opt, loss, callbacks=[TensorBoard("runs/tb", histogram_freq=1)])
    """

    main_process_only = True  # writes files: rank 0 only in a distributed run

    def __init__(self, log_dir: str | Path = "logs", histogram_freq: int = 0,
                 update_freq: str | int = "epoch") -> None:
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an integer >= 0, got {histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or an integer >= 1, got {update_freq!r}"
            )
        self.log_dir = Path(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = update_freq
        self._train: Any = None
        self._validation: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        from gradlab.utils.tensorboard import SummaryWriter

        self._train = SummaryWriter(self.log_dir / "train")
        self._validation = SummaryWriter(self.log_dir / "validation")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.update_freq == "epoch" or self._train is None:
            return
        step = self.trainer.global_step if self.trainer is not None else batch
        if step % self.update_freq == 0:
            for key, value in _numbers(logs).items():
                self._train.add_scalar(f"batch_{key}", value, step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._train is None:
            return
        for key, value in _numbers(logs).items():
            if key.startswith("val_"):
                self._validation.add_scalar(f"epoch_{key[4:]}", value, epoch)
            else:
                name = "learning_rate" if key == "lr" else key
                self._train.add_scalar(f"epoch_{name}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, p in self.model.named_parameters():
                self._train.add_histogram(name, p, epoch)
        self._train.flush()
        self._validation.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        for writer in (self._train, self._validation):
            if writer is not None:
                writer.close()
        self._train = self._validation = None


def _numbers(logs: dict | None) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in (logs or {}).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }

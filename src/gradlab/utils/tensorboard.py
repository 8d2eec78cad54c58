"""``gradlab.utils.tensorboard.SummaryWriter``: PyTorch's TensorBoard writer.

The event files are written by ``tensorboardX`` (a maintained writer of the
standard TensorBoard event format, whose ``SummaryWriter`` has the same
methods as PyTorch's); this module turns gradlab Tensors into NumPy arrays
and checks the arguments. Install it with ``pip install gradlab[tensorboard]``,
then view the logs with ``tensorboard --logdir runs``.

Example:
    >>> from gradlab.utils.tensorboard import SummaryWriter
    >>> with SummaryWriter("runs/demo") as writer:
    ...     for step in range(100):
    ...         writer.add_scalar("loss", 1.0 / (step + 1), step)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.tensor import Tensor

__all__ = ["SummaryWriter"]


def _writer_library() -> Any:
    try:
        import tensorboardX
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "gradlab.utils.tensorboard needs the tensorboardX package: pip install 'gradlab[tensorboard]'"
        ) from None
    return tensorboardX


def _numpy(value: Any, name: str) -> np.ndarray:
    """A NumPy copy of a Tensor, array, list or number."""
    if isinstance(value, Tensor):
        return np.asarray(backend.to_device(value.array, backend.CPU))
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a Tensor, array or number, got {type(value).__name__}") from None


def _scalar(value: Any, name: str) -> float:
    array = _numpy(value, name)
    if array.size != 1:
        raise ValueError(f"{name} must hold one number, got shape {array.shape}")
    return float(array.reshape(()))


def _step(global_step: Any) -> int | None:
    if global_step is None:
        return None
    if isinstance(global_step, bool) or not isinstance(global_step, (int, np.integer)) or global_step < 0:
        raise ValueError(f"global_step must be an integer >= 0 or None, got {global_step!r}")
    return int(global_step)


def _tag(tag: Any, name: str = "tag") -> str:
    if not isinstance(tag, str) or not tag:
        raise ValueError(f"{name} must be a non-empty string, got {tag!r}")
    return tag


class SummaryWriter:
    """Write TensorBoard event files into ``log_dir`` (PyTorch's
    ``torch.utils.tensorboard.SummaryWriter``).

    Args:
        log_dir: the folder of the event files; None: ``runs/<date>_<host>``
            as PyTorch names it.
        comment: appended to the default ``log_dir``.
        purge_step: events at or after this step in earlier files of the same
            folder are hidden by TensorBoard (a resumed run overwrites them).
        max_queue: events kept in memory before they are written.
        flush_secs: seconds between automatic flushes.
        filename_suffix: appended to the event file names.

    Every ``add_*`` method takes a ``global_step`` (the x axis) and an
    optional ``walltime`` (seconds since the epoch; now by default).
    """

    def __init__(
        self,
        log_dir: str | Path | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        library = _writer_library()
        self._writer = library.SummaryWriter(
            logdir=None if log_dir is None else str(log_dir),
            comment=comment,
            purge_step=_step(purge_step),
            max_queue=max_queue,
            flush_secs=flush_secs,
            filename_suffix=filename_suffix,
        )
        self.log_dir: str = self._writer.logdir
        self._runs: dict[str, Any] = {}  # the sub-runs of add_scalars, by folder

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    def add_scalar(
        self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """One point of the curve ``tag``."""
        value = _scalar(scalar_value, "scalar_value")
        self._writer.add_scalar(_tag(tag), value, _step(global_step), walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Several curves in one chart: each key of ``tag_scalar_dict`` is
        written to its own run folder ``log_dir/main_tag_key`` under the tag
        ``main_tag``, as PyTorch does."""
        if not isinstance(tag_scalar_dict, dict) or not tag_scalar_dict:
            raise ValueError(
                f"tag_scalar_dict must be a non-empty dict of name -> number, got {tag_scalar_dict!r}"
            )
        main_tag = _tag(main_tag, "main_tag")
        step = _step(global_step)
        for key, value in tag_scalar_dict.items():
            run = f"{self.log_dir}/{main_tag.replace('/', '_')}_{_tag(key, 'tag_scalar_dict key')}"
            if run not in self._runs:
                self._runs[run] = _writer_library().SummaryWriter(logdir=run)
            self._runs[run].add_scalar(main_tag, _scalar(value, f"tag_scalar_dict[{key!r}]"), step, walltime)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: str | int = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """A histogram of ``values`` (bins as ``numpy.histogram`` takes them,
        or ``"tensorflow"``: TensorFlow's exponential buckets)."""
        array = _numpy(values, "values").astype(np.float64).ravel()
        if array.size == 0:
            raise ValueError(f"add_histogram({tag!r}): values is empty")
        self._writer.add_histogram(_tag(tag), array, _step(global_step), bins, walltime, max_bins)

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """An image: floats in [0, 1] or uint8 in [0, 255], laid out as
        ``dataformats`` says (``CHW``, ``HWC`` or ``HW``)."""
        if dataformats not in ("CHW", "HWC", "HW"):
            raise ValueError(f"dataformats must be 'CHW', 'HWC' or 'HW', got {dataformats!r}")
        array = _numpy(img_tensor, "img_tensor")
        if array.ndim != len(dataformats):
            raise ValueError(
                f"add_image({tag!r}): img_tensor has shape {array.shape}, expected {len(dataformats)} "
                f"dimensions for dataformats {dataformats!r}"
            )
        self._writer.add_image(_tag(tag), array, _step(global_step), walltime, dataformats=dataformats)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """A matplotlib figure (or a list of them), rendered to an image."""
        self._writer.add_figure(_tag(tag), figure, _step(global_step), close, walltime)

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Text (Markdown) shown in TensorBoard's text tab."""
        if not isinstance(text_string, str):
            raise TypeError(f"text_string must be a str, got {type(text_string).__name__}")
        self._writer.add_text(_tag(tag), text_string, _step(global_step), walltime)

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list] | None = None,
        run_name: str | None = None,
    ) -> None:
        """One row of TensorBoard's hyperparameter table: the run's
        hyperparameters (numbers, strings, booleans) and the metrics they
        gave, written to a sub-run ``run_name`` (a timestamp by default), as
        PyTorch does. ``hparam_domain_discrete`` (PyTorch's list of allowed
        values per hyperparameter) is not supported by the writer library."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("hparam_dict and metric_dict must be dicts")
        if hparam_domain_discrete is not None:
            raise NotImplementedError("add_hparams: hparam_domain_discrete is not supported; leave it None")
        for key, value in hparam_dict.items():
            if not isinstance(value, (bool, int, float, str)) and value is not None:
                raise ValueError(
                    f"hparam_dict[{key!r}] = {value!r}: expected a number, string, bool or None"
                )
        metrics = {
            _tag(k, "metric_dict key"): _scalar(v, f"metric_dict[{k!r}]") for k, v in metric_dict.items()
        }
        self._writer.add_hparams(hparam_dict, metrics, name=run_name)

    def flush(self) -> None:
        """Write pending events to disk."""
        for writer in (self._writer, *self._runs.values()):
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files."""
        for writer in (self._writer, *self._runs.values()):
            writer.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""Run folders: what ``gradlab train``, ``resume`` and ``evaluate`` do, as
library functions.

A run folder (``runs/<timestamp>/``) holds ``config.toml`` (the resolved
configuration: enough to rebuild the run), ``metrics.csv`` (one row per
epoch, epochs counted from 1 as on the console), ``curves.png`` (losses, accuracies and learning rate),
``best.ckpt`` and ``last.ckpt`` (run checkpoints: the best epoch by the
monitored metric, and the latest epoch or interrupt),
``summary.json`` (the final test metrics), ``summary.txt`` (the model's
layers, :func:`gradlab.summary`) and, with ``--tensorboard``,
``tensorboard/`` (event files for ``tensorboard --logdir``).

A run that fails before its first epoch ends (a bad layer list, no GPU,
corrupt data, Ctrl-C while the data loads) leaves no run folder behind. A
run whose loss or gradient norm stops being finite is stopped and reported
(:class:`~gradlab.train._errors.Diverged`); ``best.ckpt`` never holds a
non-finite model.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import gradlab
from gradlab.threads import get_num_threads, set_num_threads
from gradlab.train import _resume, recipe
from gradlab.train._distributed import dist_keys, is_main_process, world_size
from gradlab.train._errors import ConfigError, Diverged
from gradlab.train.callbacks import ProgressBar, TerminateOnNaN
from gradlab.train.callbacks._weights import load_state
from gradlab.train.checkpoint import check_finite, read_checkpoint, remove_stale_temporaries
from gradlab.train.history import History

__all__ = [
    "blas_threads",
    "evaluate_run",
    "new_run_dir",
    "plot_curves",
    "read_config",
    "resume_run",
    "train_run",
    "write_config",
]


# -------------------------------------------------------------- config file
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def write_config(config: dict[str, Any], path: Path) -> None:
    """Write a configuration (scalars at the top, one table per section) as
    TOML; :func:`read_config` reads it back unchanged."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for key, table in config.items():
        if isinstance(table, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    text = "\n".join(lines) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)  # open's permissions: the user's umask
    tmp.replace(path)


def load_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing or malformed file raises
    ConfigError naming it."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    path = Path(path)
    if not path.is_file():
        raise recipe.ConfigError(f"config file {str(path)!r} does not exist")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise recipe.ConfigError(f"config file {str(path)!r} is not valid TOML: {error}") from None


def read_config(run_dir: str | Path) -> dict[str, Any]:
    """The resolved configuration saved in a run folder."""
    return recipe.resolve_config(load_toml(Path(run_dir) / "config.toml"))


def new_run_dir(output: str | Path) -> Path:
    """``output/<UTC timestamp>``, made unique with a suffix if needed.

    Each candidate is created with one ``mkdir`` (atomic): two runs started
    in the same second get different folders.

    Raises:
        NotADirectoryError: ``output`` (or a folder above it) is a file.
    """
    output = Path(output)
    for above in (output, *output.parents):
        if above.exists() and not above.is_dir():
            raise NotADirectoryError(
                f"output {str(output)!r} cannot hold run folders: {str(above)!r} is a file, not a folder"
            )
    output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = output / stamp
    path, n = base, 1
    while True:
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1
            path = Path(f"{base}-{n}")


def _remove_unstarted(run_dir: Path) -> None:
    """Remove a run folder that holds nothing to resume or look at (no
    checkpoint, no metrics): only its config.toml and temporaries."""
    if any((run_dir / name).exists() for name in ("last.ckpt", "best.ckpt", "metrics.csv")):
        return
    for name in ("config.toml", ".config.toml.tmp"):
        (run_dir / name).unlink(missing_ok=True)
    remove_stale_temporaries(run_dir)
    with contextlib.suppress(OSError):  # not empty: something else is in it, keep it
        run_dir.rmdir()


# ---------------------------------------------------------------- figures
def plot_curves(history: History, path: Path) -> None:
    """Training and validation loss, accuracy, and the learning rate per
    epoch, in one PNG (matplotlib's Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [e + 1 for e in history.epoch]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, title in ((axes[0], "loss", "loss"), (axes[1], "accuracy", "accuracy")):
        for name, style in ((key, "-"), (f"val_{key}", "--")):
            if name in history:
                ax.plot(epochs, history[name], style, label=name)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.legend()
    if "lr" in history:
        axes[2].plot(epochs, history["lr"])
    axes[2].set_title("learning rate (end of epoch)")
    axes[2].set_xlabel("epoch")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- running
@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Compute with ``n`` threads while training (0: leave the count as it
    is), Numba's kernels and the BLAS alike (:func:`gradlab.set_num_threads`),
    and restore the previous count afterwards. The default recipe's matrices
    are small (a few hundred rows): more threads only add synchronization,
    and on a busy machine waiting for a second thread slows every parallel
    call down several times."""
    if n <= 0:
        yield
        return
    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


def _quiet_overflow() -> Any:
    """NumPy's overflow and invalid-value warnings off while fitting: a run
    that diverges is stopped and reported in one clear message
    (TerminateOnNaN), which the warnings would only bury."""
    return np.errstate(over="ignore", invalid="ignore")


def _output(out: Any) -> Any:
    """Where a run prints: ``out`` (default stdout) on rank 0, nowhere on
    the other ranks of a distributed run."""
    if is_main_process():
        return out or sys.stdout
    return open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process's run


def _progress(stream: Any) -> ProgressBar:
    return ProgressBar(stream=stream)


def _finish(parts: recipe.Parts, run_dir: Path, out: Any) -> dict[str, float]:
    test = parts.trainer.evaluate(parts.test_loader)
    n = len(parts.data.y_test)
    if not is_main_process():
        return {"test_loss": test["loss"], "test_accuracy": test["accuracy"]}
    summary = {
        "test_loss": test["loss"],
        "test_accuracy": test["accuracy"],
        "test_samples": n,
        "epochs_trained": len(parts.trainer.history),
        "run_dir": str(run_dir),
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot_curves(parts.trainer.history, run_dir / "curves.png")
    correct = round(test["accuracy"] * n)
    out.write(f"test accuracy: {100 * test['accuracy']:.2f}% ({correct}/{n}), test loss {test['loss']:.4f}\n")
    out.write(f"run folder: {run_dir} (config.toml, metrics.csv, curves.png, best.ckpt, last.ckpt)\n")
    out.flush()
    return summary


def _extra_callbacks(run_dir: Path, tensorboard: bool) -> list[Any]:
    """The callbacks asked for on the command line: TensorBoard logs in
    ``run_dir/tensorboard`` (also when resuming a run that has them)."""
    if not (tensorboard or (run_dir / "tensorboard").is_dir()):
        return []
    from gradlab.train.callbacks.tensorboard import TensorBoard

    return [TensorBoard(run_dir / "tensorboard", histogram_freq=1)]


def write_model_summary(parts: recipe.Parts, run_dir: Path, out: Any) -> None:
    """Print the model summary in one line and save its table as
    ``summary.txt`` in the run folder."""
    from gradlab.summary import summary

    device = parts.config["device"]
    batch = parts.data.x_train[: parts.config["batch_size"]]
    x = gradlab.tensor(batch, device=None if device == "cpu" else device)
    table = summary(parts.model, input_data=x)
    (run_dir / "summary.txt").write_text(str(table) + "\n")
    out.write(f"model {table.compact()}; table in summary.txt\n")


def train_run(
    config: dict[str, Any], run_dir: Path | None = None, out: Any = None, tensorboard: bool = False
) -> dict[str, float]:
    """Train the recipe of ``config`` in a new run folder (or ``run_dir``)
    and return the summary (test loss and accuracy). Ctrl-C writes
    ``last.ckpt`` at the end of the running batch and raises
    :class:`~gradlab.train.Interrupted`; :func:`resume_run` continues.
    With ``tensorboard``, TensorBoard logs go to ``run_dir/tensorboard``.
    In a distributed run only rank 0 prints and writes the run folder."""
    out = _output(out)
    main = is_main_process()
    created = run_dir is None
    if main:
        run_dir = new_run_dir(config["output"]) if created else Path(run_dir)
    if world_size() > 1:  # every rank needs rank 0's folder name
        run_dir = Path(dist_keys([str(run_dir)])[0])
    try:
        if main:
            run_dir.mkdir(parents=True, exist_ok=True)
            write_config(config, run_dir / "config.toml")
            if tensorboard:
                (run_dir / "tensorboard").mkdir(exist_ok=True)
        parts = recipe.build(
            config, run_dir, progress=_progress(out), extra_callbacks=_extra_callbacks(run_dir, tensorboard)
        )
        out.write(
            f"training {config['model']['name']} on {config['data']['name']} "
            f"({len(parts.data.y_train)} train / {len(parts.data.y_val)} val / "
            f"{len(parts.data.y_test)} test) for up to {config['epochs']} epochs (counted from 1); "
            f"run folder {run_dir}\n"
        )
        if main:
            write_model_summary(parts, run_dir, out)
        out.flush()
        with blas_threads(config["threads"]), _quiet_overflow():
            parts.trainer.fit(
                parts.train_loader,
                parts.val_loader,
                epochs=config["epochs"],
                checkpoint_path=run_dir / "last.ckpt",
            )
    except BaseException:
        if created and main:
            _remove_unstarted(run_dir)
        raise
    _raise_if_diverged(parts, run_dir)
    with blas_threads(config["threads"]):
        return _finish(parts, run_dir, out)


def _raise_if_diverged(parts: recipe.Parts, run_dir: Path) -> None:
    for callback in parts.trainer.callbacks:
        if isinstance(callback, TerminateOnNaN) and callback.where is not None:
            best = "best.ckpt holds the best finite model" if (run_dir / "best.ckpt").is_file() else (
                "no epoch finished with a finite model, so there is no best.ckpt"
            )
            raise Diverged(f"{callback.message()} Run folder {run_dir}: {best}.")


def resume_run(run_dir: str | Path, out: Any = None, epochs: int | None = None) -> dict[str, float]:
    """Continue the run in ``run_dir`` from its ``last.ckpt``, exactly where
    it stopped, and finish it as :func:`train_run` does.

    ``epochs`` extends a run to that many epochs in all (a finished one
    included). The learning-rate schedule is then planned again for the new
    length, as if the run had been started with it, and continues from the
    current step: a cosine or one-cycle schedule, which had decayed to about
    0 at the old end, goes back up to where the longer schedule stands at
    that step and decays to 0 at the new end; step, exponential and plateau
    schedules do not depend on the length and carry on unchanged. A run that
    early stopping ended cannot be extended (its patience is spent).

    A run that is complete is not trained again: a line says so. A
    ``config.toml`` edited since the checkpoint was written (except
    ``threads``, ``device`` and ``output``) is refused, naming the keys.

    Raises:
        FileNotFoundError: no ``last.ckpt`` in ``run_dir``.
        ConfigError: the configuration no longer matches the checkpoint, or
            ``epochs`` is not above the epochs already trained.
        ValueError: a corrupt checkpoint, or one holding non-finite weights.
        Diverged: the run had stopped because it diverged.
    """
    out = _output(out)
    run_dir = Path(run_dir)
    checkpoint = run_dir / "last.ckpt"
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{str(run_dir)!r} has no last.ckpt to resume from (is it a run folder?)")
    if is_main_process():
        remove_stale_temporaries(run_dir)  # of a process killed while writing
    config = read_config(run_dir)
    state = read_checkpoint(checkpoint)
    check_finite(state, checkpoint)
    if state.get("config") is not None:
        _resume.check_unchanged(recipe.resolve_config(state["config"]), config, run_dir)
    _resume.refuse_diverged(state, run_dir)
    progress = state["progress"]
    done, stopped = int(progress["epoch"]), bool(progress.get("stop_training", False))
    if epochs is not None:
        if stopped:
            raise ConfigError(
                f"the run in {run_dir} was ended by early stopping after {done} epochs; "
                "--epochs cannot extend it (its patience is spent): start a new run instead"
            )
        if epochs <= done:
            raise ConfigError(f"--epochs {epochs} is not accepted: the run in {run_dir} has already "
                              f"trained {done} epochs; expected more")
        config = recipe.resolve_config(config, {"epochs": epochs})
    elif stopped or done >= config["epochs"]:
        why = "early stopping ended it" if stopped else "all epochs are trained"
        out.write(f"{run_dir} is complete ({done} of {config['epochs']} epochs, {why}); its test "
                  f"metrics are in summary.json. To train longer: gradlab resume {run_dir} --epochs N\n")
        summary = run_dir / "summary.json"
        return json.loads(summary.read_text()) if summary.is_file() else {}
    parts = recipe.build(
        config, run_dir, progress=_progress(out), extra_callbacks=_extra_callbacks(run_dir, False)
    )
    if epochs is not None:
        _resume.replan_schedule(state, parts, config, checkpoint)
        if is_main_process():
            write_config(config, run_dir / "config.toml")
        out.write(f"extending {run_dir} to {epochs} epochs (the learning-rate schedule is planned "
                  "again for the new length)\n")
    out.write(f"resuming {run_dir} at epoch {done + 1}, batch {progress['batch_in_epoch']}\n")
    out.flush()
    with blas_threads(config["threads"]), _quiet_overflow():
        parts.trainer.fit(
            parts.train_loader,
            parts.val_loader,
            epochs=config["epochs"],
            checkpoint_path=checkpoint,
            resume_from=checkpoint,
        )
    _raise_if_diverged(parts, run_dir)
    with blas_threads(config["threads"]):
        return _finish(parts, run_dir, out)


def find_checkpoint(target: str | Path) -> tuple[Path, Path]:
    """(run folder, checkpoint) for a run folder (its ``best.ckpt``, else
    ``last.ckpt``) or for one checkpoint file in a run folder."""
    target = Path(target)
    if target.is_dir():
        run_dir = target
        checkpoint = next((run_dir / n for n in ("best.ckpt", "last.ckpt") if (run_dir / n).is_file()), None)
        if checkpoint is None:
            raise FileNotFoundError(f"{str(run_dir)!r} holds no best.ckpt or last.ckpt")
        return run_dir, checkpoint
    if target.is_file():
        return target.parent, target
    raise FileNotFoundError(f"{str(target)!r} is neither a run folder nor a checkpoint file")


def load_run_weights(model: Any, checkpoint: Path, run_dir: Path) -> None:
    """Load a run checkpoint's weights into ``model`` (built from the run's
    config): its EMA averages where the run kept them, as training evaluated
    them. A checkpoint with non-finite values, or of another model, is refused."""
    state = read_checkpoint(checkpoint)
    check_finite(state, checkpoint)
    try:
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, ValueError) as error:
        raise ValueError(
            f"checkpoint {str(checkpoint)!r} does not match the model of {run_dir}/config.toml: {error}"
        ) from None
    for saved in state["callbacks"]:
        if saved["type"] == "EMA":
            load_state(model, saved["state"]["shadow"])


def evaluate_run(target: str | Path, out: Any = None) -> dict[str, float]:
    """Test loss and accuracy of a run folder's best checkpoint (or of a
    given checkpoint file in a run folder). EMA averages in the checkpoint,
    if any, are what is evaluated, as during training."""
    out = out or sys.stdout
    run_dir, checkpoint = find_checkpoint(target)
    config = read_config(run_dir)
    parts = recipe.build(config, None)
    load_run_weights(parts.model, checkpoint, run_dir)
    with blas_threads(config["threads"]):
        test = parts.trainer.evaluate(parts.test_loader)
    n = len(parts.data.y_test)
    out.write(
        f"{checkpoint}: test accuracy {100 * test['accuracy']:.2f}% ({round(test['accuracy'] * n)}/{n}), "
        f"test loss {test['loss']:.4f}\n"
    )
    return {"test_loss": test["loss"], "test_accuracy": test["accuracy"], "test_samples": n}

"""Run folders: what ``gradlab train``, ``resume`` and ``evaluate`` do, as
library functions.

A run folder (``runs/<timestamp>/``) holds ``config.toml`` (the resolved
configuration: enough to rebuild the run), ``metrics.csv`` (one row per
epoch), ``curves.png`` (losses, accuracies and learning rate),
``best.ckpt`` and ``last.ckpt`` (run checkpoints: the best epoch by the
monitored metric, and the latest epoch or interrupt), and
``summary.json`` (the final test metrics).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gradlab.threads import get_num_threads, set_num_threads
from gradlab.train import recipe
from gradlab.train.callbacks import ProgressBar
from gradlab.train.callbacks._weights import load_state
from gradlab.train.checkpoint import read_checkpoint
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
    path.write_text("\n".join(lines) + "\n")


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
    """``output/<UTC timestamp>``, made unique with a suffix if needed."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = Path(output) / stamp
    path, n = base, 1
    while path.exists():
        n += 1
        path = Path(f"{base}-{n}")
    path.mkdir(parents=True)
    return path


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


def _progress(stream: Any) -> ProgressBar:
    return ProgressBar(stream=stream)


def _finish(parts: recipe.Parts, run_dir: Path, out: Any) -> dict[str, float]:
    test = parts.trainer.evaluate(parts.test_loader)
    n = len(parts.data.y_test)
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


def train_run(config: dict[str, Any], run_dir: Path | None = None, out: Any = None) -> dict[str, float]:
    """Train the recipe of ``config`` in a new run folder (or ``run_dir``)
    and return the summary (test loss and accuracy). Ctrl-C writes
    ``last.ckpt`` at the end of the running batch and raises
    :class:`~gradlab.train.Interrupted`; :func:`resume_run` continues."""
    out = out or sys.stdout
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(config["output"])
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(config, run_dir / "config.toml")
    parts = recipe.build(config, run_dir, progress=_progress(out))
    out.write(
        f"training {config['model']['name']} on {config['data']['name']} "
        f"({len(parts.data.y_train)} train / {len(parts.data.y_val)} val / {len(parts.data.y_test)} test) "
        f"for up to {config['epochs']} epochs; run folder {run_dir}\n"
    )
    with blas_threads(config["threads"]):
        parts.trainer.fit(
            parts.train_loader,
            parts.val_loader,
            epochs=config["epochs"],
            checkpoint_path=run_dir / "last.ckpt",
        )
        return _finish(parts, run_dir, out)


def resume_run(run_dir: str | Path, out: Any = None) -> dict[str, float]:
    """Continue the run in ``run_dir`` from its ``last.ckpt``, exactly where
    it stopped, and finish it as :func:`train_run` does."""
    out = out or sys.stdout
    run_dir = Path(run_dir)
    checkpoint = run_dir / "last.ckpt"
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{str(run_dir)!r} has no last.ckpt to resume from (is it a run folder?)")
    config = read_config(run_dir)
    parts = recipe.build(config, run_dir, progress=_progress(out))
    state = read_checkpoint(checkpoint)["progress"]
    out.write(f"resuming {run_dir} at epoch {state['epoch'] + 1}, batch {state['batch_in_epoch']}\n")
    with blas_threads(config["threads"]):
        parts.trainer.fit(
            parts.train_loader,
            parts.val_loader,
            epochs=config["epochs"],
            checkpoint_path=checkpoint,
            resume_from=checkpoint,
        )
        return _finish(parts, run_dir, out)


def evaluate_run(target: str | Path, out: Any = None) -> dict[str, float]:
    """Test loss and accuracy of a run folder's best checkpoint (or of a
    given checkpoint file in a run folder). EMA averages in the checkpoint,
    if any, are what is evaluated, as during training."""
    out = out or sys.stdout
    target = Path(target)
    if target.is_dir():
        run_dir = target
        checkpoint = next((run_dir / n for n in ("best.ckpt", "last.ckpt") if (run_dir / n).is_file()), None)
        if checkpoint is None:
            raise FileNotFoundError(f"{str(run_dir)!r} holds no best.ckpt or last.ckpt")
    elif target.is_file():
        run_dir, checkpoint = target.parent, target
    else:
        raise FileNotFoundError(f"{str(target)!r} is neither a run folder nor a checkpoint file")
    config = read_config(run_dir)
    parts = recipe.build(config, None)
    state = read_checkpoint(checkpoint)
    try:
        parts.model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, ValueError) as error:
        raise ValueError(
            f"checkpoint {str(checkpoint)!r} does not match the model of {run_dir}/config.toml: {error}"
        ) from None
    for saved in state["callbacks"]:
        if saved["type"] == "EMA":
            load_state(parts.model, saved["state"]["shadow"])
    with blas_threads(config["threads"]):
        test = parts.trainer.evaluate(parts.test_loader)
    n = len(parts.data.y_test)
    out.write(
        f"{checkpoint}: test accuracy {100 * test['accuracy']:.2f}% ({round(test['accuracy'] * n)}/{n}), "
        f"test loss {test['loss']:.4f}\n"
    )
    return {"test_loss": test["loss"], "test_accuracy": test["accuracy"], "test_samples": n}

"""The ``gradlab`` command: argument parsing only; the work is done by
:mod:`gradlab.train.run` and :mod:`gradlab.train.recipe`.

    gradlab train [--config FILE.toml] [options]   train (default: CNN on digits)
    gradlab evaluate RUN_DIR_OR_CHECKPOINT         test accuracy of a run
    gradlab resume RUN_DIR [--epochs N]            continue an interrupted run (or extend one)
    gradlab diagnose [--config FILE.toml] [options] short run + HealthMonitor report
                                                   and OUTPUT/<time>/diagnostics.png
    gradlab export RUN_DIR_OR_CHECKPOINT OUT.onnx  the run's model as ONNX
    gradlab experiment list                        the lab's experiments
    gradlab experiment run NAME [--quick] [--seed N] [--out DIR]

Every subcommand runs inside one handler (:func:`_run`), so that every user
mistake ends as one line ``gradlab <command>: error: ...``: a bad option,
configuration value or path exits with status 2, a corrupt checkpoint, a
missing GPU or a diverged run with status 1. A real bug still shows its
traceback. Ctrl-C and SIGTERM stop a run at the end of the batch, write
``last.ckpt`` and exit with 130 and 143 (128 + the signal), printing how to
resume; a second one, or one outside training, exits at once without a
traceback; a closed output pipe (``gradlab ... | head``) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


# option -> (config key, type); None type means a flag
_OPTIONS: list[tuple[str, str, Any, str]] = [
    ("--model", "model.name", str, "mlp, cnn or layers (a list in the config file)"),
    ("--data", "data.name", str, "digits, mnist:PATH, fashion-mnist:PATH or cifar10:PATH"),
    ("--optimizer", "optimizer.name", str, "sgd, adam, adamw, nadam, rmsprop or adagrad"),
    ("--lr", "optimizer.lr", float, "learning rate"),
    ("--weight-decay", "optimizer.weight_decay", float, "weight decay (not on biases and norms)"),
    ("--momentum", "optimizer.momentum", float, "momentum (sgd, rmsprop)"),
    ("--schedule", "schedule.name", str, "none, cosine, step, exponential, onecycle or plateau"),
    ("--warmup-epochs", "schedule.warmup_epochs", int, "epochs of linear warmup"),
    ("--epochs", "epochs", int, "maximum number of epochs"),
    ("--batch-size", "batch_size", int, "batch size"),
    ("--dropout", "model.dropout", float, "dropout probability"),
    ("--label-smoothing", "regularization.label_smoothing", float, "label smoothing"),
    ("--l1", "regularization.l1", float, "L1 penalty on the weights"),
    ("--l2", "regularization.l2", float, "L2 penalty on the weights"),
    ("--weight-noise", "regularization.weight_noise", float, "std of Gaussian weight noise"),
    ("--grad-clip", "regularization.grad_clip", float, "max gradient norm (0: off)"),
    ("--ema", "regularization.ema", float, "EMA decay of the weights for evaluation (0: off)"),
    ("--translate", "augmentation.translate", int, "random shift in pixels (0: off)"),
    ("--rotation", "augmentation.rotation", float, "random rotation in degrees (0: off)"),
    ("--mixup", "augmentation.mixup", float, "MixUp alpha (0: off)"),
    ("--cutout", "augmentation.cutout", int, "Cutout square size (0: off)"),
    ("--patience", "early_stopping.patience", int, "early-stopping patience in epochs (0: off)"),
    ("--seed", "seed", int, "random seed"),
    ("--output", "output", str, "folder that receives the run folder"),
    ("--device", "device", str, "cpu or cuda"),
    ("--threads", "threads", int, "BLAS threads while training (0: as the environment sets)"),
]


def _parser() -> _Parser:
    import gradlab

    parser = _Parser(prog="gradlab", description="Train and evaluate networks with gradlab.")
    parser.add_argument("--version", action="version", version=f"gradlab {gradlab.__version__}")
    sub = parser.add_subparsers(
        dest="command", parser_class=_Parser, metavar="{train,diagnose,evaluate,resume,export,experiment}"
    )
    sub.required = True
    train = sub.add_parser(
        "train",
        help="train a model (default: a small CNN on the bundled digits)",
        description="Train a model. Options override the config file, which overrides "
        "the defaults (gradlab.train.recipe.DEFAULTS).",
    )
    diagnose = sub.add_parser(
        "diagnose",
        help="a short training (3 epochs unless --epochs) watched by a HealthMonitor, then its report",
        description="Train the configured recipe briefly and report vanishing or exploding "
        "activations and gradients, dead or saturated units, update ratios, diverging or "
        "plateaued loss and over- or underfitting, each with its usual remedy.",
    )
    from gradlab.train.recipe import DEFAULTS

    for command in (train, diagnose):
        command.add_argument("--config", help="a TOML file with the same keys as the defaults")
        for flag, key, kind, text in _OPTIONS:
            default: Any = DEFAULTS
            for part in key.split("."):
                default = default[part]
            metavar = flag.lstrip("-").upper().replace("-", "_")
            command.add_argument(
                flag,
                dest=key,
                type=kind,
                default=None,
                metavar=metavar,
                help=f"{text} (config key {key}, default {default!r})",
            )
        command.add_argument("--no-augment", action="store_true", help="no data augmentation")
    train.add_argument("--tensorboard", action="store_true",
                       help="also write TensorBoard logs to RUN_FOLDER/tensorboard")
    evaluate = sub.add_parser("evaluate", help="test accuracy of a run folder or checkpoint")
    evaluate.add_argument("target", metavar="RUN_OR_CHECKPOINT")
    resume = sub.add_parser(
        "resume",
        help="continue an interrupted run exactly where it stopped (or extend it with --epochs)",
        description="Continue a run from its last.ckpt. With --epochs N, extend it (a finished "
        "run too) to N epochs in all; the learning-rate schedule is then planned again for N "
        "epochs and continues from the current step (cosine and one-cycle go back up to where "
        "the longer schedule stands, then decay to the new end).",
    )
    resume.add_argument("run_dir", metavar="RUN_DIR")
    resume.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                        help="train to N epochs in all (more than already trained)")
    for command in (train, resume):
        command.add_argument(
            "--processes", type=_positive_int, default=None, metavar="N",
            help="train data-parallel in N processes (launches mpiexec; needs gradlab[distributed])",
        )
    export = sub.add_parser("export", help="write the model of a run folder (best.ckpt) as ONNX",
                            description="Export the model of a run folder or checkpoint to an ONNX "
                            "file (gradlab.onnx.export; needs pip install 'gradlab[onnx]'), with a "
                            "dynamic batch size.")
    export.add_argument("target", metavar="RUN_OR_CHECKPOINT")
    export.add_argument("path", metavar="OUT.onnx")
    export.add_argument("--opset", type=int, default=17, help="ONNX opset version (default 17)")
    _add_experiment(sub)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _add_experiment(sub: Any) -> None:
    experiment = sub.add_parser("experiment", help="the lab: reproduce a classic experiment",
                                description="List or run the lab's experiments (gradlab.lab).")
    actions = experiment.add_subparsers(dest="action", parser_class=_Parser, metavar="{list,run}")
    actions.required = True
    actions.add_parser("list", help="name and one-line summary of each experiment")
    run = actions.add_parser("run", help="run one experiment and write its report",
                             description="Run an experiment; its report (README.md, numbers.json, "
                             "PNG figures) goes to --out.")
    run.add_argument("name", metavar="NAME", help="an experiment name from 'gradlab experiment list'")
    run.add_argument("--quick", action="store_true", help="a small version that runs in seconds")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--out", metavar="DIR", help="report folder (default lab/NAME)")


def _experiment(args: argparse.Namespace) -> int:
    from gradlab import lab

    if args.action == "list":
        width = max(map(len, lab.EXPERIMENTS))
        for name in lab.EXPERIMENTS:
            print(f"{name:<{width}}  {lab.describe(name)}")
        return 0
    if args.name not in lab.EXPERIMENTS:
        raise _usage_error(f"unknown experiment {args.name!r}; expected one of: {', '.join(lab.EXPERIMENTS)}")
    if args.seed < 0:
        raise _usage_error(f"--seed must be >= 0, got {args.seed}")
    out = Path(args.out or f"lab/{args.name}")
    if out.exists() and not out.is_dir():  # before the experiment runs, not after
        raise NotADirectoryError(f"--out {str(out)!r} is a file, not a folder for the report")
    report = lab.run(args.name, quick=args.quick, seed=args.seed)
    page = report.write(out)
    print(report.summary())
    print(f"report: {page}")
    return 0


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for _, key, _, _ in _OPTIONS:
        value = getattr(args, key)
        if value is None:
            continue
        node = tree
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    if args.no_augment:
        tree.setdefault("augmentation", {}).update(
            {"translate": 0, "rotation": 0.0, "mixup": 0.0, "cutout": 0}
        )
    return tree


def _usage_error(message: str) -> Exception:
    from gradlab.train.recipe import ConfigError

    return ConfigError(message)


def _join_mpi_processes() -> None:
    """Under mpiexec (``--processes N`` or the user's own launch), join the
    other processes: the run trains data-parallel."""
    from gradlab import distributed

    if distributed._launched_by_mpi() and not distributed.is_initialized():
        distributed.init_process_group()


def _launch(processes: int, argv: list[str]) -> int | None:
    """Run this command again in ``processes`` processes under mpiexec and
    return its exit status; None when this process is already one of them
    (or only one is asked for)."""
    import shutil
    import subprocess

    from gradlab.distributed import _launched_by_mpi

    if processes == 1 or _launched_by_mpi():
        return None
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = here if os.path.exists(here) else shutil.which("mpiexec")
    if mpiexec is None:
        raise _usage_error("--processes needs MPI (mpiexec was not found): "
                           "pip install 'gradlab[distributed]'")
    return subprocess.call([mpiexec, "-n", str(processes), sys.executable, "-m", "gradlab.cli", *argv])


def _train(args: argparse.Namespace) -> int:
    from gradlab.train import recipe, run

    _join_mpi_processes()
    file_config = run.load_toml(args.config) if args.config else {}
    run.train_run(recipe.resolve_config(file_config, _overrides(args)), tensorboard=args.tensorboard)
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    from gradlab.diagnostics import diagnose
    from gradlab.train import recipe, run

    file_config = run.load_toml(args.config) if args.config else {}
    config = recipe.resolve_config(file_config, _overrides(args))
    folder = run.new_run_dir(config["output"])
    diagnose(config, epochs=config["epochs"] if args.epochs is not None else 3,
             plot=folder / "diagnostics.png")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from gradlab.train import run

    _join_mpi_processes()
    run.resume_run(args.run_dir, epochs=args.epochs)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from gradlab.train import run

    run.evaluate_run(args.target)
    return 0


def _export(args: argparse.Namespace) -> int:
    from gradlab.onnx.run_folder import export_run

    export_run(args.target, args.path, opset_version=args.opset)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": _train,
    "diagnose": _diagnose,
    "evaluate": _evaluate,
    "resume": _resume,
    "export": _export,
    "experiment": _experiment,
}

# a path that names nothing usable: the user's mistake (status 2)
_PATH_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError, PermissionError)


def _run(command: str, handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one subcommand; user mistakes, interrupts and a closed pipe end
    as one line (or none) and an exit status instead of a traceback."""
    from gradlab.train import Interrupted
    from gradlab.train._errors import ConfigError, Diverged
    from gradlab.train.interrupt import raise_aborted

    def fail(error: BaseException, status: int) -> int:
        sys.stderr.write(f"gradlab {command}: error: {error}\n")
        return status

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, raise_aborted) if in_main else None
    try:
        return handler(args)
    except ConfigError as error:
        return fail(error, 2)
    except _PATH_ERRORS as error:
        return fail(error, 2)
    except Diverged as error:
        return fail(error, 1)
    except (ValueError, RuntimeError) as error:  # a corrupt checkpoint, no GPU for --device cuda, ...
        return fail(error, 1)
    except BrokenPipeError:
        _silence_stdout()
        return 128 + signal.SIGPIPE
    except Interrupted as stop:
        name = signal.Signals(stop.signal).name
        where = f"; checkpoint {stop.checkpoint}" if stop.checkpoint else ""
        hint = f"; continue with: gradlab resume {stop.checkpoint.parent}" if stop.checkpoint else ""
        from gradlab import distributed

        if distributed.get_rank() == 0:
            sys.stderr.write(f"gradlab {command}: interrupted ({name}) at the end of a batch{where}{hint}\n")
        if distributed.is_initialized():  # no rank leaves before rank 0 has written and said so
            distributed.barrier()
        return 128 + stop.signal
    except KeyboardInterrupt as stop:  # a second Ctrl-C, or one outside training
        signum = getattr(stop, "signal", signal.SIGINT)
        sys.stderr.write(
            f"gradlab {command}: aborted ({signal.Signals(signum).name}); a run folder keeps the "
            "last.ckpt of its last finished epoch, if any\n"
        )
        return 128 + signum
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so that the flush at
    exit does not raise again (the Python documentation's recipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gradlab`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    if getattr(args, "processes", None) is not None:
        launched = _run(args.command, lambda a: _launch(a.processes, sys.argv[1:] if argv is None else argv),
                        args)
        if launched is not None:
            return launched
    return _run(args.command, COMMANDS[args.command], args)


if __name__ == "__main__":
    sys.exit(main())

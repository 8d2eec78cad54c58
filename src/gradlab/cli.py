"""The ``gradlab`` command: argument parsing only; the work is done by
:mod:`gradlab.train.run` and :mod:`gradlab.train.recipe`.

    gradlab train [--config FILE.toml] [options]   train (default: CNN on digits)
    gradlab evaluate RUN_DIR_OR_CHECKPOINT         test accuracy of a run
    gradlab resume RUN_DIR                         continue an interrupted run
    gradlab diagnose [--config FILE.toml] [options] short run + HealthMonitor report
    gradlab experiment list                        the lab's experiments
    gradlab experiment run NAME [--quick] [--seed N] [--out DIR]

A bad option or configuration value prints one line naming it and the
accepted values, and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


# option -> (config key, type); None type means a flag
_OPTIONS: list[tuple[str, str, Any, str]] = [
    ("--model", "model.name", str, "mlp, cnn, cnn1d (1-D signals) or layers (a list in the config file)"),
    ("--data", "data.name", str, "digits, mnist1d, mnist:PATH, fashion-mnist:PATH or cifar10:PATH"),
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
    parser = _Parser(prog="gradlab", description="Train and evaluate networks with gradlab.")
    sub = parser.add_subparsers(
        dest="command", parser_class=_Parser, metavar="{train,diagnose,evaluate,resume,experiment}"
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
    evaluate = sub.add_parser("evaluate", help="test accuracy of a run folder or checkpoint")
    evaluate.add_argument("target", metavar="RUN_OR_CHECKPOINT")
    resume = sub.add_parser("resume", help="continue an interrupted run exactly where it stopped")
    resume.add_argument("run_dir", metavar="RUN_DIR")
    _add_experiment(sub)
    return parser


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
        sys.stderr.write(f"gradlab experiment: error: unknown experiment {args.name!r}; expected one of: "
                         f"{', '.join(lab.EXPERIMENTS)}\n")
        return 2
    if args.seed < 0:
        sys.stderr.write(f"gradlab experiment: error: --seed must be >= 0, got {args.seed}\n")
        return 2
    report = lab.run(args.name, quick=args.quick, seed=args.seed)
    page = report.write(args.out or f"lab/{args.name}")
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gradlab`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "experiment":
        return _experiment(args)
    from gradlab.train import Interrupted, recipe, run

    try:
        if args.command == "train":
            file_config = run.load_toml(args.config) if args.config else {}
            config = recipe.resolve_config(file_config, _overrides(args))
            run.train_run(config)
        elif args.command == "diagnose":
            from gradlab.diagnostics import diagnose

            file_config = run.load_toml(args.config) if args.config else {}
            config = recipe.resolve_config(file_config, _overrides(args))
            diagnose(config, epochs=config["epochs"] if args.epochs is not None else 3)
        elif args.command == "resume":
            run.resume_run(args.run_dir)
        else:
            run.evaluate_run(args.target)
    except recipe.ConfigError as error:
        sys.stderr.write(f"gradlab {args.command}: error: {error}\n")
        return 2
    except FileNotFoundError as error:  # a path argument that names nothing usable
        sys.stderr.write(f"gradlab {args.command}: error: {error}\n")
        return 2
    except (ValueError, RuntimeError) as error:  # a corrupt checkpoint, no GPU for --device cuda, ...
        sys.stderr.write(f"gradlab {args.command}: error: {error}\n")
        return 1
    except Interrupted as stop:
        where = f"; checkpoint {stop.checkpoint}" if stop.checkpoint else ""
        run_dir = stop.checkpoint.parent if stop.checkpoint else None
        hint = f"; continue with: gradlab resume {run_dir}" if run_dir else ""
        sys.stderr.write(f"interrupted{where}{hint}\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

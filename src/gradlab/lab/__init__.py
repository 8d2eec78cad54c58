"""gradlab.lab: the classic experiments about training neural networks, each
reproducible in one command.

    gradlab experiment list
    gradlab experiment run init-activations [--quick] [--seed N] [--out DIR]

or from Python::

    from gradlab import lab
    report = lab.run("batchnorm", quick=True, seed=0)
    print(report.summary())
    report.write("lab/batchnorm")

Each experiment is a module here with ``run(quick=False, seed=0) -> Report``.
A full run takes a few minutes on two cores, ``quick=True`` a few seconds
(smaller networks, fewer steps; its claims still hold). Every number in a
report is measured by the run.
"""

from __future__ import annotations

import importlib
import time

from gradlab.lab.report import Claim, Report, Table

__all__ = ["EXPERIMENTS", "Claim", "Report", "Table", "describe", "run"]

# experiment name -> module in gradlab.lab
EXPERIMENTS: dict[str, str] = {
    "init-activations": "init_activations",
    "zero-init": "zero_init",
    "optimizers": "optimizers",
    "learning-rate": "learning_rate",
    "batchnorm": "batchnorm",
    "activations": "activations",
    "regularization": "regularization",
    "augmentation": "augmentation",
    "ensembles": "ensembles",
    "gradient-clipping": "gradient_clipping",
    "double-descent": "double_descent",
    "adversarial": "adversarial",
    # at a scale where these claims show: MNIST-1D (Greydanus 2020)
    "double-descent-mnist1d": "double_descent_mnist1d",
    "activations-mnist1d": "activations_mnist1d",
    "snapshot-ensembles-mnist1d": "ensembles_mnist1d",
    "mlp-vs-cnn-mnist1d": "mlp_vs_cnn_mnist1d",
}


def _module(name: str):  # noqa: ANN202
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; expected one of: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"gradlab.lab.{EXPERIMENTS[name]}")


def describe(name: str) -> str:
    """The one-line summary of experiment ``name`` (its module docstring's
    first line)."""
    doc = _module(name).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def run(name: str, quick: bool = False, seed: int = 0) -> Report:
    """Run experiment ``name`` and return its :class:`Report` (timed)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    module = _module(name)
    start = time.perf_counter()
    report = module.run(quick=bool(quick), seed=seed)
    report.seconds = time.perf_counter() - start
    return report

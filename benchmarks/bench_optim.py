"""One optimizer step over the parameters of an MLP 784-512-512-10 (float32),
gradlab against torch.optim with foreach off and on.

    python benchmarks/bench_optim.py [--threads N] [--repeat R]

Target (issue 19): gradlab <= 0.9x the faster PyTorch figure, for Adam and for
SGD with momentum (each update is one fused kernel pass per parameter).
"""

import _harness  # noqa: I001 - must come first: pins thread counts
from _harness import measure, report

import numpy as np

import gradlab
from gradlab import optim

SHAPES = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
TARGET = 0.9


def _params(seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in SHAPES]
    return values, grads


def _gradlab_step(kind: str):
    values, grads = _params()
    ps = [gradlab.tensor(v, requires_grad=True) for v in values]
    for p, g in zip(ps, grads):
        p.grad = gradlab.tensor(g)
    opt = optim.Adam(ps, lr=1e-3) if kind == "adam" else optim.SGD(ps, lr=1e-3, momentum=0.9)
    return opt.step


def _torch_step(kind: str, foreach: bool):
    torch = _harness.torch()
    values, grads = _params()
    ps = [torch.tensor(v, requires_grad=True) for v in values]
    for p, g in zip(ps, grads):
        p.grad = torch.tensor(g)
    if kind == "adam":
        opt = torch.optim.Adam(ps, lr=1e-3, foreach=foreach)
    else:
        opt = torch.optim.SGD(ps, lr=1e-3, momentum=0.9, foreach=foreach)
    return opt.step


def main() -> bool:
    kinds = (("adam", "Adam step"), ("sgd", "SGD-momentum step"))
    cases = [(f"{label} vs torch foreach={foreach}", lambda kind=kind: _gradlab_step(kind),
              lambda kind=kind, foreach=foreach: _torch_step(kind, foreach), None)
             for kind, label in kinds for foreach in (False, True)]
    timings = measure(cases)
    rows, detail = [], []
    for (_, label), off, on in zip(kinds, timings[::2], timings[1::2]):
        ours = min(off.ours, on.ours)  # gradlab's step is timed once per torch variant
        rows.append((f"{label} vs faster torch", ours, min(off.theirs, on.theirs), TARGET))
        detail += [(f"{label} vs torch foreach=False", ours, off.theirs, None),
                   (f"{label} vs torch foreach=True", ours, on.theirs, None)]
    return report("optimizer step, MLP 784-512-512-10 float32 (669,706 parameters)", rows + detail)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)

"""One optimizer step over the parameters of an MLP 784-512-512-10 (float32),
gradlab against torch.optim with foreach off and on.

    python benchmarks/bench_optim.py [--threads N] [--repeat R]

Target: gradlab <= 1.2x the faster PyTorch figure.
"""

import _harness  # noqa: I001 - must come first: pins thread counts
from _harness import report, timeit

import numpy as np

import gradlab
from gradlab import optim

SHAPES = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
TARGET = 1.2


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
    ours = {kind: timeit(_gradlab_step(kind)) for kind, _ in kinds}  # before torch loads
    rows, detail = [], []
    for kind, label in kinds:
        off = timeit(_torch_step(kind, foreach=False))
        on = timeit(_torch_step(kind, foreach=True))
        rows.append((f"{label} vs faster torch", ours[kind], min(off, on), TARGET))
        detail.append((f"{label} vs torch foreach=False", ours[kind], off, None))
        detail.append((f"{label} vs torch foreach=True", ours[kind], on, None))
    ok = report("optimizer step, MLP 784-512-512-10 float32 (669,706 parameters)", rows + detail)
    return ok


if __name__ == "__main__":
    main()

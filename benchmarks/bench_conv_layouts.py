"""A 3x3 convolution without the column matrix: measured against gradlab's
im2col convolution on the layers of the CIFAR-size CNN of ``bench_steps.py``.

gradlab convolves by im2col: the columns of each 3x3 convolution are about
nine times its input, written in forward and read back in backward. Issue 19
suggests the layout that avoids them: with the input zero-padded,
channels-last and flattened to rows P = N (H+2)(W+2) of C channels, output
pixel p is sum_k X[p + s_k] W_k over the nine taps k = (i, j), shifted by
s_k = i (W+2) + j rows, each term one (P, C) x (C, O) product of a
contiguous slice (the rows of the padding border are computed and dropped).
Backward is the same in reverse: dX[p + s_k] += dY[p] W_k^T and
dW_k = X[s_k : s_k + P]^T dY, with dY zero on the border rows.

The nine products must add into one output. ``numpy.matmul`` cannot add
into its output, so "nine products, NumPy" pays a temporary and an addition
per tap; "nine products, BLAS beta=1" lets the BLAS add in place through
SciPy's ``sgemm``/``dgemm`` wrappers (beta = 1). Both include the layout
changes to and from NCHW, which a network kept channels-last would skip.
Each time is the best of the rounds, forward plus backward (input gradient
too, except for the first layer, as in a training step).

What it showed (2-core machine, December 2026): with one thread the BLAS
beta=1 way took 0.84x im2col's time over the five layers (0.59x and 0.81x
on the two wide 3x3 layers, 1.5-2.2x on the first and last, which have
few input channels or pixels). With two threads it took 2.5x: SciPy's
wheels bring an OpenBLAS of their own, whose worker threads spin against
NumPy's on the same two cores (``threadpoolctl`` lists both libraries).
Calling NumPy's OpenBLAS directly with beta = 1 would mean raw-pointer
calls, and keeping one pool quiet means managing thread pools, both what
issue 19 removed; with NumPy's matmul alone (a temporary per tap) the
nine products took 1.1-1.3x im2col's time. So gradlab keeps im2col.

    python benchmarks/bench_conv_layouts.py [--threads N] [--repeat R]
"""

import _harness  # noqa: I001 - must come first: pins thread counts
from _harness import timeit

import numpy as np
from scipy.linalg import blas

import gradlab
from gradlab.nn import functional as F

LAYERS = [(3, 32, 32), (32, 32, 32), (32, 64, 16), (64, 64, 16), (64, 128, 8)]
"""(input channels, output channels, height = width) of the five 3x3 layers."""
BATCH = 64


def add_product_numpy(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """out += a b, through a temporary."""
    out += a @ b


def add_product_blas(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """out += a b in the BLAS (beta = 1). SciPy's wrappers take Fortran
    order, so this computes out^T = b^T a^T + out^T on the transposed views
    of C-ordered arrays, which are Fortran-ordered: no copies."""
    gemm = blas.sgemm if out.dtype == np.float32 else blas.dgemm
    result = gemm(1.0, b.T, a.T, beta=1.0, c=out.T, overwrite_c=True)
    if not np.shares_memory(result, out):
        raise RuntimeError("the BLAS did not write into the given output")


def shifted_conv(x: np.ndarray, w: np.ndarray, g: np.ndarray, add_product, input_grad: bool) -> tuple:
    """y = conv2d(x, w, padding=1) and, for the output gradient g, (dx, dw),
    as nine shifted products (see the module docstring)."""
    n, c, h, width = x.shape
    o = w.shape[0]
    wp = width + 2
    rows = n * (h + 2) * wp
    margin = 2 * wp + 2  # the largest shift: reads past the last image stay in bounds
    shifts = [i * wp + j for i in range(3) for j in range(3)]
    taps = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(9, c, o)  # W_k (C, O)

    padded = np.zeros((rows + margin, c), dtype=x.dtype)
    padded[:rows].reshape(n, h + 2, wp, c)[:, 1:-1, 1:-1] = x.transpose(0, 2, 3, 1)
    out = np.zeros((rows, o), dtype=x.dtype)
    for s, tap in zip(shifts, taps):
        add_product(out, padded[s:s + rows], tap)
    y = np.ascontiguousarray(out.reshape(n, h + 2, wp, o)[:, :h, :width].transpose(0, 3, 1, 2))

    grad_rows = np.zeros((rows, o), dtype=x.dtype)
    grad_rows.reshape(n, h + 2, wp, o)[:, :h, :width] = g.transpose(0, 2, 3, 1)
    dw = np.stack([padded[s:s + rows].T @ grad_rows for s in shifts])  # (9, C, O)
    dw = np.ascontiguousarray(dw.reshape(3, 3, c, o).transpose(3, 2, 0, 1))
    dx = None
    if input_grad:
        d_padded = np.zeros((rows + margin, c), dtype=x.dtype)
        for s, tap in zip(shifts, taps):
            add_product(d_padded[s:s + rows], grad_rows, np.ascontiguousarray(tap.T))
        dx = np.ascontiguousarray(
            d_padded[:rows].reshape(n, h + 2, wp, c)[:, 1:-1, 1:-1].transpose(0, 3, 1, 2))
    return y, dx, dw


def im2col_conv(x: np.ndarray, w: np.ndarray, g: np.ndarray, input_grad: bool) -> tuple:
    """gradlab's convolution, forward and backward."""
    xt = gradlab.tensor(x, requires_grad=input_grad)
    wt = gradlab.tensor(w, requires_grad=True)
    F.conv2d(xt, wt, padding=1).backward(gradlab.tensor(g))
    return None, None if xt.grad is None else xt.grad.numpy(), wt.grad.numpy()


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def _layer_times(c: int, o: int, size: int, input_grad: bool, rng: np.random.Generator) -> tuple:
    """The three ways' times for one layer, and the BLAS way's largest
    relative difference from gradlab's gradients."""
    x = rng.standard_normal((BATCH, c, size, size)).astype(np.float32)
    w = rng.standard_normal((o, c, 3, 3)).astype(np.float32)
    g = rng.standard_normal((BATCH, o, size, size)).astype(np.float32)
    runs = [lambda: im2col_conv(x, w, g, input_grad),
            lambda: shifted_conv(x, w, g, add_product_numpy, input_grad),
            lambda: shifted_conv(x, w, g, add_product_blas, input_grad)]
    times = np.array([timeit(run, min_time=0.2, repeat=_harness.ARGS.repeat) for run in runs])
    _, dx_want, dw_want = runs[0]()
    _, dx, dw = runs[2]()
    error = _relative_error(dw, dw_want)
    if input_grad:
        error = max(error, _relative_error(dx, dx_want))
    return times, error


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"\n### 3x3 convolution forward + backward, float32, batch {BATCH} "
          f"(threads={_harness.THREADS}, best of {_harness.ARGS.repeat} rounds)\n")
    print("| layer | im2col (gradlab) | nine products, NumPy | nine products, BLAS beta=1 | "
          "BLAS / im2col | largest relative difference |")
    print("|---|---:|---:|---:|---:|---:|")
    totals = np.zeros(3)
    for index, (c, o, size) in enumerate(LAYERS):
        times, error = _layer_times(c, o, size, index > 0, rng)
        totals += times
        print(f"| {c}->{o}, {size}x{size} | " + " | ".join(f"{t * 1e3:.2f} ms" for t in times)
              + f" | {times[2] / times[0]:.2f} | {error:.1e} |")
    print("| **all five** | " + " | ".join(f"**{t * 1e3:.1f} ms**" for t in totals)
          + f" | **{totals[2] / totals[0]:.2f}** | |")


if __name__ == "__main__":
    main()

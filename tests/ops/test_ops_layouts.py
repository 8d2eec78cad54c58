"""Property tests (hypothesis): an op gives the same values and gradients
whatever the memory layout of its inputs (issue 16 part 4; DESIGN.md
section 2, "Memory layout").

Each input is drawn as a C-ordered array, a Fortran-ordered one, a permuted
view of a C-ordered copy ("transposed"), a strided slice of a larger array
("sliced") or a read-only broadcast view with zero strides ("broadcast"),
and the op's output and the gradients of its inputs are compared with those
computed from C-ordered copies of the same values. A kernel that reads raw
memory in an assumed order gives a wrong answer of the size of the values
themselves, so the tolerance only absorbs BLAS's layout-dependent rounding.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlab
import gradlab.nn.functional as F

SETTINGS = settings(max_examples=30, deadline=None)
LAYOUTS = ("C", "F", "transposed", "sliced", "broadcast")
TOL = 1e-12


def _in_layout(values: np.ndarray, layout: str, rng: np.random.Generator) -> np.ndarray:
    """``values`` (or, for "broadcast", values made constant along one
    axis) stored in ``layout``."""
    if layout == "C":
        return np.ascontiguousarray(values)
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "transposed":
        order = rng.permutation(values.ndim)
        while values.ndim > 1 and np.all(order == np.arange(values.ndim)):
            order = rng.permutation(values.ndim)
        inverse = np.argsort(order)
        return np.ascontiguousarray(values.transpose(order)).transpose(inverse)
    if layout == "sliced":
        big = np.zeros(tuple(2 * n + 1 for n in values.shape))
        window = tuple(slice(1, 1 + 2 * n, 2) for n in values.shape)
        big[window] = values
        return big[window]
    axis = int(rng.integers(values.ndim))
    return np.broadcast_to(values.take([0], axis=axis), values.shape)


def _grads(fn, arrays: list[np.ndarray], upstream_seed: int):
    leaves = [gradlab.from_numpy(a).requires_grad_() for a in arrays]
    out = fn(*leaves)
    rng = np.random.default_rng(upstream_seed)
    upstream = gradlab.tensor(rng.standard_normal(out.shape))
    (out * upstream).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in leaves]


def _check(fn, shapes: list[tuple], layouts: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    stored = [_in_layout(rng.standard_normal(s), layout, rng) for s, layout in zip(shapes, layouts)]
    copies = [np.array(a, order="C") for a in stored]
    out, grads = _grads(fn, stored, seed + 1)
    ref_out, ref_grads = _grads(fn, copies, seed + 1)
    np.testing.assert_allclose(out, ref_out, rtol=TOL, atol=TOL, err_msg="forward")
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        np.testing.assert_allclose(g, r, rtol=TOL, atol=TOL, err_msg=f"gradient of input {i}")


layouts = st.sampled_from(LAYOUTS)
shapes_2d = st.tuples(st.integers(1, 6), st.integers(1, 6))
shapes_3d = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 6))

UNARY = {
    "exp": lambda x: x.exp(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "square": lambda x: x * x,
    "pow3": lambda x: x ** 3,
    "abs-sqrt": lambda x: (x.abs() + 0.5).sqrt(),
    "log1p-abs": lambda x: (x.abs()).log1p(),
    "clamp": lambda x: x.clamp(-0.5, 0.5),
    "gelu": lambda x: F.gelu(x),
    "softplus": lambda x: F.softplus(x),
}
BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - 2 * y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y.abs() + 1),
    "maximum": lambda x, y: gradlab.maximum(x, y),
    "where": lambda x, y: gradlab.where(x > y, x, y * 3),
}
REDUCE = {
    "sum": lambda x: x.sum(),
    "sum-dim": lambda x: x.sum(dim=-1),
    "sum-dim0-keep": lambda x: x.sum(dim=0, keepdim=True),
    "mean": lambda x: x.mean(dim=1),
    "var": lambda x: x.var(dim=0) if x.shape[0] > 1 else x.var(dim=-1) * 0 + x.sum(),
    "max": lambda x: x.max(dim=-1)[0],
    "amax": lambda x: x.amax(dim=0),
    "logsumexp": lambda x: x.logsumexp(dim=-1),
    "softmax": lambda x: x.softmax(dim=-1),
    "log_softmax": lambda x: x.log_softmax(dim=0),
}
MOVEMENT = {
    "reshape": lambda x: x.reshape(-1),
    "view-2d": lambda x: x.reshape(x.shape[0], -1),
    "transpose": lambda x: x.transpose(0, -1),
    "permute": lambda x: x.permute(*reversed(range(x.ndim))),
    "flatten": lambda x: x.flatten(),
    "getitem": lambda x: x[::2, ..., 1:],
    "flip": lambda x: x.flip(0),
    "cat": lambda x: gradlab.cat([x, x * 2], dim=-1),
    "stack": lambda x: gradlab.stack([x, x.exp()], dim=1),
    "pad": lambda x: F.pad(x, (1, 2)),
    "unsqueeze-expand": lambda x: x.unsqueeze(0).expand(3, *x.shape),
    "contiguous": lambda x: x.t().contiguous() if x.ndim == 2 else x.contiguous(),
}


@SETTINGS
@given(op=st.sampled_from(sorted(UNARY)), shape=st.one_of(shapes_2d, shapes_3d),
       layout=layouts, seed=st.integers(0, 2**16))
def test_elementwise_unary(op, shape, layout, seed):
    _check(UNARY[op], [shape], [layout], seed)


@SETTINGS
@given(op=st.sampled_from(sorted(BINARY)), shape=st.one_of(shapes_2d, shapes_3d),
       layout_a=layouts, layout_b=layouts, seed=st.integers(0, 2**16))
def test_elementwise_binary(op, shape, layout_a, layout_b, seed):
    _check(BINARY[op], [shape, shape], [layout_a, layout_b], seed)


@SETTINGS
@given(op=st.sampled_from(sorted(REDUCE)), shape=st.one_of(shapes_2d, shapes_3d),
       layout=layouts, seed=st.integers(0, 2**16))
def test_reductions(op, shape, layout, seed):
    _check(REDUCE[op], [shape], [layout], seed)


@SETTINGS
@given(op=st.sampled_from(sorted(MOVEMENT)), shape=st.one_of(shapes_2d, shapes_3d),
       layout=layouts, seed=st.integers(0, 2**16))
def test_movement(op, shape, layout, seed):
    _check(MOVEMENT[op], [shape], [layout], seed)


@SETTINGS
@given(m=st.integers(1, 6), k=st.integers(1, 40), n=st.integers(1, 6), batch=st.integers(0, 3),
       layout_a=layouts, layout_b=layouts, seed=st.integers(0, 2**16))
def test_matmul(m, k, n, batch, layout_a, layout_b, seed):
    lead = (batch,) if batch else ()
    _check(lambda a, b: a @ b, [lead + (m, k), (k, n)], [layout_a, layout_b], seed)
    _check(lambda a, b: F.linear(a, b), [(m, k), (n, k)], [layout_a, layout_b], seed)


@SETTINGS
@given(n=st.integers(1, 3), c=st.integers(1, 3), hw=st.integers(4, 7), out=st.integers(1, 4),
       stride=st.integers(1, 2), padding=st.integers(0, 1), layout_x=layouts,
       layout_w=layouts, seed=st.integers(0, 2**16))
def test_conv(n, c, hw, out, stride, padding, layout_x, layout_w, seed):
    _check(lambda x, w: F.conv2d(x, w, stride=stride, padding=padding),
           [(n, c, hw, hw), (out, c, 3, 3)], [layout_x, layout_w], seed)
    _check(lambda x, w: F.conv1d(x, w, padding=padding),
           [(n, c, hw + 2), (out, c, 3)], [layout_x, layout_w], seed)


POOL = {
    "max_pool2d": lambda x: F.max_pool2d(x, 2),
    "max_pool2d-stride1": lambda x: F.max_pool2d(x, 3, stride=1, padding=1),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
}


@SETTINGS
@given(op=st.sampled_from(sorted(POOL)), n=st.integers(1, 3), c=st.integers(1, 3),
       h=st.integers(4, 8), w=st.integers(4, 8), layout=layouts, seed=st.integers(0, 2**16))
def test_pooling(op, n, c, h, w, layout, seed):
    _check(POOL[op], [(n, c, h, w)], [layout], seed)


def test_the_layouts_are_what_they_claim():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 4, 5))
    assert _in_layout(values, "C", rng).flags.c_contiguous
    f = _in_layout(values, "F", rng)
    assert f.flags.f_contiguous and not f.flags.c_contiguous
    t = _in_layout(values, "transposed", rng)
    assert not t.flags.c_contiguous and np.array_equal(t, values)
    s = _in_layout(values, "sliced", rng)
    assert not s.flags.c_contiguous and not s.flags.f_contiguous and np.array_equal(s, values)
    b = _in_layout(values, "broadcast", rng)
    assert 0 in b.strides and not b.flags.writeable


class _MemoryOrder(gradlab.autograd.Function):
    """A deliberately wrong kernel: reads its input in storage order."""

    @staticmethod
    def forward(ctx, x):
        return gradlab.from_numpy(x.array.ravel(order="K").reshape(x.shape).copy())

    @staticmethod
    def backward(ctx, g):
        return g


def test_the_check_catches_a_kernel_that_reads_raw_memory():
    _check(_MemoryOrder.apply, [(3, 4)], ["C"], 0)
    with np.testing.assert_raises(AssertionError):
        _check(_MemoryOrder.apply, [(3, 4)], ["F"], 0)

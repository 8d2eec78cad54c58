"""In-place ops on tensors in the graph, against PyTorch: the write is
recorded (the tensor's history moves onto it, writes through views rebase
the base), and backward raises only when it needs an overwritten value."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradlab


def _run(lib, program):
    """Run ``program(lib, a, w)`` on the same float64 leaves in either
    library; the gradients of the leaves, or the error's text."""
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = lib.tensor(rng.standard_normal(3), requires_grad=True)
    try:
        program(lib, a, w).backward()
    except RuntimeError as err:
        return str(err)
    return [None if t.grad is None else t.grad.numpy() for t in (a, w)]


def _same(program):
    expected, actual = _run(torch, program), _run(gradlab, program)
    assert not isinstance(expected, str), expected
    assert not isinstance(actual, str), actual
    for e, g, name in zip(expected, actual, ("a", "w")):
        assert (e is None) == (g is None), name
        if e is not None:
            np.testing.assert_allclose(g, e, atol=1e-12, rtol=1e-12, err_msg=name)


# ------------------------------------------------ programs PyTorch allows
def issue16_buffer(L, a, w):
    out = L.zeros(2, 3, dtype=L.float64)
    out[0] = w * 2
    return out.sum() + w.sum()


def write_into_graph_tensor(L, a, w):
    out = a * 3
    out[1] = w.exp()  # the rest of `out` keeps its gradient to a
    return (out * out).sum()


def loss_accumulated(L, a, w):
    loss = 0.0
    for i in range(3):
        loss += ((a[i] * w) ** 2).sum()
    loss /= 3
    return loss


def bias_added_in_place(L, a, w):
    out = a @ w.reshape(3, 1).expand(3, 2)
    out += w[:2]
    out -= 1.5
    out *= 2
    return (out * out).sum()


def index_then_add(L, a, w):
    x = a * 2
    x[0] += w
    x[1:, 1] *= 3
    return (x * x).sum()


def rnn_outputs_buffer(L, a, w):
    out = L.zeros(4, 3, dtype=L.float64)
    h = L.zeros(3, dtype=L.float64)
    for t in range(4):
        h = (a[t] + h * w).tanh()
        out[t] = h
    return (out ** 2).sum()


def batch_first_column(L, a, w):
    out = L.zeros(3, 4, dtype=L.float64)
    for t in range(4):
        out[:, t] = a[t] * w
    return out.sin().sum()


def copy_into_buffer(L, a, w):
    buf = L.zeros(4, 3, dtype=L.float64)
    buf.copy_(w)  # broadcast
    return (buf * a).sum()


def copy_of_a_value_depending_on_self(L, a, w):
    x = a * 2
    x.copy_(x + w)
    return (x * x).sum()


def mul_and_div_by_tensors(L, a, w):
    x = a + 0
    x.mul_(w)
    x.div_(w.exp())
    return (x * x).sum()


def write_through_slice_view(L, a, w):
    x = a * 1
    x[1:3].mul_(2)
    return (x * x).sum()


def write_through_transpose_view(L, a, w):
    x = a * 1
    x.t()[0].add_(w[0])
    return (x * x).sum()


def write_through_reshape_view(L, a, w):
    x = a * 1
    x.reshape(12)[2:5].mul_(w)
    return (x * x).sum()


def view_then_base_written(L, a, w):
    x = a * 1
    v = x[0]
    x.mul_(3)  # v sees the new values, and its gradient must too
    return (v * v).sum()


def view_of_view_after_writes(L, a, w):
    x = a * 1
    v = x[1]
    u = v[1:]
    x.mul_(2)
    u.mul_(w[1:])
    return (x ** 2).sum() + (v ** 3).sum()


def unsqueezed_view(L, a, w):
    x = a * 1
    v = x.unsqueeze(0)[:, 1]
    v.add_(w)
    return (x * x).sum() + (v * 2).sum()


def advanced_setitem(L, a, w):
    x = a * 1
    x[L.tensor([0, 2])] = w
    x[[0, 2], [1, 2]] = w[:2]
    return (x * x).sum()


def mask_setitem_and_masked_fill(L, a, w):
    x = a * 1
    x[a > 1] = 0.5
    x.masked_fill_(a < -0.5, w[1])
    return (x * x).sum()


def index_put_accumulate(L, a, w):
    x = a * 1
    x.index_put_((L.tensor([0, 0, 2]),), w, accumulate=True)
    return (x * x).sum()


def zero_fill_clamp(L, a, w):
    x = a * 1
    x[1].zero_()
    x[2].fill_(w[0])
    x.clamp_(-0.5, 0.5)
    return (x * a).sum()


def double_backward_through_writes(L, a, w):
    out = L.zeros(4, 3, dtype=L.float64)
    out[1] = w ** 3
    out[2:] = a[2:] ** 2
    (gw,) = L.autograd.grad((out * out).sum(), w, create_graph=True)
    (ga,) = L.autograd.grad((out * out).sum(), a, create_graph=True)
    return (gw * gw).sum() + (ga ** 2).sum()


ALLOWED = [issue16_buffer, write_into_graph_tensor, loss_accumulated, bias_added_in_place,
           index_then_add, rnn_outputs_buffer, batch_first_column, copy_into_buffer,
           copy_of_a_value_depending_on_self, mul_and_div_by_tensors, write_through_slice_view,
           write_through_transpose_view, write_through_reshape_view, view_then_base_written,
           view_of_view_after_writes, unsqueezed_view, advanced_setitem,
           mask_setitem_and_masked_fill, index_put_accumulate, zero_fill_clamp,
           double_backward_through_writes]


@pytest.mark.parametrize("program", ALLOWED, ids=lambda f: f.__name__)
def test_recorded_inplace_gives_pytorchs_gradients(program):
    _same(program)


def test_issue16_buffer_gradient_and_history():
    w = gradlab.ones(3, requires_grad=True)
    out = gradlab.zeros(2, 3)
    out[0] = w * 2
    assert out.requires_grad and out.grad_fn is not None and not out.is_leaf
    (out.sum() + w.sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0, 3.0])


def test_inplace_moves_the_history_and_counts_versions():
    x = gradlab.ones(3, requires_grad=True) * 1
    before = x.grad_fn
    x += 1
    assert x.grad_fn is not before
    assert x._version == 1
    x[0] = 5.0
    assert x._version == 2
    np.testing.assert_array_equal(x.detach().numpy(), [5.0, 2.0, 2.0])


# ------------------------------------------- programs PyTorch refuses
def saved_output_overwritten(L, a, w):
    y = a.exp()
    y.add_(1)
    return y.sum()


def saved_input_overwritten(L, a, w):
    x = a * 1
    y = x * w
    x.zero_()
    return y.sum()


def saved_output_through_detach(L, a, w):
    y = a.tanh()
    y.detach().mul_(2)  # detach() shares the version counter
    return y.sum()


def leaf_in_place(L, a, w):
    a.add_(1)
    return a.sum()


def view_of_leaf_in_place(L, a, w):
    a[0].mul_(2)
    return a.sum()


@pytest.mark.parametrize("program", [saved_output_overwritten, saved_input_overwritten,
                                     saved_output_through_detach, leaf_in_place,
                                     view_of_leaf_in_place], ids=lambda f: f.__name__)
def test_refused_where_pytorch_refuses(program):
    expected, actual = _run(torch, program), _run(gradlab, program)
    assert isinstance(expected, str) and isinstance(actual, str), (expected, actual)
    for phrase in ("modified by an inplace operation", "leaf Variable"):
        assert (phrase in expected) == (phrase in actual), (expected, actual)


def test_error_names_the_op_and_the_versions():
    a = gradlab.ones(3, requires_grad=True)
    y = a.exp()
    y.add_(1)
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"ExpBackward, is at version 2; expected version 0"):
        y.sum().backward()


def test_data_is_outside_version_tracking():
    a = gradlab.ones(3, requires_grad=True)
    y = a.exp()
    y.data.mul_(1.0)  # as PyTorch's .data: unseen by autograd
    assert y._version == 0
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.exp(1.0))


def test_no_grad_writes_values_only():
    p = gradlab.ones(2, 2, requires_grad=True)
    with gradlab.no_grad():
        p[0] = gradlab.tensor([3.0, 4.0], requires_grad=True)
        p.add_(1)
        p.copy_(p * 2)
    assert p.is_leaf and p.grad_fn is None and p._version == 3
    np.testing.assert_array_equal(p.detach().numpy(), [[8.0, 10.0], [4.0, 4.0]])


def test_write_into_expanded_view_is_a_clear_error():
    x = gradlab.ones(3, requires_grad=True) * 1
    e = x.expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.add_(gradlab.ones(2, 3, requires_grad=True))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(gradlab.ones(2, 3, requires_grad=True))


def test_retain_grad_follows_the_latest_value():
    grads = []
    for lib in (torch, gradlab):
        a = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        x = a * 2
        x.retain_grad()
        x.mul_(lib.tensor([0.5, 4.0, -1.0], dtype=lib.float64))
        (x * x).sum().backward()
        grads.append(x.grad.numpy())  # of the value after mul_: 2 x
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-12)


def test_unrecorded_writes_give_clear_errors():
    x = gradlab.ones(3)
    with pytest.raises(RuntimeError, match="single memory location"):
        x.expand(2, 3).add_(1)
    with pytest.raises(RuntimeError, match="single memory location"):
        x.expand(2, 3)[0] = 5.0
    with pytest.raises(RuntimeError, match=r"doesn't match the broadcast shape"):
        x.add_(gradlab.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"doesn't match the broadcast shape"):
        x.copy_(gradlab.ones(2))


class _ExpSavingOutput(gradlab.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_write_into_the_output_of_a_custom_function_that_saved_it_is_detected():
    a = gradlab.ones(3, requires_grad=True)
    y = _ExpSavingOutput.apply(a)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

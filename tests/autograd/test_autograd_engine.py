"""The backward walk: ordering, accumulation, broadcasting, freeing,
higher order, grad modes and the errors DESIGN.md section 8 promises."""

import gc

import numpy as np
import pytest
import torch

import gradlab
from helpers import assert_close, randn


def test_long_chain_backpropagates_without_recursion_error():
    x = gradlab.tensor(1.0, dtype=gradlab.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001 ** 100_000, rel=1e-9)
    del y
    gc.collect()  # freeing the 100,000-node graph must not recurse either


def test_gradient_accumulates_over_reused_nodes_and_calls():
    x = gradlab.tensor([1.0, -2.0, 3.0], dtype=gradlab.float64, requires_grad=True)
    h = x * x  # used twice below
    (h + h * x).sum().backward()
    expected = 2 * x.array + 3 * x.array ** 2
    np.testing.assert_allclose(x.grad.numpy(), expected)
    (x * 2).sum().backward()  # a second call adds to .grad
    np.testing.assert_allclose(x.grad.numpy(), expected + 2)


@pytest.mark.parametrize("sa,sb", [((3, 1, 5), (4, 1)), ((4, 1), (3, 1, 5)), ((2, 3), ()),
                                   ((1,), (2, 3)), ((0, 3), (1, 3))])
def test_broadcast_gradients_are_summed_to_the_input_shape(sa, sb):
    a, b = randn(*sa), randn(*sb, seed=1)
    ga = gradlab.tensor(a, requires_grad=True)
    gb = gradlab.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    up = randn(*np.broadcast_shapes(sa, sb), seed=2)
    (ga * gb).backward(gradlab.tensor(up))
    (ta * tb).backward(torch.tensor(up))
    assert ga.grad.shape == sa and gb.grad.shape == sb
    assert_close(ga.grad, ta.grad)
    assert_close(gb.grad, tb.grad)


def test_second_backward_through_freed_graph_raises():
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = gradlab.tensor([1.0, 2.0], dtype=gradlab.float64, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_backward_frees_saved_values():
    x = gradlab.tensor(np.ones(3), requires_grad=True)
    y = (x.tanh() * 2).sum()
    node = y.grad_fn
    y.backward()
    assert node.inputs is None  # saved inputs are dropped after backward


def test_create_graph_gives_higher_order_derivatives():
    x = gradlab.tensor([0.5, -1.5], dtype=gradlab.float64, requires_grad=True)
    t = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    for lib, v in ((gradlab, x), (torch, t)):
        y = (v.sin() * v ** 3).sum()
        (g1,) = lib.autograd.grad(y, v, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), v, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), v)
        if lib is gradlab:
            ours = (g1, g2, g3)
        else:
            theirs = (g1, g2, g3)
    for a, b in zip(ours, theirs):
        assert_close(a, b)


def test_backward_with_create_graph_leaves_differentiable_grad():
    x = gradlab.tensor(3.0, dtype=gradlab.float64, requires_grad=True)
    (x ** 4).backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(12 * 9)


def test_leaf_gradients_are_independent_arrays():
    a = gradlab.tensor([1.0, 2.0], requires_grad=True)
    b = gradlab.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(10)  # e.g. gradient clipping in place
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    assert a.grad.array.flags.writeable and b.grad.array.flags.writeable


def test_user_gradient_is_not_aliased_into_grad():
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    g = gradlab.tensor([1.0, 1.0])
    (x + 0).backward(g)
    x.grad.mul_(5)
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])


def test_no_grad_and_enable_grad():
    w = gradlab.ones(2, requires_grad=True)
    with gradlab.no_grad():
        y = w * 2
        with gradlab.enable_grad():
            z = w * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @gradlab.no_grad()
    def f(t):
        return t * 3

    assert not f(w).requires_grad
    assert gradlab.is_grad_enabled()
    gradlab.set_grad_enabled(False)
    try:
        assert not (w * 1).requires_grad
    finally:
        gradlab.set_grad_enabled(True)
    with gradlab.set_grad_enabled(False):
        assert not gradlab.is_grad_enabled()
    assert gradlab.is_grad_enabled()


def test_backward_on_non_scalar_needs_gradient():
    x = gradlab.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"shape of \(2,\).*\(3,\)"):
        (x * 2).backward(gradlab.ones(2))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gradlab.ones(2).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        gradlab.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        gradlab.arange(3).requires_grad_()


def test_only_leaf_requires_grad_can_be_changed():
    x = gradlab.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    assert y.detach().requires_grad is False


def test_inplace_on_leaf_requiring_grad_raises_but_works_under_no_grad():
    p = gradlab.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        p.add_(1.0)
    data = p.array
    with gradlab.no_grad():
        p -= 0.5 * gradlab.ones(3)
    assert p.array is data  # updated in place
    np.testing.assert_array_equal(p.numpy(force=True), [0.5, 0.5, 0.5])


def test_backward_inputs_argument_restricts_accumulation():
    a = gradlab.tensor([1.0], requires_grad=True)
    b = gradlab.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_hooks_and_retain_grad():
    x = gradlab.tensor([1.0, 2.0], dtype=gradlab.float64, requires_grad=True)
    h = x * 3
    h.retain_grad()
    seen = []
    remove = h.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    x.register_hook(lambda g: g + 1)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * h.array)
    np.testing.assert_allclose(h.grad.numpy(), 4 * h.array)  # retained after the hook
    np.testing.assert_allclose(x.grad.numpy(), 3 * 4 * h.array + 1)
    remove()
    x.grad = None
    y = x * 3
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * 2 * y.array + 1)


def test_autograd_backward_of_several_outputs():
    x = gradlab.tensor([1.0, 2.0], dtype=gradlab.float64, requires_grad=True)
    gradlab.autograd.backward([(x * x).sum(), x * 3], [None, gradlab.tensor([1.0, 2.0])])
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.array + [3.0, 6.0])


def test_inplace_change_of_an_input_backward_needs_is_detected():
    w = gradlab.ones(3, requires_grad=True)
    x = gradlab.tensor([1.0, 2.0, 3.0])
    y = (w * x).sum()
    with gradlab.no_grad():
        w.sub_(0.1)  # e.g. an optimizer step before this backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_change_of_a_saved_output_is_detected():
    x = gradlab.ones(3, requires_grad=True)
    y = x.exp()
    total = y.sum()
    with gradlab.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward"):
        total.backward()


def test_inplace_change_that_backward_does_not_read_is_allowed():
    w = gradlab.ones(3, requires_grad=True)
    y = (w + 1).sum()  # d/dw does not depend on w
    with gradlab.no_grad():
        w.sub_(1)
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0, 1.0])

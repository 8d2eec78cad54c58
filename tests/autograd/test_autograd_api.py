"""autograd.grad, custom Functions, functional derivatives and gradcheck."""

import numpy as np
import pytest
import torch

import gradlab
from gradlab.autograd import Function, GradcheckError, functional, gradcheck, gradgradcheck
from helpers import assert_close, randn

# ------------------------------------------------------------ autograd.grad


def test_grad_returns_without_touching_dot_grad():
    x = gradlab.tensor([1.0, 2.0], dtype=gradlab.float64, requires_grad=True)
    (g,) = gradlab.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), 3 * x.array ** 2)
    assert x.grad is None


def test_grad_with_respect_to_a_non_leaf_and_grad_outputs():
    a = randn(3, 4)
    gx = gradlab.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    gh, th = gx.tanh(), tx.tanh()
    v = randn(3, 4, seed=5)
    (g1,) = gradlab.autograd.grad((gh * gh).exp(), gh, gradlab.tensor(v))
    (t1,) = torch.autograd.grad((th * th).exp(), th, torch.tensor(v))
    assert_close(g1, t1)


def test_grad_unused_inputs():
    x = gradlab.ones(2, requires_grad=True)
    z = gradlab.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not have been used"):
        gradlab.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = gradlab.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and gx is not None
    _, gz = gradlab.autograd.grad(y, [x, z], materialize_grads=True)
    np.testing.assert_array_equal(gz.numpy(), [0.0, 0.0])


def test_grad_rejects_inputs_that_do_not_require_grad():
    x = gradlab.ones(2, requires_grad=True)
    c = gradlab.ones(2)
    with pytest.raises(RuntimeError, match="does not require grad"):
        gradlab.autograd.grad((x * c).sum(), c)


class _Explodes(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        raise AssertionError("a branch that leads to no input must not be run")


def test_grad_prunes_branches_that_lead_to_no_input():
    x = gradlab.ones(2, requires_grad=True)
    w = gradlab.ones(2, requires_grad=True)
    y = (x * 2 + _Explodes.apply(w)).sum()
    (gx,) = gradlab.autograd.grad(y, x)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])


# ------------------------------------------------------------ custom Function


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x ** 3 * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.scale, None


def test_custom_function_forward_backward_and_double_backward():
    x = gradlab.tensor([0.5, -2.0], dtype=gradlab.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None
    (g,) = gradlab.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(force=True), 6 * x.array ** 2)
    (gg,) = gradlab.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 12 * x.array)
    assert gradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    assert gradgradcheck(lambda t: Cube.apply(t, 2.0), (x,))


class SaveOutput(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_saved_output_is_differentiated_through():
    x = gradlab.tensor([0.3, 1.0], dtype=gradlab.float64, requires_grad=True)
    assert gradgradcheck(SaveOutput.apply, (x,))


class TwoOutputs(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        idx = gradlab.tensor([0, 1])
        ctx.mark_non_differentiable(idx)
        return a * b, a + b, idx

    @staticmethod
    def backward(ctx, g_prod, g_sum, g_idx):
        a, b = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g_prod * b + g_sum, None


def test_multiple_outputs_needs_input_grad_and_non_differentiable():
    a = gradlab.tensor([1.0, 2.0], dtype=gradlab.float64, requires_grad=True)
    b = gradlab.tensor([3.0, 4.0], dtype=gradlab.float64)
    prod, total, idx = TwoOutputs.apply(a, b)
    assert not idx.requires_grad
    prod.sum().backward()  # g_sum is materialised as zeros
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


def test_inplace_change_of_a_saved_tensor_is_detected():
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Cube.apply(h, 1.0)
    with gradlab.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


class WrongCount(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        return g


def test_wrong_number_of_gradients_is_reported():
    a = gradlab.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="expected 2, got 1"):
        WrongCount.apply(a, a).sum().backward()


# ------------------------------------------------------------ functional


def _mlp_loss(lib, x, y):
    def loss(w1, w2):
        h = (x @ w1).tanh()
        return ((h @ w2 - y) ** 2).mean()
    return loss


def test_hessian_of_small_mlp_loss_matches_torch():
    x, y = randn(5, 3), randn(5, 2, seed=1)
    w1, w2 = randn(3, 4, seed=2), randn(4, 2, seed=3)
    ours = functional.hessian(_mlp_loss(gradlab, gradlab.tensor(x), gradlab.tensor(y)),
                              (gradlab.tensor(w1), gradlab.tensor(w2)))
    theirs = torch.autograd.functional.hessian(
        _mlp_loss(torch, torch.tensor(x), torch.tensor(y)), (torch.tensor(w1), torch.tensor(w2)))
    for i in range(2):
        for j in range(2):
            assert_close(ours[i][j], theirs[i][j])


def test_jacobian_shapes_and_values():
    a, b = randn(3), randn(2, 3, seed=1)

    def f(lib):
        return lambda x, w: (w @ x).sin()

    ours = functional.jacobian(f(gradlab), (gradlab.tensor(a), gradlab.tensor(b)))
    theirs = torch.autograd.functional.jacobian(f(torch), (torch.tensor(a), torch.tensor(b)))
    assert ours[0].shape == (2, 3) and ours[1].shape == (2, 2, 3)
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])
    single = functional.jacobian(lambda x: x ** 2, gradlab.tensor(a))
    assert_close(single, torch.autograd.functional.jacobian(lambda x: x ** 2, torch.tensor(a)))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_vector_products_match_torch(name):
    a, vec = randn(4), randn(4, seed=1)

    def fn(x):
        y = x.exp() * x.sum()
        return y.sum() if name in ("hvp", "vhp") else y
    out_g, res_g = getattr(functional, name)(fn, gradlab.tensor(a), gradlab.tensor(vec))
    out_t, res_t = getattr(torch.autograd.functional, name)(fn, torch.tensor(a), torch.tensor(vec))
    assert_close(out_g, out_t)
    assert_close(res_g, res_t)
    assert not res_g.requires_grad


# ------------------------------------------------------------ gradcheck


class BadSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        wrong = gradlab.tensor([1.0, 1.0, 1.5], dtype=gradlab.float64)  # 3rd element off
        return g * 2 * x * wrong


def test_gradcheck_names_worst_element_and_both_values():
    x = gradlab.tensor([1.0, 2.0, 3.0], dtype=gradlab.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(BadSquare.apply, (x,))
    message = str(info.value)
    assert "input element (2,)" in message and "output element (2,)" in message
    assert "numerical 6.0000" in message and "analytical 9.0" in message
    assert gradcheck(BadSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_passes_on_correct_functions():
    x = gradlab.tensor(randn(3, 2), requires_grad=True)
    w = gradlab.tensor(randn(2, 4, seed=1), requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).sigmoid(), (x, w))
    assert gradcheck(lambda a, b: (a @ b).sigmoid(), (x, w), fast_mode=False)


class BadSecondOrder(Function):
    """Correct first derivative, wrong second: backward is not written with
    differentiable ops for its dependence on x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x.detach() ** 2


def test_gradgradcheck_catches_wrong_second_derivative():
    x = gradlab.tensor([0.5, 1.5], dtype=gradlab.float64, requires_grad=True)
    assert gradcheck(BadSecondOrder.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(BadSecondOrder.apply, (x,))

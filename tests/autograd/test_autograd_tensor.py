"""Tensor basics, creation and dtype inference (against PyTorch), random
numbers, and devices."""

import numpy as np
import pytest
import torch

import gradlab
from conftest import gpu


@pytest.mark.parametrize("data", [1.5, 3, True, [1.0, 2.0], [[1, 2], [3, 4]], [True, False],
                                  np.float64([1.0]), np.int32([1, 2]), np.float32(2.0)])
def test_tensor_dtype_inference_matches_torch(data):
    assert str(gradlab.tensor(data).dtype) == str(torch.tensor(data).dtype).removeprefix("torch.")


def test_default_dtype():
    assert gradlab.get_default_dtype() == gradlab.float32
    gradlab.set_default_dtype(gradlab.float64)
    assert gradlab.tensor([1.0]).dtype == gradlab.float64
    assert gradlab.zeros(2).dtype == gradlab.float64
    with pytest.raises(TypeError, match="floating"):
        gradlab.set_default_dtype(gradlab.int64)


def test_bad_dtype_names_the_value():
    with pytest.raises(TypeError, match="complex64"):
        gradlab.zeros(2, dtype="complex64")


@pytest.mark.parametrize("fn,args", [("zeros", (2, 3)), ("ones", ((2, 3),)), ("empty", ([2, 3],))])
def test_filled_creation(fn, args):
    t = getattr(gradlab, fn)(*args)
    assert t.shape == (2, 3) and t.dtype == gradlab.float32
    if fn != "empty":
        np.testing.assert_array_equal(t.numpy(), getattr(torch, fn)(*args).numpy())


def test_ranges_match_torch():
    for ours, theirs in [
        (gradlab.arange(5), torch.arange(5)),
        (gradlab.arange(1, 2, 0.25), torch.arange(1, 2, 0.25)),
        (gradlab.linspace(0, 1, 7), torch.linspace(0, 1, 7)),
        (gradlab.eye(3, 4), torch.eye(3, 4)),
        (gradlab.full((2,), 7), torch.full((2,), 7)),
        (gradlab.full((2,), 0.5), torch.full((2,), 0.5)),
    ]:
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)


def test_negative_size_is_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        gradlab.zeros(2, -1)


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3)
    t, s = gradlab.tensor(a), gradlab.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 0 and s[0].item() == 5


def test_scalar_conversions_and_repr():
    t = gradlab.tensor([[1.5, 2.0]], requires_grad=True)
    assert t[0, 0].item() == 1.5 and float(t[0, 1]) == 2.0
    assert t.tolist() == [[1.5, 2.0]]
    assert len(t) == 1 and [r.shape for r in t] == [(2,)]
    assert "requires_grad=True" in repr(t)
    assert "grad_fn=<MulBackward>" in repr(t * 2)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    with pytest.raises(RuntimeError, match="2 elements"):
        t.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)


def test_reflected_operators_with_arrays_and_numbers():
    t = gradlab.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose((2 - t).numpy(), [1.0, 0.0, -2.0])
    np.testing.assert_allclose((1 / t).numpy(), [1.0, 0.5, 0.25])
    np.testing.assert_allclose((2 ** t).numpy(), [2.0, 4.0, 16.0])
    m = np.eye(3, dtype=np.float32) * 2
    r = m @ t
    assert isinstance(r, gradlab.Tensor)
    np.testing.assert_allclose(r.numpy(), [2.0, 4.0, 8.0])
    assert isinstance(m + t, gradlab.Tensor)


def test_astype_conversions_are_differentiable_between_floats():
    x = gradlab.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == gradlab.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == gradlab.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.long().dtype == gradlab.int64 and not x.long().requires_grad


# ------------------------------------------------------------ random numbers


def test_manual_seed_reproduces_and_generators_are_independent():
    gradlab.manual_seed(3)
    a = gradlab.randn(4)
    g = gradlab.Generator().manual_seed(3)
    gradlab.manual_seed(3)
    b = gradlab.randn(4)
    c = gradlab.randn(4, generator=g)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    assert not np.array_equal(gradlab.randn(4).numpy(), a.numpy())


def test_generator_state_round_trip():
    g = gradlab.Generator().manual_seed(7)
    g.normal((3,))
    state = g.get_state()
    first = gradlab.rand(5, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(gradlab.rand(5, generator=g).numpy(), first.numpy())
    with pytest.raises(ValueError, match="get_state"):
        g.set_state({"nope": 1})


def test_random_functions_shapes_ranges_and_dtypes():
    g = gradlab.Generator().manual_seed(0)
    u = gradlab.rand(1000, generator=g)
    assert u.dtype == gradlab.float32 and 0 <= u.numpy().min() and u.numpy().max() < 1
    i = gradlab.randint(3, 7, (1000,), generator=g)
    assert i.dtype == gradlab.int64 and set(i.numpy().tolist()) == {3, 4, 5, 6}
    p = gradlab.randperm(10, generator=g)
    assert sorted(p.tolist()) == list(range(10))
    n = gradlab.randn(20000, generator=g, dtype=gradlab.float64)
    assert abs(n.numpy().mean()) < 0.03 and abs(n.numpy().std() - 1) < 0.03
    with pytest.raises(TypeError, match="Generator"):
        gradlab.rand(2, generator=np.random.default_rng(0))


# ------------------------------------------------------------ devices


def test_cpu_device_and_missing_gpu_message():
    t = gradlab.ones(2)
    assert t.device == gradlab.device("cpu") and str(t.device) == "cpu"
    assert t.to("cpu") is t
    if not gradlab.cuda.is_available():
        assert gradlab.cuda.device_count() == 0
        with pytest.raises(RuntimeError, match="CuPy"):
            t.to("cuda")
    with pytest.raises(ValueError, match="'cpu' or 'cuda"):
        gradlab.device("tpu")


@gpu
def test_gpu_ops_and_gradients_match_cpu():
    a = np.random.default_rng(0).standard_normal((4, 3))
    x_cpu = gradlab.tensor(a, requires_grad=True)
    x_gpu = gradlab.tensor(a).to("cuda").requires_grad_()
    for x in (x_cpu, x_gpu):
        (x.tanh() @ x.T).log_softmax(-1).sum().backward()
    assert x_gpu.grad.device.type == "cuda"
    np.testing.assert_allclose(x_gpu.grad.cpu().numpy(), x_cpu.grad.numpy(), rtol=1e-10)


@gpu
def test_ops_between_devices_raise():
    with pytest.raises(RuntimeError, match="same device"):
        gradlab.ones(2) + gradlab.ones(2).cuda()


def test_setitem_with_tensor_index_and_value_matches_torch():
    ours, theirs = gradlab.zeros(3, 4), torch.zeros(3, 4)
    for t, lib in ((ours, gradlab), (theirs, torch)):
        t[lib.tensor([0, 2]), 1:] = lib.tensor([1.0, 2.0, 3.0])
        t[1] = 5.0
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_setitem_refuses_leaf_requiring_grad_and_bumps_version():
    w = gradlab.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w[0] = 2.0
    x = gradlab.ones(3)
    y = (w * x).sum()
    x[0] = 2.0  # x was saved by the multiplication
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()

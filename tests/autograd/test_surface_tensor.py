"""The Tensor surface of issue 17 that is not an op: formatting, Size,
strides, new_* and type_as, the legacy typed constructors, backend and
determinism flags, the accelerator, inference_mode, and the nn pieces
(flatten_parameters, nn.parallel), each beside PyTorch."""

import numpy as np
import pytest
import torch

import gradlab
from gradlab import nn


@pytest.mark.parametrize("spec", [".4f", "+.2f", "", ".3e", "10.1f", "g"])
def test_zero_dim_tensor_formats_as_its_number(spec):
    for value in (3.14159, -0.5):
        assert format(gradlab.tensor(value, dtype=gradlab.float64), spec) == \
            format(torch.tensor(value, dtype=torch.float64), spec)
    assert f"{gradlab.tensor(7):d}" == f"{torch.tensor(7):d}" == "7"
    assert "{:.2f}".format(gradlab.tensor(2)) == "{:.2f}".format(torch.tensor(2))  # noqa: UP032


def test_other_tensors_format_only_without_a_spec():
    x = gradlab.tensor([1.0, 2.0])
    assert f"{x}" == str(x)
    with pytest.raises(TypeError, match="unsupported format string"):
        format(torch.tensor([1.0, 2.0]), ".2f")
    with pytest.raises(TypeError, match="unsupported format string"):
        format(x, ".2f")


def test_size_is_a_tuple_with_numel():
    x = gradlab.zeros(2, 3, 4)
    t = torch.zeros(2, 3, 4)
    for ours, theirs in ((x.shape, t.shape), (x.size(), t.size()), (x.shape[1:], t.shape[1:]),
                         (x.shape + (5,), t.shape + (5,)), ((1,) + x.shape, (1,) + t.shape)):
        assert isinstance(ours, gradlab.Size) and isinstance(ours, tuple)
        assert ours == tuple(theirs) and ours.numel() == theirs.numel()
    assert x.shape[0] == 2 and type(x.shape[0]) is int
    assert repr(x.shape) == "gradlab.Size([2, 3, 4])"
    assert gradlab.Size([2, 3]) == (2, 3) and gradlab.zeros(gradlab.Size([2, 3])).shape == (2, 3)
    assert x.size(1) == 3 and x.nelement() == t.nelement() == 24


def test_stride_as_pytorch():
    for make in (lambda m: m.zeros(2, 3, 4), lambda m: m.zeros(2, 3, 4).transpose(0, 2),
                 lambda m: m.zeros(3, 1).expand(3, 5), lambda m: m.zeros(4, 6)[:, ::2],
                 lambda m: m.zeros(())):
        assert make(gradlab).stride() == make(torch).stride()
    assert gradlab.zeros(2, 3).stride(0) == torch.zeros(2, 3).stride(0) == 3
    assert gradlab.zeros(2, 3).stride(-1) == 1


def test_type_as_and_new_tensors():
    x = gradlab.ones(2, dtype=gradlab.float64)
    assert gradlab.tensor([1, 2]).type_as(x).dtype == gradlab.float64
    a = x.new_empty(3, 2)
    assert a.shape == (3, 2) and a.dtype == gradlab.float64 and not a.requires_grad
    assert x.new_empty((2,), dtype=gradlab.int64, requires_grad=False).dtype == gradlab.int64
    assert x.new_empty(2, requires_grad=True).requires_grad
    for name, args in (("new_zeros", ((2, 2),)), ("new_ones", (3,)), ("new_full", ((2,), 1.5)),
                       ("new_tensor", ([1.0, 2.0],))):
        ours, theirs = getattr(x, name)(*args), getattr(torch.ones(2, dtype=torch.float64), name)(*args)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


def test_new_tensors_take_device_and_requires_grad_and_copy():
    for mod in (torch, gradlab):
        x = mod.ones(2, dtype=mod.float64)
        z = x.new_zeros(3, device=x.device, requires_grad=True)
        o = x.new_ones((2, 2), dtype=mod.float32, device="cpu")
        f = x.new_full((2,), 7, requires_grad=True)
        assert z.requires_grad and f.requires_grad and not o.requires_grad
        assert str(o.dtype).endswith("float32") and f.tolist() == [7.0, 7.0]
        c = x.new_tensor(x)
        c[0] = 5.0
        assert x.tolist() == [1.0, 1.0]  # new_tensor copies


LEGACY = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_typed_constructors(name):
    ours, theirs = getattr(gradlab, name), getattr(torch, name)
    for args in (([1, 0, 2],), ([[1.5, 2.0]],), (2, 3), (4,), (gradlab.Size([2, 1]),), ()):
        targs = tuple(torch.Size(a) if isinstance(a, gradlab.Size) else a for a in args)
        a, b = ours(*args), theirs(*targs)
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).removeprefix("torch.")
        if args and isinstance(args[0], list):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert isinstance(ours([1]), ours) and not isinstance(gradlab.zeros(1, dtype=gradlab.float16), ours)
    assert gradlab.tensor([1, 2]).type(ours).dtype == ours.dtype
    assert gradlab.tensor([1, 2]).type(f"torch.{name}").dtype == ours.dtype
    with pytest.raises(TypeError, match=name):
        ours(2, "a")


def test_backend_flags_are_settable_and_read_back():
    for mod in (torch, gradlab):
        cudnn = mod.backends.cudnn
        before = (cudnn.benchmark, cudnn.deterministic, cudnn.enabled, mod.backends.cuda.matmul.allow_tf32)
        cudnn.benchmark, cudnn.deterministic, cudnn.enabled = True, True, False
        mod.backends.cuda.matmul.allow_tf32 = True
        assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (True, True, False)
        assert mod.backends.cuda.matmul.allow_tf32 is True
        cudnn.benchmark, cudnn.deterministic, cudnn.enabled = before[:3]
        mod.backends.cuda.matmul.allow_tf32 = before[3]
        assert mod.backends.mps.is_available() is False
    assert gradlab.backends.cudnn.is_available() is False


def test_deterministic_algorithms_flag():
    for mod in (torch, gradlab):
        assert mod.are_deterministic_algorithms_enabled() is False
        mod.use_deterministic_algorithms(True, warn_only=True)
        assert mod.are_deterministic_algorithms_enabled() is True
        assert mod.is_deterministic_algorithms_warn_only_enabled() is True
        mod.use_deterministic_algorithms(False)
        assert mod.are_deterministic_algorithms_enabled() is False
    with pytest.raises(TypeError, match="bool"):
        gradlab.use_deterministic_algorithms("yes")


def test_accelerator_and_is_cuda_without_a_gpu():
    if gradlab.cuda.is_available():  # the GPU run checks the other branch
        assert gradlab.accelerator.is_available()
        assert gradlab.accelerator.current_accelerator().type == "cuda"
        assert gradlab.ones(1, device="cuda").is_cuda
        return
    assert gradlab.accelerator.is_available() is False
    assert gradlab.accelerator.current_accelerator() is None
    assert gradlab.accelerator.device_count() == 0
    assert gradlab.ones(2).is_cuda is False and torch.ones(2).is_cuda is False
    device = gradlab.accelerator.current_accelerator() if gradlab.accelerator.is_available() else "cpu"
    assert gradlab.ones(2).to(device).device == gradlab.device("cpu")


def test_inference_mode_as_context_manager_and_decorator():
    for mod in (torch, gradlab):
        w = mod.ones(2, requires_grad=True)
        with mod.inference_mode():
            assert (w * 2).requires_grad is False
        with mod.inference_mode(False):
            assert (w * 2).requires_grad is True
        assert (w * 2).requires_grad is True

        @mod.inference_mode()
        def f(x):
            return x * 2

        @mod.inference_mode
        def h(x):
            return x * 3

        assert f(w).requires_grad is False and h(w).requires_grad is False
        assert f.__name__ == "f" and (w * 2).requires_grad is True


def test_rnn_flatten_parameters_is_a_no_op():
    for cls in (nn.RNN, nn.LSTM, nn.GRU):
        layer = cls(3, 4)
        before = {k: v.detach().numpy().copy() for k, v in layer.state_dict().items()}
        assert layer.flatten_parameters() is None
        after = layer.state_dict()
        assert all(np.array_equal(before[k], after[k].detach().numpy()) for k in before)


def test_data_parallel_absent_with_a_clear_message():
    import gradlab.nn.parallel as parallel

    with pytest.raises(AttributeError, match="DistributedDataParallel on MPI"):
        nn.DataParallel  # noqa: B018
    with pytest.raises(AttributeError, match="DistributedDataParallel on MPI"):
        parallel.DataParallel  # noqa: B018
    assert not hasattr(nn, "DataParallel")
    assert parallel.DistributedDataParallel.__name__ == "DistributedDataParallel"


def test_version_is_gradlabs_own():
    assert gradlab.__version__ == "0.1.0" and gradlab.__version__ != torch.__version__

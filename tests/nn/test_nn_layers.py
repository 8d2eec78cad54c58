"""Layers against their PyTorch twins (float64, copied state dicts), in
train and eval mode, plus gradcheck."""

import numpy as np
import pytest
import torch
from nn_twin import module_gradcheck, twin

import gradlab
from gradlab import nn

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.:UserWarning")
rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(train, bias):
    twin(nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias), randn(4, 2, 5), train=train)


def test_linear_on_a_transposed_batch():
    # a batch_first sequence seen time-major: a strided 3-D input, stacked into rows
    from helpers import check

    check(lambda x, w, b: nn.functional.linear(x.transpose(0, 1), w, b),
          lambda x, w, b: torch.nn.functional.linear(x.transpose(0, 1), w, b),
          randn(4, 3, 5), randn(6, 5), randn(6))


CONV2D = [
    dict(in_channels=4, out_channels=6, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), groups=2),
    dict(in_channels=4, out_channels=4, kernel_size=2, padding="same", dilation=2, groups=4),
    dict(in_channels=4, out_channels=6, kernel_size=3, padding="valid", bias=False),
    dict(in_channels=4, out_channels=2, kernel_size=4, padding="same"),
    dict(in_channels=4, out_channels=6, kernel_size=3, padding=1, padding_mode="reflect"),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=(2, 1), padding_mode="replicate"),
    dict(in_channels=4, out_channels=4, kernel_size=(2, 3), padding=(1, 2), groups=2,
         padding_mode="circular"),
    dict(in_channels=4, out_channels=2, kernel_size=4, padding="same", dilation=(1, 2),
         padding_mode="reflect"),
]


@pytest.mark.parametrize("kwargs", CONV2D)
@pytest.mark.parametrize("train", [True, False])
def test_conv2d(kwargs, train):
    twin(nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs), randn(2, 4, 7, 6), train=train)


def test_conv2d_unbatched_and_eval():
    twin(nn.Conv2d(2, 3, 3, padding=1), torch.nn.Conv2d(2, 3, 3, padding=1), randn(2, 5, 5), train=False)


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=4, out_channels=2, kernel_size=2, stride=2, padding=1, dilation=2, groups=2),
    dict(in_channels=3, out_channels=3, kernel_size=4, padding="same"),
    dict(in_channels=3, out_channels=2, kernel_size=3, padding=2, padding_mode="circular"),
    dict(in_channels=3, out_channels=2, kernel_size=4, padding="same", padding_mode="replicate"),
])
def test_conv1d(kwargs):
    c = kwargs["in_channels"]
    twin(nn.Conv1d(**kwargs), torch.nn.Conv1d(**kwargs), randn(2, c, 9))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(3, 2), stride=1),
    dict(kernel_size=2, stride=1, dilation=2, padding=1),
    dict(kernel_size=2, ceil_mode=True), dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=3, padding=1, dilation=2, ceil_mode=True),
])
def test_max_pool2d(kwargs):
    twin(nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), randn(2, 3, 7, 8))


def test_max_pool2d_ties_go_to_first_and_indices_match():
    x = np.zeros((1, 2, 4, 4))
    x[0, 1, :2, :2] = 1.0
    twin(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x)
    a = randn(2, 3, 7, 7)
    _, idx = nn.MaxPool2d(3, 2, 1, return_indices=True)(gradlab.tensor(a))
    _, tidx = torch.nn.MaxPool2d(3, 2, 1, return_indices=True)(torch.tensor(a))
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.parametrize("pool", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_conv_relu_max_pool_ties_match_torch(pool):
    """A convolution's output has the batch axis innermost in memory; after
    a ReLU most windows tie at zero, and pooling must still route each
    gradient to the first maximum, as PyTorch."""
    def net(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(2, 3, 3, padding=1), n.ReLU(), n.MaxPool2d(**pool),
                            n.Conv2d(3, 2, 3, padding=1), n.ReLU(), n.MaxPool2d(**pool), n.Flatten())

    x = randn(5, 2, 6, 6) - 1.0  # mostly negative: many all-zero windows after the ReLU
    twin(net(gradlab).double(), net(torch).double(), x)


@pytest.mark.parametrize("affine", [True, False])
def test_conv_batchnorm_in_batch_last_layout_matches_torch(affine):
    """Batch norm after a convolution works on the convolution's batch-last
    memory as (C, M) rows without copying; outputs, gradients and running
    statistics must still be PyTorch's, whatever layout the incoming
    gradient has (here a max pool's, then a linear layer's)."""
    def net(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(2, 3, 3, padding=1, bias=False), n.BatchNorm2d(3, affine=affine),
                            n.ReLU(), n.MaxPool2d(2), n.Conv2d(3, 4, 3), n.BatchNorm2d(4, affine=affine),
                            n.Flatten(), n.Linear(4, 3), n.BatchNorm1d(3, affine=affine))

    gl, th = net(gradlab), net(torch)
    for step in range(3):
        twin(gl, th, randn(5, 2, 6, 6) * (step + 1), seed=step)
        gl.zero_grad()
        th.zero_grad()
    twin(gl, th, randn(5, 2, 6, 6), train=False)


def test_batchnorm_rows_are_a_view_of_a_convolution_output():
    from gradlab.nn.functional.norm import channel_rows, from_rows

    conv = nn.Conv2d(2, 3, 3).double()
    out = conv(gradlab.tensor(randn(4, 2, 5, 5))).detach().numpy()
    rows, order = channel_rows(out)
    assert rows.shape == (3, 4 * 3 * 3) and np.shares_memory(rows, out)
    np.testing.assert_array_equal(from_rows(rows, order, out.shape), out)
    plain = randn(4, 3, 2)
    rows, order = channel_rows(plain)  # channel axis not outermost in memory: a copy
    assert not np.shares_memory(rows, plain)
    np.testing.assert_array_equal(rows, plain.transpose(1, 0, 2).reshape(3, -1))
    np.testing.assert_array_equal(from_rows(rows, order, plain.shape), plain)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), divisor_override=5),
    dict(kernel_size=2, ceil_mode=True), dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 3), ceil_mode=True, divisor_override=4),
])
def test_avg_pool2d(kwargs):
    twin(nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), randn(2, 3, 7, 8))


@pytest.mark.parametrize("size", [1, 3, (2, 4), (5, None), (7, 8)])
def test_adaptive_avg_pool2d(size):
    twin(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), randn(2, 3, 7, 8))


def test_pool1d():
    twin(nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1), randn(2, 3, 9))
    twin(nn.AvgPool1d(3, 2, 1), torch.nn.AvgPool1d(3, 2, 1), randn(2, 3, 9))
    twin(nn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4), randn(2, 3, 9))
    twin(nn.MaxPool1d(2, ceil_mode=True), torch.nn.MaxPool1d(2, ceil_mode=True), randn(2, 3, 9))
    twin(nn.AvgPool1d(4, 3, 1, ceil_mode=True), torch.nn.AvgPool1d(4, 3, 1, ceil_mode=True), randn(2, 3, 9))


@pytest.mark.parametrize("size", range(4, 12))
@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 2, 1), (3, 3, 0), (4, 3, 2)])
def test_ceil_mode_output_sizes_match_torch(size, kernel, stride, padding):
    a = randn(1, 1, size, size + 1)
    for ours, theirs in ((nn.MaxPool2d, torch.nn.MaxPool2d), (nn.AvgPool2d, torch.nn.AvgPool2d)):
        args = (kernel, stride, padding)
        out = ours(*args, ceil_mode=True)(gradlab.tensor(a))
        ref = theirs(*args, ceil_mode=True)(torch.tensor(a))
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_ceil_mode_indices_match_torch():
    a = randn(2, 3, 7, 9)
    _, idx = nn.MaxPool2d(2, ceil_mode=True, return_indices=True)(gradlab.tensor(a))
    _, tidx = torch.nn.MaxPool2d(2, ceil_mode=True, return_indices=True)(torch.tensor(a))
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_flatten_unflatten():
    twin(nn.Flatten(), torch.nn.Flatten(), randn(2, 3, 4, 5))
    twin(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), randn(2, 3, 4, 5))
    twin(nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), randn(4, 6))


@pytest.mark.parametrize("cls,tcls,shape", [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 2)),
])
@pytest.mark.parametrize("kwargs", [{}, dict(affine=False), dict(momentum=None), dict(momentum=0.3, eps=1e-3),
                                    dict(track_running_stats=False)])
def test_batchnorm_running_stats_over_steps(cls, tcls, shape, kwargs):
    gl, th = cls(3, **kwargs), tcls(3, **kwargs)
    for step in range(3):
        x = randn(*shape) * (step + 1) + step
        twin(gl, th, x, train=True, seed=step)  # compares running stats after each step too
        gl.zero_grad()
        th.zero_grad()
    twin(gl, th, randn(*shape), train=False)


def test_batchnorm_eval_uses_running_estimates():
    bn = nn.BatchNorm1d(2).double()
    with gradlab.no_grad():
        bn.running_mean.copy_(np.array([1.0, -2.0]))
        bn.running_var.copy_(np.array([4.0, 9.0]))
    bn.eval()
    out = bn(gradlab.tensor(np.array([[3.0, 1.0]])))
    expected = [[2 / np.sqrt(4 + 1e-5), 3 / np.sqrt(9 + 1e-5)]]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("shape,kwargs", [((4,), {}), ((3, 4), {}), ((4,), dict(elementwise_affine=False)),
                                          ((4,), dict(bias=False, eps=1e-3))])
def test_layernorm(shape, kwargs):
    twin(nn.LayerNorm(shape, **kwargs), torch.nn.LayerNorm(shape, **kwargs), randn(2, 3, 4))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding(padding_idx):
    idx = np.array([[0, 2, 4], [2, 2, 1]])
    gl, th = nn.Embedding(5, 3, padding_idx=padding_idx), torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    twin(gl, th, idx)
    if padding_idx is not None:
        assert not np.any(gl.weight.grad.numpy()[padding_idx])
        fresh = nn.Embedding(5, 3, padding_idx=padding_idx)
        assert not np.any(fresh.weight.detach().numpy()[padding_idx])


def test_embedding_rejects_out_of_range_index():
    with pytest.raises(IndexError, match="out of range"):
        nn.Embedding(5, 3)(gradlab.tensor([5]))


def test_maxout_is_max_of_pieces():
    m = nn.Maxout(4, 3, pieces=2).double()
    x = gradlab.tensor(randn(5, 4), requires_grad=True)
    z = x.detach().numpy() @ m.linear.weight.detach().numpy().T + m.linear.bias.detach().numpy()
    np.testing.assert_allclose(m(x).detach().numpy(), z.reshape(5, 3, 2).max(-1), rtol=1e-12)
    assert [n for n, _ in m.named_parameters()] == ["linear.weight", "linear.bias"]


def test_identity():
    x = gradlab.tensor([1.0])
    assert nn.Identity(3, foo=1)(x) is x


@pytest.mark.parametrize("module,inputs", [
    (lambda: nn.Linear(3, 2), [(2, 3)]),
    (lambda: nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), [(1, 2, 5, 4)]),
    (lambda: nn.Conv1d(2, 3, 2, dilation=2, padding="same"), [(2, 2, 5)]),
    (lambda: nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"), [(1, 2, 4, 4)]),
    (lambda: nn.MaxPool2d(3, 2, 1), [(1, 2, 5, 5)]),
    (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), [(1, 2, 5, 5)]),
    (lambda: nn.MaxPool2d(2, ceil_mode=True), [(1, 2, 5, 5)]),
    (lambda: nn.AvgPool2d(3, 2, ceil_mode=True), [(1, 2, 6, 5)]),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), [(1, 2, 5, 4)]),
    (lambda: nn.BatchNorm2d(2), [(3, 2, 2, 2)]),
    (lambda: nn.BatchNorm1d(2).eval(), [(3, 2)]),
    (lambda: nn.LayerNorm(3), [(2, 3)]),
    (lambda: nn.Maxout(3, 2, 3), [(2, 3)]),
    (lambda: nn.Flatten(), [(2, 2, 2)]),
])
def test_gradcheck(module, inputs):
    module_gradcheck(module(), *[randn(*s) for s in inputs])


def test_gradcheck_embedding():
    m = nn.Embedding(4, 3).double()  # padding_idx deliberately has no gradient, so no finite-difference match
    idx = gradlab.tensor([[0, 1], [3, 0]])
    assert gradlab.autograd.gradcheck(lambda w: m(idx), (m.weight,))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match="channels"):
        nn.Conv2d(3, 4, 3)(gradlab.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match="same"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="features"):
        nn.Linear(3, 2)(gradlab.zeros(2, 4))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm2d(3)(gradlab.zeros(2, 4, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(gradlab.zeros(1, 3))

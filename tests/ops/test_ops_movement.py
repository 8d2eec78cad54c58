"""Shape operations against PyTorch: forward values and the gradients that
undo each movement, including -1 sizes, negative dims, uneven splits,
empty and 0-d tensors."""

import numpy as np
import pytest
import torch

import gradlab
from helpers import check, randn

X = randn(2, 3, 4, seed=1)

UNARY_MOVES = {
    "reshape(-1)": lambda t: t.reshape(-1),
    "reshape(4,-1)": lambda t: t.reshape(4, -1),
    "reshape((6,4))": lambda t: t.reshape((6, 4)),
    "reshape([3,8])": lambda t: t.reshape([3, 8]),
    "view(-1,2,2)": lambda t: t.view(-1, 2, 2),
    "view(2,12)": lambda t: t.view(2, 12),
    "transpose(0,2)": lambda t: t.transpose(0, 2),
    "transpose(-1,-2)": lambda t: t.transpose(-1, -2),
    "swapaxes(0,1)": lambda t: t.swapaxes(0, 1),
    "permute(2,0,1)": lambda t: t.permute(2, 0, 1),
    "permute((-1,0,1))": lambda t: t.permute((-1, 0, 1)),
    "flatten()": lambda t: t.flatten(),
    "flatten(1)": lambda t: t.flatten(1),
    "flatten(0,1)": lambda t: t.flatten(0, 1),
    "flatten(-2,-1)": lambda t: t.flatten(-2, -1),
    "unflatten(2,(2,2))": lambda t: t.unflatten(2, (2, 2)),
    "unflatten(-1,(2,-1))": lambda t: t.unflatten(-1, (2, -1)),
    "unsqueeze(0)": lambda t: t.unsqueeze(0),
    "unsqueeze(-1)": lambda t: t.unsqueeze(-1),
    "unsqueeze(2)": lambda t: t.unsqueeze(2),
    "unsqueeze(-2).squeeze()": lambda t: t.unsqueeze(-2).squeeze(),
    "unsqueeze(1).squeeze(1)": lambda t: t.unsqueeze(1).squeeze(1),
    "squeeze(0) no-op": lambda t: t.squeeze(0),
    "expand(2,2,3,4)": lambda t: t[:, :1].expand(2, 2, 3, 4),
    "expand(-1,5,-1)": lambda t: t[:, :1].expand(-1, 5, -1),
    "expand_as": lambda t: t[:1].expand_as(t),
    "repeat(2,1,3)": lambda t: t.repeat(2, 1, 3),
    "repeat(2,2,1,1)": lambda t: t.repeat(2, 2, 1, 1),
    "flip(0)": lambda t: t.flip(0),
    "flip((0,-1))": lambda t: t.flip((0, -1)),
    ".T on 2-D": lambda t: t[0].T,
    ".mT": lambda t: t.mT,
    "t()": lambda t: t[1].t(),
    "view_as": lambda t: t.view_as(t.reshape(4, 6)),
    "contiguous": lambda t: t.transpose(0, 1).contiguous(),
}


@pytest.mark.parametrize("name", UNARY_MOVES)
def test_movement(name):
    fn = UNARY_MOVES[name]
    check(fn, fn, X)


@pytest.mark.parametrize("fn", [
    lambda m, t: m.reshape(t, (4, 6)), lambda m, t: m.permute(t, (1, 0, 2)), lambda m, t: m.flatten(t, 1),
    lambda m, t: m.squeeze(t[:, :1], 1), lambda m, t: m.unsqueeze(t, -4), lambda m, t: m.transpose(t, 1, 2),
    lambda m, t: m.flip(t, [1]), lambda m, t: m.broadcast_to(t[:1], (2, 3, 4)),
    lambda m, t: m.unflatten(t, 0, (1, 2)),
], ids=["reshape", "permute", "flatten", "squeeze", "unsqueeze", "transpose", "flip", "broadcast_to",
        "unflatten"])
def test_function_forms(fn):
    check(lambda t: fn(gradlab, t), lambda t: fn(torch, t), X)


def test_squeeze_several_dims():
    x = randn(1, 3, 1, 2, 1, seed=2)
    for dims in [None, 0, -1, (0, 2), (0, 1, 4)]:
        args = () if dims is None else (dims,)
        check(lambda t, a=args: t.squeeze(*a), lambda t, a=args: t.squeeze(*a), x)


def test_T_on_3d_reverses_all_dims():
    # PyTorch deprecates .T beyond 2-D but still reverses every dimension
    g = gradlab.tensor(X).T
    assert g.shape == (4, 3, 2)
    np.testing.assert_array_equal(g.numpy(), X.transpose(2, 1, 0))


def test_movement_of_0d_and_empty():
    s = np.array(2.0)
    check(lambda t: t.reshape(1, 1), lambda t: t.reshape(1, 1), s)
    check(lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(0), s)
    check(lambda t: t.flatten(), lambda t: t.flatten(), s)
    check(lambda t: t.expand(3, 2), lambda t: t.expand(3, 2), s)
    check(lambda t: t.T, lambda t: t, np.array([1.0, 2.0]))  # .T of 1-D is the identity
    e = np.zeros((0, 3))
    check(lambda t: t.reshape(3, 0), lambda t: t.reshape(3, 0), e)
    check(lambda t: t.reshape(-1, 3), lambda t: t.reshape(-1, 3), e)
    check(lambda t: t.transpose(0, 1), lambda t: t.transpose(0, 1), e)
    check(lambda t: t.flip(0), lambda t: t.flip(0), e)
    check(lambda t: t.repeat(2, 2), lambda t: t.repeat(2, 2), e)
    check(lambda t: t.unsqueeze(1).expand(0, 4, 3), lambda t: t.unsqueeze(1).expand(0, 4, 3), e)


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cat(dim):
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    shapes[1] = tuple(1 if i == dim % 3 else s for i, s in enumerate(shapes[1]))
    arrays = [randn(*s, seed=i) for i, s in enumerate(shapes)]
    check(lambda *ts: gradlab.cat(ts, dim), lambda *ts: torch.cat(ts, dim), *arrays)
    check(lambda *ts: gradlab.cat(list(ts), dim=dim), lambda *ts: torch.cat(list(ts), dim=dim), *arrays)
    check(lambda *ts: gradlab.concat(ts, dim), lambda *ts: torch.concat(ts, dim), *arrays)


def test_cat_with_empty_piece_and_mixed_dtypes():
    a, b = randn(2, 3, seed=3), np.zeros((0, 3))
    check(lambda x, y: gradlab.cat([x, y, x]), lambda x, y: torch.cat([x, y, x]), a, b)
    f32 = randn(1, 3, seed=4).astype(np.float32)
    check(lambda x, y: gradlab.cat([x, y]), lambda x, y: torch.cat([x, y]), a, f32)
    check(lambda x: gradlab.cat([x, gradlab.tensor([[1, 2, 3]])]),
          lambda x: torch.cat([x, torch.tensor([[1, 2, 3]])]), a)


@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -4])
def test_stack(dim):
    arrays = [randn(2, 3, 4, seed=i) for i in range(3)]
    check(lambda *ts: gradlab.stack(ts, dim), lambda *ts: torch.stack(ts, dim), *arrays)


def test_stack_of_0d_tensors():
    arrays = [np.array(float(i)) for i in range(3)]
    check(lambda *ts: gradlab.stack(ts), lambda *ts: torch.stack(ts), *arrays)
    check(lambda *ts: gradlab.stack(ts, -1), lambda *ts: torch.stack(ts, -1), *arrays)


@pytest.mark.parametrize("size,dim", [(2, 0), (2, 1), (3, 2), (1, -1), (5, 1), ([1, 2], 1), ([3, 0, 1], -1),
                                      ((4,), 2)], ids=str)
def test_split(size, dim):
    check(lambda t: t.split(size, dim), lambda t: t.split(size, dim), X)
    check(lambda t: gradlab.split(t, size, dim=dim), lambda t: torch.split(t, size, dim=dim), X)


@pytest.mark.parametrize("chunks,dim", [(2, 0), (2, 1), (3, 2), (4, -1), (3, 1), (5, 1), (1, 0)], ids=str)
def test_chunk_even_and_uneven(chunks, dim):
    check(lambda t: t.chunk(chunks, dim), lambda t: t.chunk(chunks, dim), X)
    x = randn(5, 7, seed=5)
    check(lambda t: gradlab.chunk(t, chunks, dim % 2), lambda t: torch.chunk(t, chunks, dim % 2), x)


def test_chunk_piece_counts_match_torch():
    for n in range(1, 9):
        for chunks in range(1, 7):
            g = gradlab.zeros(n).chunk(chunks)
            t = torch.zeros(n).chunk(chunks)
            assert [p.shape[0] for p in g] == [p.shape[0] for p in t], (n, chunks)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim):
    check(lambda t: t.unbind(dim), lambda t: t.unbind(dim), X)
    check(lambda t: gradlab.unbind(t, dim), lambda t: torch.unbind(t, dim), X)


def test_split_outputs_used_partially():
    # only some pieces reach the loss: the others get zero gradient
    check(lambda t: t.split(1, 1)[2] * 2, lambda t: t.split(1, 1)[2] * 2, X)
    check(lambda t: t.unbind(0)[1], lambda t: t.unbind(0)[1], X)


@pytest.mark.parametrize("widths", [(1, 2), (0, 0, 2, 1), (1, 1, 1, 1, 1, 1), (3, 0)], ids=str)
@pytest.mark.parametrize("value", [0.0, -1.5])
def test_pad(widths, value):
    check(lambda t: gradlab.pad(t, widths, value=value),
          lambda t: torch.nn.functional.pad(t, widths, value=value), X)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,widths", [((2, 3, 5), (2, 1)), ((2, 3, 4, 5), (1, 2, 3, 0)),
                                          ((1, 2, 4, 3, 5), (1, 1, 2, 1, 0, 2))], ids=str)
def test_pad_modes(mode, shape, widths):
    a = randn(*shape)
    check(lambda t: gradlab.pad(t, widths, mode=mode),
          lambda t: torch.nn.functional.pad(t, widths, mode=mode), a)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes_double_backward(mode):
    a = gradlab.tensor(randn(2, 3, 4), requires_grad=True)
    assert gradlab.autograd.gradcheck(lambda t: gradlab.pad(t * t, (2, 1), mode=mode), (a,))
    assert gradlab.autograd.gradgradcheck(lambda t: gradlab.pad(t * t, (2, 1), mode=mode), (a,))


def test_pad_mode_errors_name_the_limit():
    x = gradlab.ones(1, 2, 3)
    with pytest.raises(RuntimeError, match=r"reflect padding \(3, 0\) must be less than the size 3"):
        gradlab.pad(x, (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match=r"circular padding \(0, 4\) must be at most the size 3"):
        gradlab.pad(x, (0, 4), mode="circular")
    with pytest.raises(ValueError, match="'replicate' or 'circular', got 'edge'"):
        gradlab.pad(x, (1, 1), mode="edge")


def test_pad_0_width_and_empty():
    check(lambda t: gradlab.pad(t, (0, 0)), lambda t: torch.nn.functional.pad(t, (0, 0)), X)
    e = np.zeros((2, 0))
    check(lambda t: gradlab.pad(t, (1, 1)), lambda t: torch.nn.functional.pad(t, (1, 1)), e)

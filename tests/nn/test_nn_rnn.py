"""RNN, LSTM, GRU and their cells against PyTorch (weights copied by name)."""

import numpy as np
import pytest
import torch
from nn_twin import copy_state, module_gradcheck, twin

import gradlab
from gradlab import nn

rng = np.random.default_rng(0)
PAIRS = [(nn.LSTM, torch.nn.LSTM), (nn.GRU, torch.nn.GRU), (nn.RNN, torch.nn.RNN)]


@pytest.mark.parametrize("cls,tcls", PAIRS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
def test_recurrent_layers(cls, tcls, batch_first, num_layers, bidirectional):
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    twin(cls(3, 4, **kwargs), tcls(3, 4, **kwargs), rng.standard_normal((2, 5, 3)))


@pytest.mark.parametrize("cls,tcls", PAIRS)
def test_initial_state_no_bias_and_eval(cls, tcls):
    d = 2
    h0 = rng.standard_normal((2 * d, 3, 4))
    state = (h0, rng.standard_normal((2 * d, 3, 4))) if cls is nn.LSTM else h0
    gl, th = cls(2, 4, num_layers=2, bidirectional=True, bias=False), \
        tcls(2, 4, num_layers=2, bidirectional=True, bias=False)
    gl.double(), th.double()
    copy_state(gl, th)
    x = rng.standard_normal((6, 3, 2))
    hx_t = tuple(torch.tensor(s) for s in state) if cls is nn.LSTM else torch.tensor(state)
    hx_g = tuple(gradlab.tensor(s) for s in state) if cls is nn.LSTM else gradlab.tensor(state)
    out_t, _ = th.eval()(torch.tensor(x), hx_t)
    out_g, _ = gl.eval()(gradlab.tensor(x), hx_g)
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), atol=1e-12)


def test_rnn_relu_and_unbatched_and_dropout_in_eval():
    twin(nn.RNN(3, 4, nonlinearity="relu"), torch.nn.RNN(3, 4, nonlinearity="relu"),
         rng.standard_normal((5, 3)))
    twin(nn.LSTM(3, 4, num_layers=2, dropout=0.5), torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5),
         rng.standard_normal((4, 2, 3)), train=False)


def test_dropout_between_layers_in_training():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, generator=gradlab.Generator().manual_seed(1)).double()
    x = gradlab.tensor(rng.standard_normal((4, 2, 3)))
    a, b = lstm(x)[0], lstm(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # fresh masks each call
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())


@pytest.mark.parametrize("cls,tcls", [(nn.LSTMCell, torch.nn.LSTMCell), (nn.GRUCell, torch.nn.GRUCell),
                                      (nn.RNNCell, torch.nn.RNNCell)])
def test_cells(cls, tcls):
    twin(cls(3, 4), tcls(3, 4), rng.standard_normal((2, 3)))
    twin(cls(3, 4), tcls(3, 4), rng.standard_normal(3))
    h = rng.standard_normal((2, 4))
    state = (h, rng.standard_normal((2, 4))) if cls is nn.LSTMCell else h
    gl, th = cls(3, 4, bias=False), tcls(3, 4, bias=False)
    gl.double(), th.double()
    copy_state(gl, th)
    x = rng.standard_normal((2, 3))
    hx = tuple(map(torch.tensor, state)) if cls is nn.LSTMCell else torch.tensor(state)
    out_t = th(torch.tensor(x), hx)
    out_g = gl(gradlab.tensor(x), tuple(map(gradlab.tensor, state)) if cls is nn.LSTMCell
               else gradlab.tensor(state))
    out_t = out_t[0] if cls is nn.LSTMCell else out_t
    out_g = out_g[0] if cls is nn.LSTMCell else out_g
    np.testing.assert_allclose(out_g.detach().numpy(), out_t.detach().numpy(), atol=1e-12)


def test_weight_names_and_shapes_match_pytorch():
    gl = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    th = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    assert [(k, tuple(v.shape)) for k, v in gl.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in th.state_dict().items()]


def test_default_init_bound():
    w = np.concatenate([p.detach().numpy().ravel() for p in nn.GRU(3, 16).parameters()])
    assert np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.24


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(2, 3, num_layers=2, bidirectional=True), lambda: nn.GRU(2, 3), lambda: nn.RNN(2, 3),
    lambda: nn.LSTMCell(2, 3), lambda: nn.GRUCell(2, 3),
])
def test_gradcheck(make):
    module_gradcheck(make(), rng.standard_normal((3, 1, 2)) if not isinstance(make(), nn.RNNCellBase)
                     else rng.standard_normal((2, 2)))


def test_bad_input_is_named():
    with pytest.raises(RuntimeError, match="input_size"):
        nn.LSTM(3, 4)(gradlab.zeros(5, 2, 2))
    with pytest.raises(RuntimeError, match="h_0"):
        nn.GRU(3, 4)(gradlab.zeros(5, 2, 3), gradlab.zeros(1, 3, 4))
    with pytest.raises(RuntimeError, match=r"sequence length .* got input of shape \(2, 0, 3\)"):
        nn.GRU(3, 4, batch_first=True)(gradlab.zeros(2, 0, 3))
    with pytest.raises(RuntimeError, match="sequence length"):
        nn.LSTM(3, 4)(gradlab.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_gradients_reach_initial_states_and_final_states(bidirectional):
    """The fused LSTM's backward through time against PyTorch, with initial
    states that require grad and a loss on the outputs and on both final
    states (the gradients that enter the recurrence at its far end)."""
    d = 2 if bidirectional else 1
    gl = nn.LSTM(3, 5, num_layers=2, bidirectional=bidirectional).double()
    th = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=bidirectional).double()
    copy_state(gl, th)
    x, h0, c0 = (rng.standard_normal(s) for s in ((7, 4, 3), (2 * d, 4, 5), (2 * d, 4, 5)))
    weights = [rng.standard_normal(s) for s in ((7, 4, 5 * d), (2 * d, 4, 5), (2 * d, 4, 5))]
    grads = []
    for lib, module in ((gradlab, gl), (torch, th)):
        inputs = [lib.tensor(a, requires_grad=True) for a in (x, h0, c0)]
        out, (h_n, c_n) = module(inputs[0], (inputs[1], inputs[2]))
        sum((t * lib.tensor(w)).sum() for t, w in zip((out, h_n, c_n), weights)).backward()
        grads.append([t.grad.numpy() for t in inputs]
                     + [p.grad.numpy() for _, p in sorted(module.named_parameters())])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("wanted", ["input", "weights", "initial states"])
def test_lstm_gradients_when_only_some_inputs_need_them(wanted):
    """The fused layer leaves out the products nobody asked for (dx, dW, or
    the last step's dh_0); what it does compute must still be PyTorch's."""
    gl = nn.LSTM(3, 5, bidirectional=True).double()
    th = torch.nn.LSTM(3, 5, bidirectional=True).double()
    copy_state(gl, th)
    x, h0, c0 = (rng.standard_normal(s) for s in ((6, 4, 3), (2, 4, 5), (2, 4, 5)))
    weight = rng.standard_normal((6, 4, 10))
    found = []
    for lib, module in ((gradlab, gl), (torch, th)):
        for p in module.parameters():
            p.requires_grad_(wanted == "weights")
        inputs = [lib.tensor(x, requires_grad=wanted == "input")] + \
            [lib.tensor(s, requires_grad=wanted == "initial states") for s in (h0, c0)]
        out, _ = module(inputs[0], (inputs[1], inputs[2]))
        (out * lib.tensor(weight)).sum().backward()
        if wanted == "weights":
            found.append([p.grad.numpy() for _, p in sorted(module.named_parameters())])
        else:
            found.append([t.grad.numpy() for t in inputs if t.requires_grad])
    assert len(found[0]) == len(found[1]) > 0
    for ours, theirs in zip(*found):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)

"""The Transformer layers against PyTorch (float64, state dicts copied from
PyTorch, values and gradients; train mode with dropout 0 and eval mode)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_twin import twin

import gradlab
from gradlab import nn
from helpers import randn

# PyTorch's note that its nested-tensor fast path is off (it changes no value)
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")

LAYER_ARGS = [
    {},
    {"norm_first": True, "activation": "gelu"},
    {"batch_first": True, "bias": False, "layer_norm_eps": 1e-3},
]


def _layers(cls_name, **kwargs):
    args = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, **kwargs)
    return getattr(nn, cls_name)(**args), getattr(torch.nn, cls_name)(**args)


@pytest.mark.parametrize("kwargs", LAYER_ARGS)
@pytest.mark.parametrize("train", [True, False])
def test_encoder_layer_matches_torch(kwargs, train):
    gl, th = _layers("TransformerEncoderLayer", **kwargs)
    assert list(gl.state_dict()) == list(th.state_dict())
    padding = np.zeros((3, 5), dtype=bool)
    padding[0, 3:] = True
    twin(gl, th, randn(3, 5, 8, seed=1) if kwargs.get("batch_first") else randn(5, 3, 8, seed=1),
         None, padding, train=train)


def test_encoder_layer_callable_activation_and_causal_mask():
    gl = nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation=gradlab.nn.functional.silu)
    th = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation=torch.nn.functional.silu)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(5).numpy(), mask.numpy())
    twin(gl, th, randn(5, 2, 8, seed=2), mask.numpy(), grad=False)


@pytest.mark.parametrize("kwargs", LAYER_ARGS)
def test_decoder_layer_matches_torch(kwargs):
    gl, th = _layers("TransformerDecoderLayer", **kwargs)
    assert list(gl.state_dict()) == list(th.state_dict())
    tgt, mem = (randn(2, 4, 8, seed=3), randn(2, 6, 8, seed=4)) if kwargs.get("batch_first") else \
        (randn(4, 2, 8, seed=3), randn(6, 2, 8, seed=4))
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    memory_padding = np.zeros((2, 6), dtype=bool)
    memory_padding[1, 4:] = True
    twin(gl, th, tgt, mem, causal, None, None, memory_padding)


def test_encoder_stack_with_norm_and_causal_mask():
    layer_args = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
    th = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**layer_args), 3,
                                     norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    gl = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer_args), 3, norm=nn.LayerNorm(8))
    assert list(gl.state_dict()) == list(th.state_dict())
    mask = np.triu(np.ones((5, 5), dtype=bool), 1)  # True = masked out
    out = twin(gl, th, randn(5, 2, 8, seed=5), mask, None, True)[0]
    # the copies are independent: changing one layer leaves the others alone
    gl.layers[0].linear1.weight.data.zero_()
    assert np.any(gl.layers[1].linear1.weight.detach().numpy() != 0)
    assert out.shape == (5, 2, 8)


def test_decoder_stack_and_full_transformer_match_torch():
    args = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
                dropout=0.0)
    gl, th = nn.Transformer(**args), torch.nn.Transformer(**args)
    assert list(gl.state_dict()) == list(th.state_dict())
    tgt_mask = np.triu(np.ones((4, 4), dtype=bool), 1)
    src_padding = np.zeros((2, 6), dtype=bool)
    src_padding[0, 5] = True
    twin(gl, th, randn(6, 2, 8, seed=6), randn(4, 2, 8, seed=7), None, tgt_mask, None, src_padding,
         None, src_padding)


def test_transformer_init_is_xavier_and_checks_shapes():
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()  # (32, 16): bound sqrt(6 / 48)
    assert np.abs(w).max() <= np.sqrt(6 / 48) and np.abs(w).max() > 0.8 * np.sqrt(6 / 48)
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        model(gradlab.zeros(3, 2, 16), gradlab.zeros(3, 4, 16))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_dropout_makes_training_random_and_eval_deterministic():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = gradlab.randn(5, 2, 8)
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())

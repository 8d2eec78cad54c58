"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch
(float64, values and gradients, PyTorch state dicts loaded unchanged)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_twin import module_gradcheck, twin

import gradlab
from gradlab import nn
from gradlab.nn import functional as F
from helpers import check, gradchecks, randn

TF = torch.nn.functional


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.3}])
def test_sdpa_matches_torch(kwargs):
    q, k, v = randn(2, 3, 5, 4, seed=1), randn(2, 3, 6, 4, seed=2), randn(2, 3, 6, 2, seed=3)
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kwargs), q, k, v)


def test_sdpa_bool_mask_takes_part_where_true_and_a_fully_masked_query_gives_zeros():
    q, k, v = randn(2, 5, 4, seed=4), randn(2, 6, 4, seed=5), randn(2, 6, 3, seed=6)
    mask = np.random.default_rng(7).random((5, 6)) > 0.4
    mask[2] = False
    check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
          lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m), q, k, v, mask)
    out = F.scaled_dot_product_attention(gradlab.tensor(q), gradlab.tensor(k), gradlab.tensor(v),
                                         attn_mask=gradlab.tensor(mask))
    assert np.all(out.numpy()[:, 2] == 0)


def test_sdpa_float_mask_and_grouped_query_heads():
    q, k, v = randn(1, 4, 3, 2, seed=8), randn(1, 2, 5, 2, seed=9), randn(1, 2, 5, 2, seed=10)
    mask = randn(3, 5, seed=11)
    check(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=True),
          lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=True),
          q, k, v, mask)


def test_sdpa_dropout_keeps_the_expectation_and_rejects_bad_p():
    gradlab.manual_seed(0)
    q = gradlab.zeros(1, 1, 4)  # uniform weights 1/200 over 200 keys
    v = gradlab.ones(1, 200, 1)
    outs = [F.scaled_dot_product_attention(q, gradlab.zeros(1, 200, 4), v, dropout_p=0.5).item()
            for _ in range(200)]
    assert abs(np.mean(outs) - 1.0) < 0.03 and np.std(outs) > 0.02
    with pytest.raises(ValueError, match="dropout_p must be in"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=gradlab.ones(1, 1), is_causal=True)


def test_sdpa_gradcheck():
    gradchecks(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
               randn(2, 3, 2, seed=12), randn(2, 3, 2, seed=13), randn(2, 3, 2, seed=14))


class _GlOutput(nn.Module):
    """The attention output alone (twin compares every returned tensor)."""

    def __init__(self, mha):
        super().__init__()
        self.mha = mha

    def forward(self, *args):
        return self.mha(*args)[0]


class _ThOutput(torch.nn.Module):
    def __init__(self, mha):
        super().__init__()
        self.mha = mha

    def forward(self, *args):
        return self.mha(*args)[0]


def _pair(**kwargs):
    return nn.MultiheadAttention(8, 2, **kwargs), torch.nn.MultiheadAttention(8, 2, **kwargs)


@pytest.mark.parametrize("train", [True, False])
def test_mha_self_attention_matches_torch(train):
    x = randn(5, 3, 8, seed=15)
    twin(*_pair(), x, x, x, train=train)


def test_mha_masks_and_per_head_weights():
    q, k = randn(5, 3, 8, seed=16), randn(6, 3, 8, seed=17)
    rng = np.random.default_rng(18)
    padding = rng.random((3, 6)) > 0.7
    mask = rng.random((5, 6)) > 0.7
    padding[:, 0] = mask[:, 0] = False  # no query loses every key (NaN rows, as PyTorch's)
    twin(*_pair(), q, k, k, padding, True, mask, False)
    twin(*_pair(), q, k, k, randn(3, 6, seed=19), True, randn(5, 6, seed=20))


def test_mha_kdim_vdim_no_bias_3d_mask_and_no_weights():
    q, k, v = randn(5, 3, 8, seed=21), randn(6, 3, 4, seed=22), randn(6, 3, 3, seed=23)
    gl, th = nn.MultiheadAttention(8, 4, kdim=4, vdim=3, bias=False), \
        torch.nn.MultiheadAttention(8, 4, kdim=4, vdim=3, bias=False)
    assert list(gl.state_dict()) == list(th.state_dict())
    twin(_GlOutput(gl), _ThOutput(th), q, k, v, None, False, randn(12, 5, 6, seed=24))


def test_mha_bias_kv_zero_attn_batch_first_and_unbatched():
    gl, th = _pair(add_bias_kv=True, add_zero_attn=True, batch_first=True)
    assert list(gl.state_dict()) == list(th.state_dict())
    x, padding = randn(3, 5, 8, seed=25), np.zeros((3, 5), dtype=bool)
    padding[1, 3:] = True
    twin(gl, th, x, x, x, padding)
    twin(*_pair(), randn(4, 8, seed=26), randn(6, 8, seed=27), randn(6, 8, seed=28))


def test_mha_is_causal_needs_a_mask_and_uses_the_causal_one():
    x = randn(4, 2, 8, seed=29)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)  # True = masked out
    gl, th = _pair()
    twin(_GlOutput(gl), _ThOutput(th), x, x, x, None, False, causal, True, True)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        nn.MultiheadAttention(8, 2)(gradlab.zeros(4, 2, 8), gradlab.zeros(4, 2, 8), gradlab.zeros(4, 2, 8),
                                    is_causal=True)


def test_mha_bad_arguments():
    with pytest.raises(ValueError, match="embed_dim \\(6\\) must be divisible by num_heads \\(4\\)"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(RuntimeError, match="2D attn_mask is \\(3, 3\\), but should be \\(4, 4\\)"):
        mha(gradlab.zeros(4, 1, 8), gradlab.zeros(4, 1, 8), gradlab.zeros(4, 1, 8),
            attn_mask=gradlab.zeros(3, 3))
    with pytest.raises(TypeError, match="only bool and floating types of attn_mask"):
        mha(gradlab.zeros(4, 1, 8), gradlab.zeros(4, 1, 8), gradlab.zeros(4, 1, 8),
            attn_mask=gradlab.zeros(4, 4, dtype=gradlab.int64))


def test_mha_dropout_in_training_only():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = gradlab.randn(6, 2, 8)
    _, w_train = mha(x, x, x)
    mha.eval()
    _, w_eval = mha(x, x, x)
    assert np.allclose(w_eval.detach().numpy().sum(-1), 1.0)
    assert not np.allclose(w_train.detach().numpy().sum(-1), 1.0)


def test_mha_gradcheck():
    module_gradcheck(nn.MultiheadAttention(4, 2), randn(3, 2, 4, seed=30), randn(3, 2, 4, seed=31),
                     randn(3, 2, 4, seed=32), double=False)

"""Scaled dot-product attention and multi-head attention, as
``torch.nn.functional.scaled_dot_product_attention`` and
``multi_head_attention_forward``, composed from matmul, softmax and dropout
(so every order of gradient comes from those ops' rules).

Attention (Vaswani et al., "Attention Is All You Need", 2017, eq. 1):

    Attention(Q, K, V) = softmax(Q K^T * scale + M) V,   scale = 1 / sqrt(d_k)

where M is an additive mask: 0 where a query may look at a key and -inf
where it may not. Boolean masks are turned into such an M; note PyTorch's
two conventions, kept here: in ``scaled_dot_product_attention`` True means
*take part*, in ``MultiheadAttention`` (attn_mask and key_padding_mask) True
means *masked out*.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn.functional.activation import softmax
from gradlab.nn.functional.norm import dropout
from gradlab.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


def _float_mask(mask: Any, dtype: Any, masked_value: bool, name: str) -> Tensor | None:
    """An additive float mask from a bool or float Tensor: -inf where a bool
    mask equals ``masked_value``, the values themselves for a float mask."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        xp = backend.array_module(mask.array)
        hidden = mask.array if masked_value else ~mask.array
        return Tensor._make(xp.where(hidden, -math.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def causal_mask(target: int, source: int, dtype: Any, device: Any = None) -> Tensor:
    """The additive mask that lets query i see keys 0..i only (upper triangle
    -inf), as ``torch.ones(L, S).tril()`` used as a take-part mask."""
    allowed = np.tril(np.ones((target, source), dtype=bool))
    mask = np.where(allowed, 0.0, -math.inf).astype(dtype)
    return Tensor._make(mask if device is None else backend.to_device(mask, device))


def attention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, dropout_p: float,
              scale: float, safe: bool, generator: Any = None) -> tuple[Tensor, Tensor]:
    """softmax(Q K^T scale + mask) V and the attention weights (after dropout).

    With ``safe`` a query whose keys are all masked gets zero weights (as
    PyTorch's scaled_dot_product_attention) instead of NaN (as its
    MultiheadAttention with need_weights=True).
    """
    scores = (query * scale) @ key.mT
    dead = None
    if mask is not None:
        scores = scores + mask
        if safe:
            xp = backend.array_module(mask.array)
            dead_rows = xp.all(xp.isneginf(xp.broadcast_to(mask.array, scores.shape)), axis=-1,
                               keepdims=True)
            if dead_rows.any():
                dead = Tensor._make(dead_rows)
                scores = scores.masked_fill(dead, 0.0)
    weights = softmax(scores, dim=-1)
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True, generator=generator)
    return weights @ value, weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + M) V over the last two dimensions, as PyTorch's.

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, E_v).
        attn_mask: broadcastable to (..., L, S); a bool mask says which
            keys each query may attend to (True = take part), a float mask is
            added to the scores.
        dropout_p: dropout on the attention weights (always applied when
            > 0, as PyTorch's function; pass 0.0 in evaluation).
        is_causal: the causal mask (query i sees keys 0..i); not together
            with ``attn_mask``.
        scale: the factor on Q K^T (default 1 / sqrt(E)).
        enable_gqa: let ``key`` and ``value`` have fewer heads (dim -3) than
            ``query``, each shared by a group of query heads.

    Returns:
        (..., L, E_v). A query whose keys are all masked gets zeros.
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at least 2-D, got "
                           f"shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {tuple(query.shape)} and key "
                           f"{tuple(key.shape)} must share the last dimension, key and value "
                           f"{tuple(value.shape)} the sequence length")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p must be in [0, 1), got {dropout_p!r}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: explicit attn_mask should not be set when "
                           "is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads:
            raise RuntimeError(f"enable_gqa: query heads ({heads}) must be a multiple of key/value "
                               f"heads ({kv_heads})")
        key, value = (_repeat_heads(t, heads // kv_heads) for t in (key, value))
    target, source = query.shape[-2], key.shape[-2]
    if is_causal:
        mask = causal_mask(target, source, query.dtype, query.device)
    else:
        mask = _float_mask(attn_mask, query.dtype, masked_value=False, name="attn_mask")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return attention(query, key, value, mask, float(dropout_p), scale, safe=True)[0]


def _repeat_heads(t: Tensor, times: int) -> Tensor:
    """(..., H, S, E) -> (..., H * times, S, E), each head repeated ``times``
    times in a row (``repeat_interleave`` on dim -3)."""
    shape = t.shape
    expanded = t.unsqueeze(-3).expand(*shape[:-2], times, *shape[-2:])
    return expanded.reshape(*shape[:-3], shape[-3] * times, *shape[-2:])

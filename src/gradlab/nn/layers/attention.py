"""Multi-head attention, as ``torch.nn.MultiheadAttention`` (same parameter
names, layouts and masks, so a PyTorch state dict loads unchanged)."""

from __future__ import annotations

import math
from typing import Any

from gradlab import creation
from gradlab.backend import Generator
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.functional.attention import _float_mask, attention, causal_mask
from gradlab.nn.layers._factory import check_positive, new_parameter
from gradlab.nn.layers.linear import Linear
from gradlab.nn.module import Module
from gradlab.ops.movement import cat
from gradlab.tensor import Tensor

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017, section 3.2.2):

        MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
        head_i = softmax((Q W_i^Q)(K W_i^K)^T / sqrt(d) + M) (V W_i^V),   d = embed_dim / h

    Args:
        embed_dim: E, the model width (of the queries and the output).
        num_heads: h; E must be divisible by it.
        dropout: dropout on the attention weights (in training).
        bias: biases on the input and output projections.
        add_bias_kv: learnt ``bias_k`` / ``bias_v`` appended to the keys and
            values as one more position.
        add_zero_attn: a zero key and value appended as one more position.
        kdim, vdim: widths of key and value (default E); if either differs,
            the projections are ``q_proj_weight``, ``k_proj_weight``,
            ``v_proj_weight`` instead of one packed ``in_proj_weight`` (3E, E).
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` returns
    ``(output, weights)``: output (L, N, E) (or batch first, or (L, E)
    unbatched), weights (N, L, S) averaged over heads, (N, h, L, S) with
    ``average_attn_weights=False``, or None with ``need_weights=False``.
    In ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N h, L, S),
    True means *masked out*; float masks are added to the scores.
    ``is_causal`` is a hint that ``attn_mask`` is the causal mask (required
    with it, as PyTorch).

    Example:
        >>> import gradlab
        >>> mha = gradlab.nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = gradlab.randn(3, 5, 8)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None, *, generator: Generator | None = None) -> None:
        super().__init__()
        check_positive(embed_dim, "embed_dim")
        check_positive(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, float(dropout)
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else check_positive(kdim, "kdim")
        self.vdim = embed_dim if vdim is None else check_positive(vdim, "vdim")
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.add_zero_attn = batch_first, add_zero_attn
        factory = dict(device=device, dtype=dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = new_parameter(3 * embed_dim, embed_dim, **factory)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = new_parameter(embed_dim, embed_dim, **factory)
            self.k_proj_weight = new_parameter(embed_dim, self.kdim, **factory)
            self.v_proj_weight = new_parameter(embed_dim, self.vdim, **factory)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = new_parameter(3 * embed_dim, **factory)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, generator=generator, **factory)
        if add_bias_kv:
            self.bias_k = new_parameter(1, 1, embed_dim, **factory)
            self.bias_v = new_parameter(1, 1, embed_dim, **factory)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters(generator)

    def _reset_parameters(self, generator: Generator | None = None) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal
        bias_k / bias_v (out_proj.weight keeps Linear's default)."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w, generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b, generator=generator)

    def _projections(self) -> tuple[Tensor, Tensor, Tensor]:
        if self._qkv_same_embed_dim:
            e = self.embed_dim
            w = self.in_proj_weight
            return w[:e], w[e:2 * e], w[2 * e:]
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None,
                average_attn_weights: bool = True, is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise RuntimeError("MultiheadAttention: query, key and value must all be 3-D (batched) or "
                               f"2-D (unbatched), got shapes {tuple(query.shape)}, {tuple(key.shape)}, "
                               f"{tuple(value.shape)}")
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = self._attend(query, key, value, key_padding_mask, need_weights, attn_mask,
                                    average_attn_weights, is_causal)
        if not batched:
            return out.squeeze(1), None if weights is None else weights.squeeze(0)
        return (out.transpose(0, 1) if self.batch_first else out), weights

    def _attend(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
                need_weights: bool, attn_mask: Tensor | None, average_attn_weights: bool,
                is_causal: bool) -> tuple[Tensor, Tensor | None]:
        """Attention on sequence-first inputs: query (L, N, E), key (S, N, kdim)."""
        target, batch, e = query.shape
        h, d = self.num_heads, self.head_dim
        if e != self.embed_dim:
            raise RuntimeError(f"MultiheadAttention: was expecting embedding dimension of {self.embed_dim}, "
                               f"but got {e}")
        if key.shape[:2] != value.shape[:2] or key.shape[1] != batch:
            raise RuntimeError(f"MultiheadAttention: key {tuple(key.shape)} and value {tuple(value.shape)} "
                               f"must share (S, N) with N = {batch}")
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        wq, wk, wv = self._projections()
        bq = bk = bv = None
        if self.in_proj_bias is not None:
            bq, bk, bv = self.in_proj_bias[:e], self.in_proj_bias[e:2 * e], self.in_proj_bias[2 * e:]
        q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)
        dtype = q.dtype
        mask = _float_mask(attn_mask, dtype, masked_value=True, name="attn_mask")
        padding = _float_mask(key_padding_mask, dtype, masked_value=True, name="key_padding_mask")
        if is_causal and padding is None and not need_weights:
            # PyTorch then trusts the hint and uses the true causal mask
            mask = causal_mask(target, key.shape[0], dtype, query.device)
        if mask is not None:
            if mask.ndim == 2:
                if mask.shape != (target, key.shape[0]):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(mask.shape)}, but should be "
                                       f"{(target, key.shape[0])}.")
                mask = mask.unsqueeze(0)
            elif mask.ndim != 3 or mask.shape != (batch * h, target, key.shape[0]):
                raise RuntimeError(f"The shape of the attn_mask is {tuple(mask.shape)}, but should be "
                                   f"{(batch * h, target, key.shape[0])}.")
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, batch, e)])
            v = cat([v, self.bias_v.expand(1, batch, e)])
            mask, padding = _pad_last(mask), _pad_last(padding)
        q = q.reshape(target, batch * h, d).transpose(0, 1)            # (N h, L, d)
        k = k.reshape(k.shape[0], batch * h, d).transpose(0, 1)        # (N h, S, d)
        v = v.reshape(v.shape[0], batch * h, d).transpose(0, 1)
        if self.add_zero_attn:
            zeros = creation.zeros(batch * h, 1, d, dtype=dtype, device=q.device)
            k, v = cat([k, zeros], 1), cat([v, zeros], 1)
            mask, padding = _pad_last(mask), _pad_last(padding)
        source = k.shape[1]
        if padding is not None:
            if padding.shape != (batch, source):
                raise RuntimeError(f"expecting key_padding_mask shape of {(batch, source)}, but got "
                                   f"{tuple(padding.shape)}")
            padding = padding.reshape(batch, 1, 1, source).expand(batch, h, 1, source)
            padding = padding.reshape(batch * h, 1, source)
            mask = padding if mask is None else mask + padding
        p = self.dropout if self.training else 0.0
        # need_weights=False is PyTorch's scaled_dot_product_attention path:
        # fully masked queries then give zeros instead of NaN
        out, weights = attention(q, k, v, mask, p, 1.0 / math.sqrt(d), safe=not need_weights)
        out = out.transpose(0, 1).reshape(target * batch, e)
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias).reshape(target, batch, e)
        if not need_weights:
            return out, None
        weights = weights.reshape(batch, h, target, source)
        return out, weights.mean(1) if average_attn_weights else weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, " \
               f"batch_first={self.batch_first}"


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """``mask`` with one more (visible) position on its last axis."""
    if mask is None:
        return None
    return F.pad(mask, (0, 1))

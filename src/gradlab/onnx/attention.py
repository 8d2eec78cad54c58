"""MultiheadAttention as ONNX nodes, with PyTorch's semantics and parameter
names (``in_proj_weight`` (3E, E) and ``in_proj_bias``, or ``q_proj_weight``,
``k_proj_weight``, ``v_proj_weight`` when key and value have other sizes;
``out_proj``), sequence first unless ``batch_first``:

    Q = q W_q^T + b_q,  K = k W_k^T + b_k,  V = v W_v^T + b_v   (per head, d = E / h)
    A = softmax(Q K^T / sqrt(d)),  out = concat_heads(A V) W_o^T + b_o

and the attention weights averaged over the heads (or per head), as
``need_weights`` and ``average_attn_weights`` ask (Vaswani et al. 2017).
Masks, ``is_causal``, ``add_bias_kv`` and ``add_zero_attn`` are refused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.onnx.graph import Graph, UnsupportedOperatorError
from gradlab.onnx.modules import host
from gradlab.onnx.registry import named_module_converter
from gradlab.tensor import Tensor

__all__: list[str] = []


def _project(g: Graph, x: str, weight: np.ndarray, bias: np.ndarray | None) -> str:
    y = g.node("MatMul", [x, g.constant(np.ascontiguousarray(weight.T), "attn_w")])
    return g.node("Add", [y, g.constant(bias, "attn_b")]) if bias is not None else y


def _heads(g: Graph, x: str, heads: int, d: int) -> str:
    """(L, N, E) -> (N h, L, d), as PyTorch's view(L, N h, d).transpose(0, 1)."""
    return g.node("Transpose", [g.node("Reshape", [x, g.ints([0, -1, d])])], perm=[1, 0, 2])


@named_module_converter("MultiheadAttention")
def _multihead_attention(g: Graph, m: Any, inputs: list, args: tuple, out: Any) -> Any:
    used = {k: v for k, v in g.call_kwargs.items()
            if k in ("key_padding_mask", "attn_mask") and v is not None or k == "is_causal" and v}
    if used or len(args) > 3:
        raise UnsupportedOperatorError(
            f"ONNX export: MultiheadAttention with masks or is_causal is not exportable (got {sorted(used)})"
        )
    if getattr(m, "bias_k", None) is not None or getattr(m, "add_zero_attn", False):
        raise UnsupportedOperatorError("ONNX export: MultiheadAttention with add_bias_kv or add_zero_attn "
                                       "is not exportable")
    e, h = m.embed_dim, m.num_heads
    d = e // h
    q, k, v = inputs[:3]
    if m.batch_first:
        q, k, v = (g.node("Transpose", [x], perm=[1, 0, 2]) for x in (q, k, v))
    if m.in_proj_weight is not None:
        w = host(m.in_proj_weight)
        weights = [w[:e], w[e:2 * e], w[2 * e:]]
    else:
        weights = [host(m.q_proj_weight), host(m.k_proj_weight), host(m.v_proj_weight)]
    b = host(m.in_proj_bias) if m.in_proj_bias is not None else None
    biases = [None] * 3 if b is None else [b[:e], b[e:2 * e], b[2 * e:]]
    qh, kh, vh = (_heads(g, _project(g, x, w, bias), h, d) for x, w, bias in zip((q, k, v), weights, biases))
    dtype = weights[0].dtype
    scores = g.node("MatMul", [qh, g.node("Transpose", [kh], perm=[0, 2, 1])])
    scores = g.node("Mul", [scores, g.constant(np.asarray(1.0 / math.sqrt(d), dtype), "scale")])
    attention = g.node("Softmax", [scores], axis=-1)  # (N h, L, S)
    context = g.node("Transpose", [g.node("MatMul", [attention, vh])], perm=[1, 0, 2])  # (L, N h, d)
    context = g.node("Reshape", [context, g.ints([0, -1, e])])  # (L, N, E)
    result = _project(g, context, host(m.out_proj.weight),
                      host(m.out_proj.bias) if m.out_proj.bias is not None else None)
    if m.batch_first:
        result = g.node("Transpose", [result], perm=[1, 0, 2])
    weights_out = out[1] if isinstance(out, tuple) else None
    if not isinstance(weights_out, Tensor):
        return result, None
    length, source = args[0].shape[1 if m.batch_first else 0], args[1].shape[1 if m.batch_first else 0]
    per_head = g.node("Reshape", [attention, g.ints([-1, h, length, source])])  # (N, h, L, S)
    if weights_out.ndim == 4:  # average_attn_weights=False
        return result, per_head
    total = g.node("ReduceSum", [per_head, g.ints([1])], keepdims=0)
    return result, g.node("Mul", [total, g.constant(np.asarray(1.0 / h, dtype), "mean")])

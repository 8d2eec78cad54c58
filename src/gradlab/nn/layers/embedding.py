"""Embedding: a lookup table of learned vectors."""

from __future__ import annotations

from typing import Any

from gradlab.autograd import no_grad
from gradlab.backend import Generator
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.layers._factory import check_positive, new_parameter
from gradlab.nn.module import Module
from gradlab.tensor import Tensor


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each index i.

    Initialized N(0, 1) as PyTorch's; the row ``padding_idx`` (if given) is
    zero and receives no gradient.

    Shape: integer (*) -> (*, embedding_dim).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, device: Any = None, dtype: Any = None, *,
                 generator: Generator | None = None) -> None:
        super().__init__()
        self.num_embeddings = check_positive(num_embeddings, "num_embeddings")
        self.embedding_dim = check_positive(embedding_dim, "embedding_dim")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"padding_idx must be within num_embeddings ({num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx %= num_embeddings
        if max_norm is not None:
            raise NotImplementedError("Embedding: max_norm is not supported")
        self.padding_idx, self.max_norm = padding_idx, max_norm
        self.weight = new_parameter(num_embeddings, embedding_dim, device=device, dtype=dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")

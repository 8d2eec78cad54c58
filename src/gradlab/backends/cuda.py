"""``gradlab.backends.cuda``: ``matmul.allow_tf32`` and friends, settable,
with no effect (gradlab multiplies matrices in the tensors' own dtype)."""

from __future__ import annotations

from gradlab import backend


class _MatmulFlags:
    """``gradlab.backends.cuda.matmul``: PyTorch's matmul precision switches."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    """Whether gradlab can use a GPU here (CuPy installed and a GPU seen)."""
    return backend.cuda_available()

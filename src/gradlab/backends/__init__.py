"""``gradlab.backends``: PyTorch's backend switches, for programs that set
them (``torch.backends.cudnn.benchmark = True``).

gradlab has no cuDNN and no TF32 path: the flags are accepted, remembered
and read back, and change nothing (DESIGN.md: performance flags are accepted
for compatibility, not made into machinery). ``cudnn.deterministic`` is
remembered too; gradlab's CPU ops are deterministic anyway.
"""

from __future__ import annotations

from gradlab.backends import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]

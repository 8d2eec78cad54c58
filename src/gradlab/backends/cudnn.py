"""``gradlab.backends.cudnn``: settable flags with no effect (gradlab does
not use cuDNN)."""

from __future__ import annotations

benchmark: bool = False
deterministic: bool = False
enabled: bool = True
allow_tf32: bool = True


def is_available() -> bool:
    """False: gradlab computes without cuDNN."""
    return False


def version() -> None:
    """None, as PyTorch's when cuDNN is not available."""
    return None

"""``gradlab.accelerator``: device-agnostic code, as ``torch.accelerator``::

    device = gradlab.accelerator.current_accelerator() if \\
        gradlab.accelerator.is_available() else gradlab.device("cpu")

gradlab's only accelerator is an NVIDIA GPU through CuPy.
"""

from __future__ import annotations

from gradlab import backend, cuda


def is_available() -> bool:
    """Whether a GPU can be used (CuPy installed and a GPU seen)."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> backend.Device | None:
    """The accelerator's device (``device(type='cuda', index=0)``), or None
    when there is none (as PyTorch's; ``check_available`` is accepted)."""
    if not cuda.is_available():
        return None
    return backend.Device("cuda")


def device_count() -> int:
    """How many GPUs can be used (0 without one)."""
    return cuda.device_count()


def synchronize(device: object = None) -> None:
    """Wait for queued GPU work; a no-op without a GPU."""
    cuda.synchronize()

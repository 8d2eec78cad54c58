"""The GPU: whether one can be used, and how many there are.

gradlab runs on an NVIDIA GPU through CuPy (``pip install cupy-cuda12x``).
Nothing in gradlab needs it; without it every tensor lives on the CPU.
"""

from gradlab import backend


def is_available() -> bool:
    """True when CuPy is installed and sees a GPU."""
    return backend.cuda_available()


def device_count() -> int:
    if not is_available():
        return 0
    return backend._cupy().cuda.runtime.getDeviceCount()


def synchronize() -> None:
    """Wait for all queued GPU work (for timing); a no-op without a GPU."""
    if is_available():
        backend._cupy().cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    """Seed GPU random numbers. gradlab draws random numbers on the host with
    the generator given (or the default one) and copies them, so this seeds
    the default generator, as ``gradlab.manual_seed`` does."""
    backend.manual_seed(seed)


manual_seed_all = manual_seed

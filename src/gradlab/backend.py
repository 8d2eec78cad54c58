"""Array backends, devices, dtypes and random number generators.

gradlab computes on NumPy arrays on the CPU and on CuPy arrays on an NVIDIA
GPU. Op code never asks which one it has: it takes the array module from the
data (``xp = array_module(x)``), the way chainer's ``get_array_module`` does.
The few operations that NumPy and CuPy spell differently (an unbuffered
scatter-add, special functions) live here, so that this is the only module
that knows there are two backends. CuPy is imported lazily, the first time a
GPU is asked for.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import scipy.special

__all__ = [
    "Device",
    "Generator",
    "array_module",
    "default_generator",
    "device_of",
    "manual_seed",
]

# ----------------------------------------------------------------------------
# devices and array modules
# ----------------------------------------------------------------------------
class Device:
    """Where a tensor's data lives: ``Device("cpu")`` or ``Device("cuda", 0)``.

    Accepts the same strings as PyTorch: ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | Device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, Device):
            type, index = type.type, type.index  # noqa: A001
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")  # noqa: A001
            if not idx.isdigit():
                raise ValueError(f"device index must be a number, got {idx!r}")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {type!r}")
        if type == "cuda" and index is None:
            index = 0
        if type == "cpu":
            index = None
        self.type = type
        self.index = index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = Device(other)
        return (
            isinstance(other, Device)
            and self.type == other.type
            and self.index == other.index
        )

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            "" if self.index is None else f", index={self.index}"
        ) + ")"


CPU = Device("cpu")


@functools.cache
def _cupy() -> Any:
    """Import CuPy on first use; None if it is not installed."""
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def cuda_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    cp = _cupy()
    if cp is None:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - a broken driver means "no GPU"
        return False


def array_module(array: Any) -> Any:
    """The array module (numpy or cupy) that owns ``array``."""
    if type(array) is np.ndarray or isinstance(array, (np.generic, np.ndarray)):
        return np
    cp = _cupy()
    if cp is not None and isinstance(array, cp.ndarray):
        return cp
    return np


def device_of(array: Any) -> Device:
    """The Device that holds ``array``."""
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    return Device("cuda", array.device.id)


def to_device(array: Any, device: Device) -> Any:
    """Copy ``array`` to ``device`` (no copy if it is already there)."""
    if device.type == "cpu":
        if isinstance(array, (np.ndarray, np.generic)):
            return array
        return array.get()
    if not cuda_available():
        raise RuntimeError(
            f"device {device} was asked for, but no GPU can be used: "
            "install CuPy (pip install cupy-cuda12x) on a machine with an "
            "NVIDIA GPU; gradlab.cuda.is_available() says whether one is ready"
        )
    cp = _cupy()
    with cp.cuda.Device(device.index):
        return cp.asarray(array)


def as_array(value: Any, dtype: np.dtype | None = None) -> np.ndarray:
    """Turn a NumPy scalar into a 0-d array; arrays pass through.

    NumPy returns scalars, not arrays, from operations on 0-d arrays; a
    Tensor always holds an array.
    """
    return np.asarray(value, dtype=dtype)


# ----------------------------------------------------------------------------
# the operations the two backends spell differently
# ----------------------------------------------------------------------------
def add_at(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` with repeated indices accumulated."""
    if isinstance(target, np.ndarray):
        np.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def expit(array: Any) -> Any:
    """The logistic sigmoid 1 / (1 + e^-x), elementwise."""
    if isinstance(array, np.ndarray):
        # SciPy computes float16 in a wider type; keep the input's dtype
        return scipy.special.expit(array).astype(array.dtype, copy=False)
    import cupyx.scipy.special

    return cupyx.scipy.special.expit(array)


def erf(array: Any) -> Any:
    """The error function, elementwise."""
    if isinstance(array, np.ndarray):
        return scipy.special.erf(array).astype(array.dtype, copy=False)
    import cupyx.scipy.special

    return cupyx.scipy.special.erf(array)


# ----------------------------------------------------------------------------
# random numbers
# ----------------------------------------------------------------------------
_FLOAT64 = np.dtype(np.float64)
_INT64 = np.dtype(np.int64)


class Generator:
    """A random number generator that is passed explicitly, as PyTorch's.

    It wraps NumPy's PCG64 bit generator. Numbers are always drawn on the
    host and then moved to the requested device, so a seed gives the same
    numbers on CPU and GPU.

    Example:
        >>> g = Generator().manual_seed(0)
        >>> a = g.normal((2, 3))
        >>> b = Generator().manual_seed(0).normal((2, 3))
        >>> bool((a == b).all())
        True
    """

    def __init__(self, device: str | Device = "cpu") -> None:
        self.device = Device(device)
        self._seed = 67280421310721  # PyTorch's default initial seed
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        """Reseed; returns self so that ``Generator().manual_seed(0)`` chains."""
        if not isinstance(seed, (int, np.integer)) or isinstance(
            seed, bool
        ):
            raise TypeError(f"seed must be an int, got {seed!r}")
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the seed."""
        seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The full state as a JSON-serialisable dict (PyTorch returns a byte
        tensor; a dict is what NumPy's bit generator has and what a
        checkpoint's JSON metadata can hold)."""
        return {"seed": self._seed, "bit_generator": self._rng.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise ValueError(
                "state must be a dict returned by Generator.get_state(), "
                f"got {type(state).__name__}"
            )
        self._seed = state.get("seed", self._seed)
        self._rng.bit_generator.state = state["bit_generator"]
        return self

    @property
    def numpy(self) -> np.random.Generator:
        """The underlying ``numpy.random.Generator`` (for code that works on
        host arrays, such as data augmentation)."""
        return self._rng

    # The draws below return host arrays; the creation functions move them.
    def uniform(self, shape: tuple, low: float = 0.0, high: float = 1.0,
                dtype: np.dtype = _FLOAT64) -> np.ndarray:
        return self._rng.uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, shape: tuple, mean: float = 0.0, std: float = 1.0,
               dtype: np.dtype = _FLOAT64) -> np.ndarray:
        return self._rng.normal(mean, std, size=shape).astype(dtype, copy=False)

    def integers(self, low: int, high: int, shape: tuple,
                 dtype: np.dtype = _INT64) -> np.ndarray:
        return self._rng.integers(low, high, size=shape, dtype=dtype)

    def permutation(self, n: int) -> np.ndarray:
        return self._rng.permutation(n)

    def __repr__(self) -> str:
        return f"Generator(device='{self.device}', initial_seed={self._seed})"


default_generator = Generator()


def resolve_generator(generator: Generator | None) -> Generator:
    """``generator``, or the default generator when it is None; anything
    else (NumPy's global state, a seed) is refused by name."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a gradlab.Generator, got {type(generator).__name__}")
    return generator


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (as ``torch.manual_seed``); returns it."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def seed() -> int:
    return default_generator.seed()

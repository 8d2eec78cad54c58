"""How the C allocator under NumPy treats the memory gradlab frees.

A training step allocates and frees the same large arrays again and again:
activations, their gradients, im2col columns. With glibc's default policy
each array above the *mmap threshold* (128 KiB, raised as the program runs
but only to the size of the largest array freed so far) is a fresh ``mmap``,
and freeing it hands the pages back to the kernel, as does freeing memory at
the top of the heap beyond the *trim threshold*. The next step then asks for
the same memory again and the kernel must fault in and zero every page
before NumPy can write a number into it: a cost paid per byte, on every
step, that no arithmetic needs. On this project's machines it was a third
of a small CNN's training step (63 ms with it, 42 ms without).

PyTorch's CUDA allocator avoids the same cost by caching freed blocks. On
the CPU gradlab does the equivalent through glibc's ``mallopt``: large
arrays come from the heap (``M_MMAP_THRESHOLD``), and up to
``trim_threshold`` bytes of freed heap stay with the process
(``M_TRIM_THRESHOLD``), so the next step reuses pages already mapped. The
price is that a process keeps that much freed memory instead of returning it
to the system at once. gradlab applies this on import; set the environment
variable ``GRADLAB_RETAIN_FREED_MEMORY=0`` before importing it, or call
``retain_freed_memory(False)``, to keep glibc's own behaviour.

On a C library other than glibc (macOS, musl, Windows) there is no
``mallopt`` with these meanings, and the functions here change nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform
from functools import lru_cache

__all__ = ["is_retaining_freed_memory", "retain_freed_memory"]

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
# glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2: 32 MiB on 64-bit
_MMAP_THRESHOLD_MAX = 4 * 1024 * 1024 * ctypes.sizeof(ctypes.c_long)
# glibc's static defaults, restored by retain_freed_memory(False)
_GLIBC_MMAP_MAX = 65536
_GLIBC_MMAP_THRESHOLD = 128 * 1024
_GLIBC_TRIM_THRESHOLD = 128 * 1024

DEFAULT_TRIM_THRESHOLD = 256 * 1024 * 1024

_retaining = False


@lru_cache(maxsize=1)
def _mallopt():
    """glibc's ``mallopt``, or None where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        fn = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def retain_freed_memory(enabled: bool = True, *, trim_threshold: int = DEFAULT_TRIM_THRESHOLD) -> bool:
    """Keep freed array memory mapped for reuse (``enabled=True``) or return
    it to the system as glibc does by default (``enabled=False``).

    Enabling serves every array from the heap (none through its own
    ``mmap``) and keeps up to ``trim_threshold`` bytes of freed heap in the
    process; disabling restores glibc's static defaults (128 KiB for both
    thresholds, up to 65,536 mappings). Returns True if the C library
    took the setting, False where it is not glibc (nothing changes there).
    """
    global _retaining
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, got {enabled!r}")
    if isinstance(trim_threshold, bool) or not isinstance(trim_threshold, int) \
            or not 0 <= trim_threshold <= 2**31 - 1:
        raise ValueError(f"trim_threshold must be an int of bytes in [0, 2**31 - 1], "
                         f"got {trim_threshold!r}")
    mallopt = _mallopt()
    if mallopt is None:
        return False
    if enabled:
        mmap_threshold, mmap_max = _MMAP_THRESHOLD_MAX, 0
    else:
        mmap_threshold, trim_threshold = _GLIBC_MMAP_THRESHOLD, _GLIBC_TRIM_THRESHOLD
        mmap_max = _GLIBC_MMAP_MAX
    took = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) \
        and bool(mallopt(_M_MMAP_MAX, mmap_max)) \
        and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    _retaining = enabled and took
    return took


def is_retaining_freed_memory() -> bool:
    """Whether :func:`retain_freed_memory` is in effect in this process."""
    return _retaining


def _apply_environment() -> None:
    """The import-time default: retain, unless GRADLAB_RETAIN_FREED_MEMORY is
    0, false, no or off."""
    value = os.environ.get("GRADLAB_RETAIN_FREED_MEMORY", "1").strip().lower()
    if value in ("0", "false", "no", "off"):
        return
    if value not in ("1", "true", "yes", "on", ""):
        raise ValueError(f"GRADLAB_RETAIN_FREED_MEMORY must be 1 or 0 (true/false, yes/no, "
                         f"on/off), got {value!r}")
    retain_freed_memory(True)


_apply_environment()

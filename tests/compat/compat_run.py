"""Running one program under PyTorch and under gradlab, by the same file with
only the imported module switched.

Each compat test defines ``program(torch) -> dict`` written in the idiom of
PyTorch user code (``torch`` is the module under test: ``torch`` or
``gradlab``), and checks that both frameworks learn, and learn comparably.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from threadpoolctl import threadpool_limits

FRAMEWORKS = ("torch", "gradlab")


@functools.cache
def run(program: Callable[[Any], dict], framework: str) -> dict:
    """The result of ``program`` under ``framework`` (each runs once per session)."""
    module = importlib.import_module(framework)
    # Both run on one thread: a BLAS with a thread per core thrashes on a
    # shared CI machine (10x slower under load), which would time the load,
    # not the framework. torch's own pool is set apart from the BLAS.
    threads = module.get_num_threads() if framework == "torch" else None
    with threadpool_limits(limits=1):
        if threads is not None:
            module.set_num_threads(1)
        try:
            return program(module)
        finally:
            if threads is not None:
                module.set_num_threads(threads)


def assert_comparable(result: dict, reference: dict, key: str, rel: float = 0.0, abs_: float = 0.0) -> None:
    """``result[key]`` within ``rel`` (relative) or ``abs_`` of PyTorch's."""
    got, want = result[key], reference[key]
    assert abs(got - want) <= max(rel * abs(want), abs_), f"{key}: gradlab {got:.4g} vs torch {want:.4g}"

"""gradlab.memory: the allocator policy that keeps freed arrays mapped."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradlab import memory

MiB = 1024 * 1024


@pytest.fixture
def restore_policy():
    """Leave the process as gradlab's import left it."""
    yield
    memory.retain_freed_memory(True)


class _Recorder:
    def __init__(self, result: int = 1):
        self.calls: list[tuple[int, int]] = []
        self.result = result

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.result


def test_enabling_raises_both_thresholds(monkeypatch, restore_policy):
    rec = _Recorder()
    monkeypatch.setattr(memory, "_mallopt", lambda: rec)
    assert memory.retain_freed_memory(True, trim_threshold=64 * MiB) is True
    # M_MMAP_THRESHOLD (-3) to glibc's 32 MiB ceiling, M_MMAP_MAX (-4) to no mappings
    # (larger arrays from the heap too), M_TRIM_THRESHOLD (-1) as asked
    assert rec.calls == [(-3, 32 * MiB), (-4, 0), (-1, 64 * MiB)]
    assert memory.is_retaining_freed_memory()


def test_disabling_restores_glibc_static_defaults(monkeypatch, restore_policy):
    rec = _Recorder()
    monkeypatch.setattr(memory, "_mallopt", lambda: rec)
    assert memory.retain_freed_memory(False) is True
    assert rec.calls == [(-3, 128 * 1024), (-4, 65536), (-1, 128 * 1024)]
    assert not memory.is_retaining_freed_memory()


def test_refused_setting_is_reported(monkeypatch, restore_policy):
    monkeypatch.setattr(memory, "_mallopt", lambda: _Recorder(result=0))
    assert memory.retain_freed_memory(True) is False
    assert not memory.is_retaining_freed_memory()


def test_no_glibc_changes_nothing(monkeypatch, restore_policy):
    monkeypatch.setattr(memory, "_mallopt", lambda: None)
    assert memory.retain_freed_memory(True) is False
    assert not memory.is_retaining_freed_memory()


@pytest.mark.parametrize("kwargs, match", [
    ({"enabled": 1}, "enabled must be a bool, got 1"),
    ({"trim_threshold": -1}, "trim_threshold must be .* got -1"),
    ({"trim_threshold": 2**31}, "trim_threshold must be .* got 2147483648"),
    ({"trim_threshold": 1.5}, "trim_threshold must be .* got 1.5"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        memory.retain_freed_memory(**kwargs)


@pytest.mark.parametrize("value, applied", [("0", False), ("off", False), ("1", True), ("", True),
                                            ("Yes", True)])
def test_environment_variable(monkeypatch, value, applied):
    calls = []
    monkeypatch.setattr(memory, "retain_freed_memory", lambda enabled=True: calls.append(enabled))
    monkeypatch.setenv("GRADLAB_RETAIN_FREED_MEMORY", value)
    memory._apply_environment()
    assert calls == ([True] if applied else [])


def test_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv("GRADLAB_RETAIN_FREED_MEMORY", "maybe")
    with pytest.raises(ValueError, match="GRADLAB_RETAIN_FREED_MEMORY must be 1 or 0.*'maybe'"):
        memory._apply_environment()


_FAULTS = """
import resource, sys, numpy as np, gradlab
size = int(sys.argv[1])
np.ones(size // 8)  # allocated and freed, as the last step's array
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(size // 8)  # the same size again, filled
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, gradlab.memory.is_retaining_freed_memory())
"""


def _faults_in_fresh_process(retain: str, size: int = 3 * MiB) -> tuple[int, str]:
    """Minor page faults taken to fill a 3 MiB array right after one of the
    same size was freed (the pattern of a training step), in a new process
    (whose heap has no history) importing gradlab with the variable set."""
    env = dict(os.environ, GRADLAB_RETAIN_FREED_MEMORY=retain)
    done = subprocess.run([sys.executable, "-c", _FAULTS, str(size)], env=env, capture_output=True,
                          text=True, check=True)
    faults, retaining = done.stdout.split()
    return int(faults), retaining


def test_freed_memory_is_reused_without_page_faults():
    """The point of the policy, on the real C library: a 3 MiB array (below
    NumPy's 4 MiB huge-page threshold, so 768 small pages) refilled after a
    free faults in (nearly) every page under glibc's defaults and none when retained."""
    if memory._mallopt() is None:  # not glibc: the policy is a no-op there
        assert memory.retain_freed_memory(True) is False
        return
    default, default_flag = _faults_in_fresh_process("0")
    retained, retained_flag = _faults_in_fresh_process("1")
    assert (default_flag, retained_flag) == ("False", "True")
    assert default >= 500, default  # 768 pages, less whatever the heap had mapped already
    assert retained < 50, retained


def test_arrays_above_the_mmap_ceiling_are_reused_too():
    """A 64 MiB array (above the 32 MiB that glibc allows as mmap threshold,
    the size of a CIFAR-size CNN's im2col columns) refilled after a free:
    glibc maps it afresh, faulting in every page (or huge page) again, unless
    no allocation may be a mapping (M_MMAP_MAX = 0)."""
    if memory._mallopt() is None:
        assert memory.retain_freed_memory(True) is False
        return
    default, _ = _faults_in_fresh_process("0", 64 * MiB)
    retained, _ = _faults_in_fresh_process("1", 64 * MiB)
    assert default >= 30, default  # 32 huge pages at the least, 16,384 small ones at most
    assert retained < 5, retained

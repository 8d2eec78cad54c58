"""gradlab.set_num_threads: one thread count for Numba's kernels and the BLAS."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_info

import gradlab
from gradlab import threads


def _blas_counts():
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()
            if info["user_api"] == "blas"}


@pytest.fixture
def restore_threads():
    before = gradlab.get_num_threads()
    yield
    gradlab.set_num_threads(before)


@pytest.mark.parametrize("n", [1, 2])
def test_sets_numba_and_every_blas_pool(n, restore_threads):
    gradlab.set_num_threads(n)
    assert gradlab.get_num_threads() == n
    assert numba.get_num_threads() == min(n, numba.config.NUMBA_NUM_THREADS)
    counts = _blas_counts()
    assert counts and set(counts.values()) == {n}, counts


def test_more_threads_than_numba_started_with_go_to_the_blas(restore_threads):
    n = numba.config.NUMBA_NUM_THREADS + 3
    gradlab.set_num_threads(n)
    assert gradlab.get_num_threads() == n
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    assert set(_blas_counts().values()) == {n}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None])
def test_bad_counts_are_refused(bad, restore_threads):
    with pytest.raises(ValueError, match=r"n must be a positive integer, got"):
        gradlab.set_num_threads(bad)


def _count_in_fresh_process(env):
    code = ("import gradlab, numba\nfrom threadpoolctl import threadpool_info\n"
            "blas = {i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}\n"
            "print(gradlab.get_num_threads(), numba.get_num_threads(), *sorted(blas))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def test_default_is_the_cores_available():
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "1"  # a different BLAS count, which gradlab's default replaces
    n = threads.cores_available()
    assert _count_in_fresh_process(env) == [str(n)] * 3


def test_default_follows_omp_num_threads():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("NUMBA_NUM_THREADS", None)
    assert _count_in_fresh_process(env) == ["1"] * 3


def test_gradlab_train_threads_setting_covers_numba_too(restore_threads):
    from gradlab.train.run import blas_threads

    gradlab.set_num_threads(2)
    with blas_threads(1):
        assert numba.get_num_threads() == 1 and set(_blas_counts().values()) == {1}
    assert gradlab.get_num_threads() == 2
    assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    assert set(_blas_counts().values()) == {2}


def test_numba_runs_the_workqueue_layer_whose_workers_sleep():
    # the omp layer's spinning workers made a 2-thread MLP step 26x PyTorch's
    import subprocess
    import sys

    code = ("import numba, gradlab; from gradlab import nn; "
            "nn.functional.relu(gradlab.randn(64, 64, requires_grad=True)).sum().backward(); "
            "print(numba.threading_layer())")
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_THREADING_LAYER"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "workqueue", done.stderr[-2000:]


def test_kernels_run_in_parallel_only_for_large_arrays_and_several_threads(monkeypatch):
    """A parallel loop wakes sleeping workers (120-170 us here), so small
    calls, and every call with one thread, run the serial compilation."""
    import numpy as np

    from gradlab.kernels import _jit, optim_adam, optim_sgd

    calls = []
    kernel = optim_sgd.sgd_kernel
    for name in ("serial", "parallel"):
        monkeypatch.setattr(kernel, name, lambda *a, name=name: calls.append(name))
    before = gradlab.get_num_threads()
    try:
        for threads, size in ((2, 10), (2, _jit.PARALLEL_MIN_ELEMENTS - 1),
                              (2, _jit.PARALLEL_MIN_ELEMENTS), (1, 1 << 22)):
            gradlab.set_num_threads(threads)
            kernel(np.zeros(size), np.zeros(size), None, 0.1, 0.0, 0.0, 0.0, False, False, False)
    finally:
        gradlab.set_num_threads(before)
    assert calls == ["serial", "serial", "parallel", "serial"]
    assert kernel.parallel_from == optim_adam.adam_kernel.parallel_from == _jit.PARALLEL_MIN_ELEMENTS


def test_each_compilation_is_cached_under_its_own_name():
    """Numba's cache key holds a function's bytecode but not its options:
    the serial and the parallel copy (and copies compiled with other options
    by an earlier gradlab) must not share cache files."""
    from gradlab.kernels import _jit, optim_sgd

    kernel = optim_sgd.sgd_kernel
    names = {kernel.serial.py_func.__qualname__, kernel.parallel.py_func.__qualname__}
    assert names == {f"sgd_kernel_serial_{_jit._CACHE_TAG}", f"sgd_kernel_parallel_{_jit._CACHE_TAG}"}
    serial, parallel = kernel.serial.targetoptions, kernel.parallel.targetoptions
    assert parallel.get("parallel") and not serial.get("parallel")
    assert serial["error_model"] == parallel["error_model"] == "numpy"


def test_summing_kernels_reassociate_under_their_own_cache_name():
    """The normalization and norm kernels sum with LLVM's reassociation
    flags (SIMD partial sums), never with the flags that assume away nan
    and inf; their cached copies are named apart from strict ones."""
    from gradlab.kernels import _jit, clip, norm, optim_sgd

    for kernel in (norm.batch_norm_forward_kernel, norm.batch_norm_backward_kernel,
                   norm.layer_norm_forward_kernel, clip.power_sum_kernel):
        for compiled in (kernel.serial, kernel.parallel):
            assert compiled.targetoptions["fastmath"] == set(_jit.REASSOCIATE)
            assert compiled.py_func.__qualname__.endswith(f"_reassoc_{_jit._CACHE_TAG}")
    assert not {"nnan", "ninf", "fast"} & _jit.REASSOCIATE
    assert "fastmath" not in optim_sgd.sgd_kernel.serial.targetoptions


def test_reassociated_batch_norm_still_propagates_nan():
    from gradlab.kernels import norm

    x = np.ones((2, 64), dtype=np.float32)
    x[1, 5] = np.nan
    y, mean, var = norm.batch_norm_forward(x, np.ones(2, np.float32), np.zeros(2, np.float32), 1e-5)
    assert np.isfinite(y[0]).all() and np.isnan(y[1]).all() and np.isnan(mean[1]) and np.isnan(var[1])

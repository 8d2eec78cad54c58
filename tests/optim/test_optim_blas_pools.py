"""The optimizer's updates run with SciPy's BLAS pool at one thread, so that
it does not fight NumPy's pool (see gradlab.optim._kernels)."""

import contextlib
import ctypes

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController

import gradlab
from gradlab import _blas
from gradlab.optim import _kernels, optimizer


class _FakePool:
    def __init__(self, threads):
        self.threads, self.calls = threads, []

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, n):
        self.calls.append(n)
        self.threads = n


def test_serial_blas_sets_one_thread_and_restores(monkeypatch):
    busy, single = _FakePool(4), _FakePool(1)
    monkeypatch.setattr(_kernels, "_blas_pools", [busy, single])
    with _kernels.serial_blas():
        assert busy.threads == 1 and single.threads == 1
    assert busy.threads == 4 and busy.calls == [1, 4]
    assert single.calls == []  # already serial: untouched
    try:
        with _kernels.serial_blas():
            raise KeyError("boom")
    except KeyError:
        pass
    assert busy.threads == 4


def test_numpys_pool_is_never_limited():
    numpy_libs = [c.filepath for c in ThreadpoolController().lib_controllers
                  if c.user_api == "blas" and "numpy" in c.filepath]
    limited = [c.filepath for c in _kernels._pools()]
    assert not set(numpy_libs) & set(limited)


def test_optimizer_step_updates_inside_serial_blas(monkeypatch):
    inside = []

    @contextlib.contextmanager
    def recording():
        inside.append(True)
        yield
        inside.append(False)

    monkeypatch.setattr(optimizer, "serial_blas", recording)
    p = gradlab.tensor(np.ones(3), requires_grad=True)
    p.grad = gradlab.tensor(np.full(3, 0.5))
    gradlab.optim.SGD([p], lr=0.1, momentum=0.9).step()
    assert inside == [True, False]
    np.testing.assert_allclose(p.detach().numpy(), 0.95)


# Large arrays go to NumPy's own (threaded) OpenBLAS through ctypes, small
# ones to SciPy's wrappers; both must give NumPy's numbers up to rounding.
SIZES = (7, _kernels.THREADED_MIN + 5)


def _tolerance(dtype):
    return 1e-6 if dtype == np.float32 else 1e-14


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
def test_axpy_and_scal_match_numpy(dtype, size):
    rng = np.random.default_rng(size)
    x, y = rng.standard_normal((2, size)).astype(dtype)
    expected = y + dtype(-0.3) * x
    _kernels.axpy(-0.3, x, y)
    np.testing.assert_allclose(y, expected, rtol=_tolerance(dtype), atol=_tolerance(dtype))
    expected = y * dtype(0.7)
    _kernels.scal(0.7, y)
    np.testing.assert_allclose(y, expected, rtol=_tolerance(dtype), atol=_tolerance(dtype))


def test_strided_views_are_updated_in_place():
    base = np.zeros((2, _kernels.THREADED_MIN), dtype=np.float32)
    view = base[:, ::2]  # not contiguous: the array-expression path
    _kernels.axpy(2.0, np.ones_like(view), view)
    _kernels.scal(0.5, view)
    np.testing.assert_array_equal(base[:, ::2], 1.0)
    np.testing.assert_array_equal(base[:, 1::2], 0.0)


def test_numpys_cblas_is_found_exactly_where_numpy_uses_openblas():
    numpy_openblas = [c for c in ThreadpoolController().lib_controllers
                      if c.internal_api == "openblas" and "numpy" in c.filepath]
    found = _blas.find_numpy_cblas()
    assert bool(found) == bool(numpy_openblas)
    if found:
        assert set(found) == {np.dtype(np.float32), np.dtype(np.float64)}


class _RecordingCBlas:
    """Stands in for NumPy's CBLAS routines: records each call's length and
    does the update with NumPy."""

    def __init__(self, dtype):
        self.calls = []
        self.dtype = dtype

    def _array(self, address, n):
        buffer = (ctypes.c_char * (n * np.dtype(self.dtype).itemsize)).from_address(address)
        return np.frombuffer(buffer, dtype=self.dtype)

    def axpy(self, n, a, x, incx, y, incy):
        self.calls.append(("axpy", n))
        self._array(y, n)[...] += self.dtype(a) * self._array(x, n)

    def scal(self, n, a, y, incy):
        self.calls.append(("scal", n))
        self._array(y, n)[...] *= self.dtype(a)


def test_large_arrays_go_to_numpys_blas_and_small_ones_do_not(monkeypatch):
    fake = _RecordingCBlas(np.float32)
    monkeypatch.setattr(_blas, "_numpy_kernels", {np.dtype(np.float32): fake})
    y = np.zeros(_kernels.THREADED_MIN, dtype=np.float32)
    _kernels.axpy(2.0, np.ones_like(y), y)
    _kernels.scal(0.5, y)
    small = np.zeros(3, dtype=np.float32)
    _kernels.axpy(1.0, np.ones_like(small), small)
    _kernels.scal(3.0, small)
    assert fake.calls == [("axpy", _kernels.THREADED_MIN), ("scal", _kernels.THREADED_MIN)]
    np.testing.assert_array_equal(y, 1.0)
    np.testing.assert_array_equal(small, 3.0)


def test_without_numpys_cblas_large_arrays_take_scipys(monkeypatch):
    monkeypatch.setattr(_blas, "_numpy_kernels", {})
    y = np.full(_kernels.THREADED_MIN, 2.0)
    _kernels.axpy(3.0, np.ones_like(y), y)
    _kernels.scal(0.5, y)
    np.testing.assert_array_equal(y, 2.5)


@pytest.mark.parametrize("name, kwargs", [("SGD", {"momentum": 0.9, "nesterov": True}),
                                          ("Adam", {"weight_decay": 0.01}),
                                          ("RMSprop", {"momentum": 0.5, "centered": True})])
def test_large_parameter_matches_torch(name, kwargs):
    """A parameter large enough for the threaded path, step for step against
    torch.optim in float64."""
    import torch

    rng = np.random.default_rng(0)
    start = rng.standard_normal(_kernels.THREADED_MIN + 1)
    target = rng.standard_normal(start.size)
    scale = rng.uniform(0.5, 2.0, start.size)  # a different curvature per coordinate
    ours = gradlab.tensor(start.copy(), requires_grad=True)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    opt = getattr(gradlab.optim, name)([ours], lr=0.01, **kwargs)
    ref = getattr(torch.optim, name)([theirs], lr=0.01, **kwargs)
    for _ in range(10):
        for p, o, lib in ((ours, opt, gradlab), (theirs, ref, torch)):
            o.zero_grad()
            (lib.tensor(scale) * (p - lib.tensor(target)) ** 2).sum().backward()
            o.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.abs(ours.detach().numpy() - start).max() > 1e-2


def test_blas_integer_width_comes_from_numpys_build_record(monkeypatch):
    import ctypes

    blas_info = {"openblas configuration": "OpenBLAS 0.3.30  USE64BITINT DYNAMIC_ARCH"}
    monkeypatch.setattr(np.__config__, "CONFIG", {"Build Dependencies": {"blas": blas_info}})
    assert _blas.integer_type("") is ctypes.c_int64
    blas_info["openblas configuration"] = "OpenBLAS 0.3.30  DYNAMIC_ARCH"
    assert _blas.integer_type("") is ctypes.c_int
    monkeypatch.setattr(np.__config__, "CONFIG", {})  # no record: only the ILP64 suffix is trusted
    assert _blas.integer_type("64_") is ctypes.c_int64
    assert _blas.integer_type("") is None

"""The optimizer's updates run with SciPy's BLAS pool at one thread, so that
it does not fight NumPy's pool (see gradlab.optim._kernels)."""

import contextlib

import numpy as np
from threadpoolctl import ThreadpoolController

import gradlab
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

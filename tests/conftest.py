import numpy as np
import pytest

import gradlab


@pytest.fixture(autouse=True)
def _fresh_state():
    """Every test starts with the default dtype and a seeded generator."""
    gradlab.set_default_dtype(gradlab.float32)
    gradlab.manual_seed(0)
    yield
    gradlab.set_default_dtype(gradlab.float32)


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs CuPy and an NVIDIA GPU")


gpu = pytest.mark.skipif(not gradlab.cuda.is_available(), reason="no GPU (CuPy) available")
np.seterr(all="ignore")


@pytest.fixture(params=["serial", "parallel"])
def compilation(request, monkeypatch):
    """Run every kernel call on one of its two compilations (serial, then
    parallel: gradlab.kernels._jit.CpuKernel), whatever the arrays' size.
    The kernel tests use it for every test (``pytestmark``)."""
    from gradlab.kernels import _jit

    threads = gradlab.get_num_threads()
    monkeypatch.setattr(_jit, "_forced", request.param)
    if request.param == "parallel":
        gradlab.set_num_threads(2)
    yield request.param
    gradlab.set_num_threads(threads)

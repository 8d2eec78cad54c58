"""Every kernel test runs twice: on the serial and on the parallel
compilation of each kernel (gradlab.kernels._jit.CpuKernel), whatever the
size of its arrays."""

import pytest

import gradlab
from gradlab.kernels import _jit


@pytest.fixture(autouse=True, params=["serial", "parallel"])
def compilation(request, monkeypatch):
    """Which of a kernel's two compilations every call runs."""
    threads = gradlab.get_num_threads()
    if request.param == "parallel":
        monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", 0)
        gradlab.set_num_threads(2)
    else:
        monkeypatch.setattr(_jit, "PARALLEL_MIN_ELEMENTS", float("inf"))
    yield request.param
    gradlab.set_num_threads(threads)

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
    monkeypatch.setattr(_jit, "_forced", request.param)
    if request.param == "parallel":
        gradlab.set_num_threads(2)
    yield request.param
    gradlab.set_num_threads(threads)

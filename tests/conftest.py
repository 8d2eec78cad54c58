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

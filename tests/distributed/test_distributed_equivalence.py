"""N processes with batches of B/N take the same steps as one process with
batch B: DistributedDataParallel's averaged gradients, SyncBatchNorm's
global statistics (issue 21)."""

import _cases
import numpy as np
import pytest
from _launch import run

import gradlab


@pytest.fixture(scope="module")
def references():
    return {c: _cases.reference(*c) for c in _cases.CASES}


@pytest.mark.parametrize("n", [1, 2, 4])
def test_data_parallel_training_equals_one_process_on_the_whole_batch(n, tmp_path, references):
    out = tmp_path / "state.npz"
    done = run(n, "mpi_equivalence.py", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    got = np.load(out)
    for case, ref in references.items():
        tol = 1e-12 if case[2] == "float64" else 1e-5
        for name, value in ref.items():
            np.testing.assert_allclose(got[f"{_cases.key(*case)}/{name}"], value, rtol=tol, atol=tol,
                                       err_msg=f"{n} processes, {case}, {name}")
        initial = _cases.make_model(case[1], getattr(gradlab, case[2])).state_dict()
        assert max(np.abs(ref[k] - initial[k].numpy()).max() for k in ref) > 1e-3  # it did train

"""gradlab.distributed's collectives and DistributedDataParallel's modes,
under mpiexec and as a world of one process (issue 21)."""

import time

import numpy as np
import pytest
import torch
from _launch import run

import gradlab
import gradlab.distributed as dist
from gradlab import nn
from gradlab.utils.data import DistributedSampler


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpi") / "seen"
    done = run(2, "mpi_collectives.py", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    return [dict(np.load(f"{out}.{r}.npz")) for r in range(2)]


def test_all_reduce_ops_and_layouts(seen):
    for s in seen:
        np.testing.assert_array_equal(s["all_reduce_sum"], [3.0, 30.0])
        np.testing.assert_array_equal(s["all_reduce_avg"], [1.5, 15.0])
        np.testing.assert_array_equal(s["all_reduce_max"], [2.0, 20.0])
        np.testing.assert_array_equal(s["all_reduce_min"], [1.0, 10.0])
        np.testing.assert_array_equal(s["all_reduce_product"], [2.0, 200.0])
        np.testing.assert_array_equal(s["all_reduce_strided_async"], np.arange(6.0).reshape(2, 3).T * 3)
        np.testing.assert_array_equal(s["broadcast_from_last"], [1.0, 1.0, 1.0])
        np.testing.assert_array_equal(s["all_gather"], [[0, 0], [1, -1]])


def test_ddp_starts_every_rank_from_rank_0s_weights(seen):
    np.testing.assert_array_equal(seen[0]["weights_after_wrap"], seen[1]["weights_after_wrap"])
    gradlab.manual_seed(0)
    rank_0s = nn.Linear(3, 2).double().weight.detach().numpy()
    np.testing.assert_array_equal(seen[1]["weights_after_wrap"], rank_0s)


def test_no_sync_accumulates_locally_then_averages_the_sum(seen):
    x = [np.arange(9.0).reshape(3, 3) + r for r in range(2)]
    for r, s in enumerate(seen):  # d sum(W x) / dW = x, summed over rows
        np.testing.assert_allclose(s["grad_inside_no_sync"], np.tile(x[r][:1], (2, 1)))
        expected = np.mean([np.tile(xr.sum(0, keepdims=True), (2, 1)) for xr in x], axis=0)
        np.testing.assert_allclose(s["grad_after_sync"], expected, rtol=1e-14)


def test_unused_parameters_need_find_unused_parameters(seen):
    for s in seen:
        assert str(s["unused_error_True"]) == ""
        assert bool(s["unused_grad_is_none_True"])
        # two backwards accumulate: 2 * mean over ranks of (rank + 1) = 3
        np.testing.assert_allclose(s["used_grad_True"], [[3.0, 3.0]])
        assert "find_unused_parameters=True" in str(s["unused_error_False"])


def test_a_failing_rank_ends_the_job_with_its_error():
    started = time.monotonic()
    done = run(2, "mpi_failure.py", timeout=60)
    assert time.monotonic() - started < 30
    assert done.returncode != 0
    assert "rank 1 of 2 failed" in done.stderr and "ValueError: boom on rank 1" in done.stderr


def test_a_single_process_is_a_world_of_one():
    assert not dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    dist.init_process_group()
    try:
        assert dist.is_initialized() and dist.get_world_size() == 1
        t = gradlab.tensor([1.0, 2.0])
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
        model = nn.Linear(2, 1)
        ddp = nn.parallel.DistributedDataParallel(model)
        ddp(gradlab.ones(4, 2)).sum().backward()
        np.testing.assert_array_equal(model.weight.grad.numpy(), [[4.0, 4.0]])
        assert list(ddp.state_dict()) == ["module.weight", "module.bias"]
        with pytest.raises(RuntimeError, match="twice"):
            dist.init_process_group()
        with pytest.raises(ValueError, match="op must be one of"):
            dist.all_reduce(t, op="mean")
        with pytest.raises(ValueError, match="src must be a rank"):
            dist.broadcast(t, src=1)
        with pytest.raises(TypeError, match="gradlab.Tensor"):
            dist.all_reduce(np.ones(2))
    finally:
        dist.destroy_process_group()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.barrier()
    with pytest.raises(RuntimeError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
    with pytest.raises(NotImplementedError, match="DistributedDataParallel"):
        nn.parallel.DataParallel(nn.Linear(2, 1))


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                    (2, 4, False), (11, 4, True)])
def test_distributed_sampler_without_shuffle_is_pytorchs(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffles_a_partition_per_epoch():
    shares = [DistributedSampler(range(12), 3, r, seed=5) for r in range(3)]
    first = [list(s) for s in shares]
    assert sorted(sum(first, [])) == list(range(12))  # disjoint and complete
    assert first != [list(range(r, 12, 3)) for r in range(3)]  # shuffled
    assert [list(s) for s in shares] == first  # the same epoch, the same order
    for s in shares:
        s.set_epoch(1)
    second = [list(s) for s in shares]
    assert second != first and sorted(sum(second, [])) == list(range(12))
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(4), num_replicas=2, rank=2)

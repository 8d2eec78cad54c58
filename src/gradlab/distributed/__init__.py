"""gradlab.distributed: data-parallel training across processes, on MPI.

Every process (a *rank*) holds the whole model and trains on its share of
each batch; before each optimizer step the gradients are averaged across
ranks, so that N ranks with batches of B/N take the same step as one
process with batch B (Goyal et al. 2017, "Accurate, large minibatch SGD";
Sergeev and Del Balso 2018, Horovod). The collective that does it is
allreduce, and MPI is the standard for it, from a laptop to a cluster.

Names are PyTorch's (``torch.distributed``)::

    import gradlab.distributed as dist
    dist.init_process_group()            # under: mpiexec -n 4 python train.py
    rank, world = dist.get_rank(), dist.get_world_size()
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)

Without a launcher, ``init_process_group()`` makes a world of one process,
in which every collective leaves its tensor as it is, so the same script
runs alone or under ``mpiexec``. MPI comes from the optional extra
``gradlab[distributed]`` (mpi4py with the MPICH it needs, both from pip).
CuPy tensors travel through NCCL (one process per GPU).

Collectives work in place on the tensor's storage and are not recorded by
autograd (as PyTorch's); :func:`gradlab.distributed.nn.all_reduce` is the
differentiable one.
"""

from __future__ import annotations

import os
from typing import Any

from gradlab.distributed._group import OPS, MPIGroup, SingleProcess, Work, install_abort_on_error
from gradlab.distributed._group import launched_by_mpi as _launched_by_mpi
from gradlab.tensor import Tensor

__all__ = [
    "ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
    "destroy_process_group", "get_backend", "get_rank", "get_world_size", "init_process_group",
    "is_available", "is_initialized", "is_mpi_available",
]


class ReduceOp:
    """The reductions of :func:`all_reduce` (``torch.distributed.ReduceOp``)."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


_group: MPIGroup | SingleProcess | None = None


def is_available() -> bool:
    """Always True: a world of one process needs nothing; more need MPI."""
    return True


def is_mpi_available() -> bool:
    """Whether mpi4py (the ``gradlab[distributed]`` extra) can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       world_size: int = -1, rank: int = -1, **kwargs: Any) -> None:
    """Join the processes an MPI launcher started (``mpiexec -n N``).

    Rank and world size come from the launcher; ``world_size`` and ``rank``,
    if given, must agree with it. Without a launcher (one plain process)
    the world has size 1 and MPI is not needed. ``backend`` may be "mpi"
    (or None); "nccl" and "gloo" are accepted for PyTorch scripts and mean
    MPI here, with GPU tensors going through NCCL in either case.

    Under MPI an uncaught exception on any rank prints that rank's error and
    ends the whole job, so that no rank waits forever for a dead one.
    """
    global _group
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice; "
                           "call destroy_process_group() first")
    if backend not in (None, "mpi", "nccl", "gloo"):
        raise ValueError(f"backend must be 'mpi' (or 'nccl'/'gloo', which mean MPI here), got {backend!r}")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_method: gradlab takes rank and size from the MPI launcher; "
                         f"got {init_method!r}, expected None")
    if _launched_by_mpi():
        if not is_mpi_available():
            raise RuntimeError(
                "this process was started by an MPI launcher, but mpi4py is not installed: "
                "pip install 'gradlab[distributed]'"
            )
        group: MPIGroup | SingleProcess = MPIGroup()
        install_abort_on_error(group)
        _use_own_gpu(group)
    else:
        group = SingleProcess()
    for name, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"{name}={given} does not match the launcher's {name} {actual}")
    _group = group


def _use_own_gpu(group: MPIGroup) -> None:
    """One GPU per process: rank r on the node uses GPU r mod (GPUs)."""
    from gradlab import cuda

    if not cuda.is_available():
        return
    import cupy

    local = int(os.environ.get("MPI_LOCALRANKID", os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK",
                                                                   group.rank)))
    cupy.cuda.Device(local % cupy.cuda.runtime.getDeviceCount()).use()


def is_initialized() -> bool:
    return _group is not None


def _world() -> MPIGroup | SingleProcess:
    if _group is None:
        raise RuntimeError("Default process group has not been initialized, "
                           "please make sure to call init_process_group.")
    return _group


def get_backend(group: Any = None) -> str:
    return "mpi" if isinstance(_world(), MPIGroup) else "single"


def get_rank(group: Any = None) -> int:
    """This process's rank; 0 when no process group was initialized (as
    code that checks ``get_rank() == 0`` before printing expects)."""
    return 0 if _group is None else _group.rank


def get_world_size(group: Any = None) -> int:
    """The number of processes; 1 when no process group was initialized."""
    return 1 if _group is None else _group.size


def destroy_process_group(group: Any = None) -> None:
    global _group
    if _group is not None:
        _group.close()
    _group = None


def barrier(group: Any = None) -> None:
    _world().barrier()


def _check_tensor(tensor: Any, what: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: tensor must be a gradlab.Tensor, got {type(tensor).__name__}")
    return tensor


def _check_op(op: Any) -> str:
    if op not in OPS:
        raise ValueError(f"all_reduce: op must be one of ReduceOp.SUM, AVG, MAX, MIN, PRODUCT, "
                         f"got {op!r}")
    return op


def all_reduce(tensor: Tensor, op: str = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` over all ranks, leaving the result in every rank's
    ``tensor`` (in place). With ``async_op`` a :class:`Work` is returned
    whose ``wait()`` completes it."""
    _check_tensor(tensor, "all_reduce")
    work = _world().all_reduce(tensor.array, _check_op(op), async_op)
    return work if async_op else None


def broadcast(tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into every rank's (in place)."""
    _check_tensor(tensor, "broadcast")
    world = _world()
    if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < world.size:
        raise ValueError(f"broadcast: src must be a rank in [0, {world.size}), got {src!r}")
    work = world.broadcast(tensor.array, src, async_op)
    return work if async_op else None


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank."""
    _check_tensor(tensor, "all_gather")
    world = _world()
    if not isinstance(tensor_list, list) or len(tensor_list) != world.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {world.size} tensors (one per "
                         f"rank), got {type(tensor_list).__name__} of length "
                         f"{len(tensor_list) if hasattr(tensor_list, '__len__') else '?'}")
    for out, array in zip(tensor_list, world.all_gather(tensor.array)):
        _check_tensor(out, "all_gather")
        if out.shape != tensor.shape:
            raise ValueError(f"all_gather: output of shape {tuple(out.shape)} for a tensor of shape "
                             f"{tuple(tensor.shape)}")
        out.array[...] = array
    return Work() if async_op else None

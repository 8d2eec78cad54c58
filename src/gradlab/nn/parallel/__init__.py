"""gradlab.nn.parallel: data parallelism across processes
(:class:`DistributedDataParallel`, on :mod:`gradlab.distributed`).

PyTorch's single-process, multi-GPU ``DataParallel``, which PyTorch itself
recommends against, is not provided: asking for it says what to use.
"""

from __future__ import annotations

from gradlab.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]

DATA_PARALLEL_MESSAGE = (
    "gradlab has no nn.DataParallel: data parallelism arrives as "
    "nn.parallel.DistributedDataParallel on MPI (gradlab.distributed, one process per device, "
    "launched with mpiexec); on one device, use the model itself instead of wrapping it"
)


def __getattr__(name: str) -> object:
    if name == "DataParallel":
        raise AttributeError(DATA_PARALLEL_MESSAGE)
    raise AttributeError(f"module 'gradlab.nn.parallel' has no attribute {name!r}")

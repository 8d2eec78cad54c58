"""``gradlab.nn.parallel``: where PyTorch's data-parallel wrappers live.

Neither is here yet. Data parallelism comes to gradlab as
``DistributedDataParallel`` on MPI (``gradlab.distributed``, one process per
device, launched with ``mpiexec``); PyTorch's single-process, multi-GPU
``DataParallel``, which PyTorch itself recommends against, will not be
provided. A model on one device needs no wrapper: use the model itself.
"""

from __future__ import annotations

_MESSAGES = {
    "DataParallel": (
        "gradlab has no nn.DataParallel: data parallelism arrives as "
        "nn.parallel.DistributedDataParallel on MPI (gradlab.distributed, one process per "
        "device); on one device, use the model itself instead of wrapping it"
    ),
    "DistributedDataParallel": (
        "gradlab.nn.parallel.DistributedDataParallel (data parallelism on MPI, through "
        "gradlab.distributed) is not available in this version of gradlab; on one device, "
        "use the model itself instead of wrapping it"
    ),
}


def __getattr__(name: str) -> object:
    if name in _MESSAGES:
        raise AttributeError(_MESSAGES[name])
    raise AttributeError(f"module 'gradlab.nn.parallel' has no attribute {name!r}")

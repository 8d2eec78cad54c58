"""Collectives on CuPy arrays through NCCL (``cupy.cuda.nccl``), one process
per GPU, as PyTorch's ``nccl`` backend.

The NCCL communicator is made on the first collective on a GPU array: rank 0
draws NCCL's unique id and MPI broadcasts it, then every rank joins with its
rank. Each process must use one GPU of its own first (``cupy.cuda.Device(
local_rank).use()``); :func:`gradlab.distributed.init_process_group` does
that when it finds GPUs. Without NCCL (a CuPy build without it), GPU arrays
travel through the host instead.

Written against CuPy's documented NCCL interface; it has not yet run on a
machine with GPUs (see the README's distributed section).
"""

from __future__ import annotations

from typing import Any

_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
           "int32": "NCCL_INT32", "int64": "NCCL_INT64", "bfloat16": "NCCL_BFLOAT16"}
_OPS = {"sum": "NCCL_SUM", "avg": "NCCL_SUM", "max": "NCCL_MAX", "min": "NCCL_MIN",
        "product": "NCCL_PROD"}


def usable(group: Any, array: Any) -> bool:
    """Whether ``array`` (a CuPy array) can go through NCCL in ``group``."""
    if group.nccl is False:
        return False
    try:
        from cupy.cuda import nccl
    except ImportError:
        group.nccl = False
        return False
    if not nccl.available or array.dtype.name not in _DTYPES or not array.flags.c_contiguous:
        return False
    if group.nccl is None:
        uid = nccl.get_unique_id() if group.rank == 0 else None
        uid = group.comm.bcast(uid, root=0)
        group.nccl = nccl.NcclCommunicator(group.size, uid, group.rank)
    return True


def all_reduce(group: Any, array: Any, op: str) -> Any:
    import cupy
    from cupy.cuda import nccl

    from gradlab.distributed._group import Work

    stream = cupy.cuda.get_current_stream()
    group.nccl.allReduce(array.data.ptr, array.data.ptr, array.size,
                         getattr(nccl, _DTYPES[array.dtype.name]), getattr(nccl, _OPS[op]), stream.ptr)
    if op == "avg":
        array *= 1.0 / group.size
    return Work()  # NCCL orders itself on the stream: later kernels see the result


def broadcast(group: Any, array: Any, src: int) -> Any:
    import cupy
    from cupy.cuda import nccl

    from gradlab.distributed._group import Work

    stream = cupy.cuda.get_current_stream()
    group.nccl.bcast(array.data.ptr, array.size, getattr(nccl, _DTYPES[array.dtype.name]), src,
                     stream.ptr)
    return Work()

"""gradlab.nn.parallel: data parallelism across processes
(:class:`DistributedDataParallel`, on :mod:`gradlab.distributed`)."""

from __future__ import annotations

from typing import Any

from gradlab.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel:
    """Not provided: PyTorch's single-process, multi-GPU ``DataParallel``
    (which PyTorch itself advises against) has no counterpart here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "gradlab has no nn.DataParallel; use nn.parallel.DistributedDataParallel with one "
            "process per device (mpiexec -n N python script.py, after "
            "gradlab.distributed.init_process_group())"
        )

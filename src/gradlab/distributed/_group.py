"""The process group behind :mod:`gradlab.distributed`: who the processes
are and how arrays travel between them.

Two kinds, one interface. :class:`MPIGroup` wraps an ``mpi4py``
communicator (the processes an MPI launcher such as ``mpiexec -n 4``
started); :class:`SingleProcess` is the world of one process that needs no
launcher and no MPI at all. Collectives take NumPy arrays and work in place;
CuPy arrays go through NCCL when the group has a communicator for them
(:mod:`gradlab.distributed._nccl`), else through the host.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import numpy as np

from gradlab import backend

# the environment variables by which MPI launchers tell a process it is one of several
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE")

OPS = ("sum", "avg", "max", "min", "product")


def launched_by_mpi() -> bool:
    """Whether an MPI launcher started this process as one of several."""
    for var in _LAUNCHER_SIZE_VARS:
        value = os.environ.get(var)
        if value is not None and value.isdigit() and int(value) > 1:
            return True
    return False


class Work:
    """A collective in flight (``async_op=True``); ``wait()`` completes it."""

    def __init__(self, request: Any = None, finish: Any = None) -> None:
        self._request, self._finish = request, finish

    def is_completed(self) -> bool:
        if self._request is None:
            return True
        return bool(self._request.Test())

    def wait(self) -> bool:
        if self._request is not None:
            self._request.Wait()
            self._request = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        return True


class SingleProcess:
    """The world of one process: every collective leaves its data as is."""

    rank, size = 0, 1

    def all_reduce(self, array: Any, op: str, async_op: bool = False) -> Work:
        return Work()

    def broadcast(self, array: Any, src: int, async_op: bool = False) -> Work:
        return Work()

    def all_gather(self, array: Any) -> list[Any]:
        return [array.copy()]

    def barrier(self) -> None:
        return None

    def abort(self, code: int) -> None:
        raise SystemExit(code)

    def close(self) -> None:
        return None


class MPIGroup:
    """The processes of an MPI communicator (``MPI.COMM_WORLD`` by default)."""

    def __init__(self, comm: Any = None) -> None:
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._ops = {"sum": MPI.SUM, "avg": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN,
                     "product": MPI.PROD}
        self.nccl: Any = None  # made on first use by a CuPy array

    def _host(self, array: Any) -> tuple[Any, Any]:
        """A C-contiguous host array holding ``array``'s values, and how to
        bring the result back into ``array``."""
        if isinstance(array, np.ndarray) and array.flags.c_contiguous:
            return array, None
        host = np.ascontiguousarray(backend.to_device(array, backend.CPU))

        def back() -> None:
            if isinstance(array, np.ndarray):
                array[...] = host
            else:
                array[...] = backend.to_device(host, backend.device_of(array))

        return host, back

    def all_reduce(self, array: Any, op: str, async_op: bool = False) -> Work:
        if not isinstance(array, np.ndarray):
            from gradlab.distributed import _nccl

            if _nccl.usable(self, array):
                return _nccl.all_reduce(self, array, op)
        host, back = self._host(array)
        scale = 1.0 / self.size if op == "avg" else None

        def finish() -> None:
            if scale is not None:
                host[...] *= scale
            if back is not None:
                back()

        if async_op:
            request = self.comm.Iallreduce(self.MPI.IN_PLACE, host, op=self._ops[op])
            return Work(request, finish)
        self.comm.Allreduce(self.MPI.IN_PLACE, host, op=self._ops[op])
        finish()
        return Work()

    def broadcast(self, array: Any, src: int, async_op: bool = False) -> Work:
        if not isinstance(array, np.ndarray):
            from gradlab.distributed import _nccl

            if _nccl.usable(self, array):
                return _nccl.broadcast(self, array, src)
        host, back = self._host(array)
        if async_op:
            return Work(self.comm.Ibcast(host, root=src), back)
        self.comm.Bcast(host, root=src)
        if back is not None:
            back()
        return Work()

    def all_gather(self, array: Any) -> list[Any]:
        host, _ = self._host(array)
        out = np.empty((self.size,) + host.shape, dtype=host.dtype)
        self.comm.Allgather(host, out)
        device = backend.device_of(array)
        return [backend.to_device(out[i], device) for i in range(self.size)]

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int) -> None:
        self.comm.Abort(code)

    def close(self) -> None:
        self.nccl = None


def install_abort_on_error(group: MPIGroup) -> None:
    """Make an uncaught exception on any rank end the whole job at once.

    Without this, a rank that raises exits while the others wait in their
    next collective for it, forever. The hook prints the error, naming the
    rank, and aborts the MPI job, which the launcher turns into the end of
    every process.
    """
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
        else:
            text = "".join(traceback.format_exception(kind, value, tb))
            sys.stderr.write(f"gradlab.distributed: rank {group.rank} of {group.size} failed:\n{text}")
            sys.stderr.flush()
        group.abort(1)

    sys.excepthook = hook

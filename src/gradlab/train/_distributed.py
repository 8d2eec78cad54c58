"""What the Trainer does differently when it is one of several processes
(``mpiexec -n N``, after :func:`gradlab.distributed.init_process_group`).

Every rank iterates over the same loader, so all see the same global batch
(same order, same augmentation draws) and the data order of a checkpoint
does not depend on the number of processes: a run can resume on another
number of them. Rank r trains on rows [r n / N, (r + 1) n / N) of each
global batch of n. Its loss is scaled by N n_r / n, so that the average
that DistributedDataParallel takes over ranks, (1/N) sum_r N n_r / n g_r,
is the gradient of the mean loss over the global batch, also when n does
not divide evenly. Random layers (dropout) must draw different masks on
each rank: :func:`separate_random_streams` gives every rank but 0 streams
of its own. Epoch means of the loss and the metrics are summed over
ranks, so that every rank logs (and every callback sees) the global ones.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from typing import Any

import numpy as np

from gradlab import backend
from gradlab import distributed as dist
from gradlab.tensor import Tensor


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main_process() -> bool:
    """Whether this process prints and writes files (rank 0, or alone)."""
    return dist.get_rank() == 0


def share(value: Any, n: int) -> Any:
    """This rank's rows of a global batch of ``n`` rows (tensors, or dicts /
    tuples of them)."""
    size, rank = dist.get_world_size(), dist.get_rank()
    lo, hi = rank * n // size, (rank + 1) * n // size
    if isinstance(value, Tensor):
        if value.ndim == 0 or value.shape[0] != n:
            return value
        return value[lo:hi]
    if isinstance(value, dict):
        return {k: share(v, n) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(share(v, n) for v in value)
    return value


def check_share(n: int) -> None:
    size = dist.get_world_size()
    if n < size:
        raise ValueError(
            f"a batch of {n} samples cannot be shared by {size} processes: use a batch size of at "
            f"least {size} and drop_last=True, or fewer processes"
        )


def any_rank(*flags: bool) -> list[bool]:
    """Each flag, true on every rank when it is true on any (one small
    allreduce: all ranks stop, or interrupt, at the same batch)."""
    values = np.array([1.0 if f else 0.0 for f in flags])
    t = Tensor._make(values)
    dist.all_reduce(t, dist.ReduceOp.MAX)
    return [bool(v) for v in t.array]


def sum_over_ranks(sums: dict[str, float], counts: dict[str, float]) -> tuple[dict, dict]:
    """The epoch's sums and counts, added over ranks (keys in one order)."""
    keys = dist_keys(list(sums))  # rank 0's order
    if sorted(keys) != sorted(sums):
        raise RuntimeError(f"ranks logged different quantities: {sorted(sums)} here, {keys} on rank 0")
    values = np.array([sums[k] for k in keys] + [counts[k] for k in keys], dtype=np.float64)
    t = Tensor._make(values)
    dist.all_reduce(t, dist.ReduceOp.SUM)
    n = len(keys)
    return ({k: float(t.array[i]) for i, k in enumerate(keys)},
            {k: float(t.array[n + i]) for i, k in enumerate(keys)})


def dist_keys(keys: list[str]) -> list[str]:
    """Rank 0's list of keys (every rank must log the same ones)."""
    group = dist._world()
    comm = getattr(group, "comm", None)
    return keys if comm is None else comm.bcast(keys, root=0)


def average_gradients(model: Any) -> None:
    """Replace every ``.grad`` by its mean over ranks (one allreduce each)."""
    for p in model.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, dist.ReduceOp.AVG)


def separate_random_streams(trainer: Any, loader: Any) -> None:
    """Reseed, on every rank but 0, the generators that random layers and
    regularizers draw from, with a seed derived from the shared state and
    the rank, so that no two ranks draw the same dropout masks.

    The default generator is left shared when the training loader shuffles
    with it (all ranks must see the same batches); a warning says so. A
    resumed run reseeds again from the checkpoint's state: it continues
    correctly, but ranks other than 0 do not repeat, bit for bit, the draws
    of a run that was never stopped.
    """
    generators = list(trainer.generators)
    if getattr(loader, "shuffle", False) and getattr(loader, "generator", 0) is None:
        warnings.warn("the training loader shuffles with gradlab's default generator, so every rank "
                      "keeps drawing from it: dropout masks from it are the same on every rank. Give "
                      "the loader a generator of its own (DataLoader(..., generator=Generator()))",
                      stacklevel=3)
    else:
        generators.append(backend.default_generator)
    rank = dist.get_rank()
    if rank == 0:
        return
    for g in generators:
        text = json.dumps(g.get_state(), sort_keys=True, default=str) + f"/rank {rank}"
        g.manual_seed(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1)

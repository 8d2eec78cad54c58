"""``DistributedSampler``: each rank's share of a dataset, as PyTorch's."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from gradlab.backend import Generator

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """The indices of rank ``rank``'s share of ``dataset``, with PyTorch's
    semantics (``torch.utils.data.DistributedSampler``).

    The indices 0..n-1 (shuffled with seed ``seed + epoch`` when ``shuffle``;
    every rank draws the same permutation) are padded by repeating from the
    start until they divide evenly, or cut with ``drop_last``, and rank r
    takes every ``num_replicas``-th one starting at r. So the ranks' shares
    are disjoint and of equal length, num_samples = ceil(n / num_replicas)
    (with ``drop_last``: floor). Call :meth:`set_epoch` at the start of each
    epoch for a new order; without it every epoch repeats the first.

    Args:
        dataset: anything with ``len``.
        num_replicas: the number of ranks (default: the world size).
        rank: this rank (default: the process's rank).
        shuffle: shuffle (the same permutation on every rank).
        seed: base seed of the permutation.
        drop_last: drop the tail instead of padding it.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        from gradlab import distributed

        if num_replicas is None:
            num_replicas = distributed.get_world_size()
        if rank is None:
            rank = distributed.get_rank()
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"num_replicas must be a positive integer, got {num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank!r}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose permutation the next iteration draws."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = Generator().manual_seed(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        else:
            padding = self.total_size - len(indices)
            if padding > 0:
                repeats = math.ceil(padding / len(indices)) if indices else 0
                indices += (indices * repeats)[:padding]
        return iter(indices[self.rank: self.total_size: self.num_replicas])

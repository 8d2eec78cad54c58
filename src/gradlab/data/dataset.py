"""Datasets: indexable collections of samples, as ``torch.utils.data``'s.

A dataset maps an index to one sample (usually a tuple ``(x, y)`` of NumPy
arrays or numbers). ``DataLoader`` turns samples into batches. gradlab's
datasets hold NumPy arrays; Tensors appear only when the loader hands out a
batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab.backend import Generator, default_generator
from gradlab.data._arrays import to_host

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__``
    and ``__len__``.

    A dataset may also define ``get_batch(indices)`` returning the batch
    already stacked (a tuple of arrays); ``DataLoader`` then fetches a whole
    batch with one fancy-indexing operation instead of one call per sample.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets that are a stream of samples: subclasses define
    ``__iter__`` (and may define ``__len__``). A ``DataLoader`` batches the
    samples in the order the stream gives them (no sampler, no shuffle)."""

    def __iter__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index: int) -> Any:
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead of indexing")

    def __add__(self, other: Any) -> Any:
        raise TypeError("IterableDatasets cannot be concatenated with +; use itertools.chain")


class ConcatDataset(Dataset):
    """The samples of several map-style datasets one after the other."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length {n}")
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][index - start]


def _as_array(value: Any, position: int) -> np.ndarray:
    try:
        return to_host(value)
    except Exception as error:  # noqa: BLE001 - turn any conversion failure into a clear message
        raise TypeError(
            f"TensorDataset argument {position} must be an array or a Tensor, "
            f"got {type(value).__name__}"
        ) from error


class TensorDataset(Dataset):
    """A dataset of arrays sharing their first dimension; sample ``i`` is
    ``tuple(a[i] for a in arrays)``.

    Args:
        *arrays: NumPy arrays or gradlab Tensors, all with the same length.

    Example:
        >>> ds = TensorDataset(np.zeros((5, 2)), np.arange(5))
        >>> len(ds), int(ds[3][1])
        (5, 3)
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array, got none")
        self.arrays = tuple(_as_array(a, i) for i, a in enumerate(arrays))
        lengths = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [a.shape for a in self.arrays]
            raise ValueError(
                f"TensorDataset arrays must share their first dimension, got shapes {shapes}"
            )

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """The samples at ``indices``, stacked (one fancy index per array)."""
        return tuple(a[indices] for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(
                f"Subset indices must lie in [-{n}, {n}) for a dataset of length {n}, "
                f"got values from {self.indices.min()} to {self.indices.max()}"
            )

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: np.ndarray) -> Any:
        return self.dataset.get_batch(self.indices[indices])

    def __len__(self) -> int:
        return int(self.indices.size)


def supports_get_batch(dataset: Dataset) -> bool:
    """Whether ``dataset.get_batch`` can fetch a whole batch at once (a
    Subset can only when the dataset it wraps can)."""
    if isinstance(dataset, Subset):
        return supports_get_batch(dataset.dataset)
    return callable(getattr(dataset, "get_batch", None))


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets, as
    ``torch.utils.data.random_split``.

    Args:
        dataset: the dataset to split.
        lengths: lengths of the parts, or fractions summing to 1 (then
            ``floor(frac * len)`` each, the remainder given out one by one
            round-robin from the first part, as PyTorch does).
        generator: draws the permutation (default ``gradlab.default_generator``).

    Returns:
        one ``Subset`` per entry of ``lengths``.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split fraction at index {i} is not between 0 and 1: {frac}")
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths):
        raise ValueError(f"random_split lengths must be non-negative ints or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of lengths {lengths} is {sum(lengths)}, "
            f"which does not equal the length of the dataset ({n})"
        )
    generator = default_generator if generator is None else generator
    order = generator.permutation(n)
    parts, start = [], 0
    for length in lengths:
        parts.append(Subset(dataset, order[start:start + length]))
        start += length
    return parts

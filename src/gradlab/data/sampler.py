"""Samplers: the order in which a ``DataLoader`` visits a dataset, as
``torch.utils.data``'s.

A sampler is an iterable of dataset indices (``BatchSampler``: of lists of
indices) with a length. Random samplers draw from an explicit
``gradlab.Generator`` (default ``gradlab.default_generator``) at the start
of each pass, so the same seed gives the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from gradlab.backend import Generator, default_generator
from gradlab.data._arrays import to_host

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]

T_co = TypeVar("T_co", covariant=True)


def _check_generator(generator: Any) -> Generator | None:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator must be a gradlab.Generator or None, got {type(generator).__name__}")
    return generator


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


class Sampler(Generic[T_co]):
    """Base class of samplers: subclasses define ``__iter__`` (and usually
    ``__len__``)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _indices(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Random indices into ``data_source``.

    Without replacement: a fresh permutation per pass (``num_samples`` larger
    than the dataset chains several permutations, then a prefix of one, as
    PyTorch). With replacement: ``num_samples`` independent uniform draws.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement.
        num_samples: indices per pass (default ``len(data_source)``).
        generator: the random source (default ``gradlab.default_generator``).
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = None if num_samples is None else _positive_int(num_samples, "num_samples")
        self.generator = _check_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _generator(self) -> Generator:
        return default_generator if self.generator is None else self.generator

    def _indices(self) -> np.ndarray:
        n, k = len(self.data_source), self.num_samples
        gen = self._generator()
        if self.replacement:
            return gen.integers(0, n, (k,))
        if n == 0:
            return np.arange(0)
        parts = [gen.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(gen.permutation(n)[:k % n])
        return np.concatenate(parts) if parts else np.arange(0)

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order (a fresh permutation per pass)."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = _check_generator(generator)

    def __iter__(self) -> Iterator[int]:
        gen = default_generator if self.generator is None else self.generator
        return (self.indices[i] for i in gen.permutation(len(self.indices)).tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices drawn with probabilities proportional to
    ``weights`` (which need not sum to one), as ``torch.multinomial``.

    Args:
        weights: a 1-D sequence of non-negative weights, one per sample.
        num_samples: indices per pass.
        replacement: with replacement (default); without, each index at most
            once (then ``num_samples`` must not exceed the number of
            non-zero weights).
        generator: the random source.
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        self.num_samples = _positive_int(num_samples, "num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        w = np.asarray(to_host(weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution: weights must be finite, non-negative "
                               "and not all zero")
        if not replacement and self.num_samples > np.count_nonzero(w):
            raise RuntimeError(f"cannot sample num_samples={self.num_samples} indices without replacement "
                               f"from {np.count_nonzero(w)} non-zero weights")
        self.weights = w
        self.replacement = replacement
        self.generator = _check_generator(generator)

    def _indices(self) -> np.ndarray:
        gen = default_generator if self.generator is None else self.generator
        return gen.numpy.choice(self.weights.size, self.num_samples, replace=self.replacement,
                                p=self.weights / self.weights.sum())

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter
    unless ``drop_last``).

    Example:
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.batch_size = _positive_int(batch_size, "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

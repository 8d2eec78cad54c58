"""Collation: a list of samples into one batch, as PyTorch's
``default_collate`` / ``default_convert``.

The loader collates into NumPy arrays (``collate_arrays``), so that per-batch
transforms never touch the engine, and turns the arrays into Tensors at the
end; ``default_collate`` is the public, PyTorch-shaped composition of both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gradlab.creation import from_numpy
from gradlab.data._arrays import to_host
from gradlab.tensor import Tensor

__all__ = ["collate_arrays", "default_collate", "default_convert", "to_tensors"]


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def collate_arrays(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into one batch of NumPy arrays, keeping the
    structure of a sample, with PyTorch's rules: arrays and Tensors are
    stacked along a new first axis; Python ints become int64, floats float64
    and bools bool arrays; strings stay a list; dicts collate per key,
    namedtuples per field (same type), and tuples and lists per position
    into a list.
    """
    samples = samples if isinstance(samples, (list, tuple)) else list(samples)
    if not samples:
        raise ValueError("default_collate got an empty list of samples")
    first = samples[0]
    if isinstance(first, Tensor):
        return np.stack([to_host(s) for s in samples])
    if isinstance(first, (np.ndarray, np.generic)):
        if first.dtype.kind in "USO":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                            f"lists; found an array of dtype {first.dtype}")
        return np.stack(samples)
    if isinstance(first, bool):
        return np.asarray(samples, dtype=np.bool_)
    if isinstance(first, int):
        return np.asarray(samples, dtype=np.int64)
    if isinstance(first, float):
        return np.asarray(samples, dtype=np.float64)
    if isinstance(first, (str, bytes)):
        return samples  # as PyTorch: the list given, or a tuple for a field of tuple samples
    if isinstance(first, Mapping):
        collated = {key: collate_arrays([s[key] for s in samples]) for key in first}
        try:
            return type(first)(collated)
        except TypeError:  # a Mapping that cannot be built from a dict
            return collated
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate_arrays(column) for column in zip(*samples)]
        return type(first)(*columns) if _is_namedtuple(first) else columns
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(first).__name__}"
    )


def to_tensors(batch: Any) -> Any:
    """Replace every NumPy array in a (nested) batch by a gradlab Tensor."""
    if isinstance(batch, np.ndarray):
        if batch.dtype.kind in "USO":
            return batch
        return from_numpy(np.ascontiguousarray(batch))
    if _is_namedtuple(batch):
        return type(batch)(*(to_tensors(b) for b in batch))
    if isinstance(batch, tuple):
        return tuple(to_tensors(b) for b in batch)
    if isinstance(batch, list):
        return [to_tensors(b) for b in batch]
    if isinstance(batch, dict):
        converted = {k: to_tensors(v) for k, v in batch.items()}
        return converted if type(batch) is dict else type(batch)(converted)
    return batch


def default_collate(batch: list[Any]) -> Any:
    """A list of samples as one batch of Tensors, as
    ``torch.utils.data.default_collate``.

    Example:
        >>> batch = default_collate([(np.zeros(3), 1), (np.ones(3), 0)])
        >>> batch[0].shape, batch[1].tolist()
        ((2, 3), [1, 0])
    """
    return to_tensors(collate_arrays(batch))


def default_convert(data: Any) -> Any:
    """One sample with its NumPy arrays (not numbers) turned into Tensors, as
    ``torch.utils.data.default_convert`` (the collate of ``batch_size=None``)."""
    if isinstance(data, np.generic) and data.dtype.kind not in "USO":
        return from_numpy(np.asarray(data))
    if isinstance(data, tuple) and not _is_namedtuple(data):
        return [default_convert(d) for d in data]  # a list, as PyTorch's
    return to_tensors(data)

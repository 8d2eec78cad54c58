"""``DataLoader``: batches from a dataset, in an order fixed by a generator.

The loader works on NumPy arrays throughout (fetch, collate, per-batch
transform) and turns the arrays of a finished batch into gradlab Tensors only
at the very end, so augmentation never touches the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from gradlab.backend import Generator, default_generator
from gradlab.creation import from_numpy
from gradlab.data._arrays import to_host
from gradlab.data.dataset import Dataset, supports_get_batch
from gradlab.tensor import Tensor

__all__ = ["DataLoader", "default_collate"]


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into one batch of NumPy arrays, keeping the
    structure of a sample (tuple, list, dict), as PyTorch's
    ``default_collate`` does with tensors.

    Arrays are stacked along a new first axis; Python ints become int64,
    floats float64 and bools bool arrays (PyTorch's choices); strings stay a
    list. gradlab Tensors are stacked as their arrays.
    """
    if not samples:
        raise ValueError("default_collate got an empty list of samples")
    first = samples[0]
    if isinstance(first, Tensor):
        return np.stack([to_host(s) for s in samples])
    if isinstance(first, (np.ndarray, np.generic)):
        return np.stack(samples)
    if isinstance(first, bool):
        return np.asarray(samples, dtype=np.bool_)
    if isinstance(first, int):
        return np.asarray(samples, dtype=np.int64)
    if isinstance(first, float):
        return np.asarray(samples, dtype=np.float64)
    if isinstance(first, str):
        return list(samples)
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise RuntimeError("default_collate: each sample in a batch must have the same number of fields")
        columns = [default_collate(list(column)) for column in zip(*samples)]
        return columns if isinstance(first, list) else tuple(columns)
    raise TypeError(
        "default_collate: samples must be arrays, numbers, strings, tuples, lists or dicts, "
        f"got {type(first).__name__}"
    )


def _to_tensors(batch: Any) -> Any:
    """Replace every NumPy array in a (nested) batch by a gradlab Tensor."""
    if isinstance(batch, np.ndarray):
        return from_numpy(np.ascontiguousarray(batch))
    if isinstance(batch, tuple):
        return tuple(_to_tensors(b) for b in batch)
    if isinstance(batch, list):
        return [_to_tensors(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    return batch


def _transform_generators(transform: Any) -> list[Generator]:
    """Every distinct Generator that a (composed) transform draws from."""
    found: list[Generator] = []
    stack = [transform]
    while stack:
        t = stack.pop()
        gen = getattr(t, "generator", None)
        if isinstance(gen, Generator) and all(gen is not g for g in found):
            found.append(gen)
        stack.extend(reversed(list(getattr(t, "transforms", ()))))
    return found


class DataLoader:
    """Iterate over a dataset in batches, as ``torch.utils.data.DataLoader``.

    Each epoch (each ``iter(loader)``) visits every sample once. With
    ``shuffle=True`` the order is ``generator.permutation(len(dataset))``
    drawn at the start of the epoch, so the same generator seed gives the same
    order. Samples are fetched, collated into NumPy arrays, passed through
    ``transform`` (per batch), and every array of the batch is finally
    turned into a gradlab Tensor.

    Args:
        dataset: a map-style dataset. If it has ``get_batch(indices)`` (as
            ``TensorDataset`` does) and no ``collate_fn`` is given, a whole
            batch is fetched with one fancy index.
        batch_size: samples per batch.
        shuffle: reshuffle at every epoch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: the random source of the order (default
            ``gradlab.default_generator``).
        collate_fn: turns a list of samples into a batch (default
            ``default_collate``).
        transform: a per-batch transform. It receives the first field of the
            batch (the inputs) and returns new inputs; a transform whose
            ``mixes_targets`` is true (MixUp, CutMix, or a Compose holding
            one) receives ``(x, y)`` — the first two fields — and returns
            ``(x, soft_targets)``. gradlab's addition: PyTorch puts
            transforms on datasets, per sample.
        num_workers, pin_memory: accepted so that PyTorch code runs
            unchanged, and ignored: gradlab loads in the calling process
            (batches are vectorized NumPy work), so results do not depend
            on them.

    Resuming: ``state_dict()`` records the epoch's order (as the generator
    state it was drawn from), how many batches were handed out, and the
    current state of the loader's and the transform's generators (JSON-able).
    After ``load_state_dict`` the next ``iter(loader)`` yields the remaining
    batches of the interrupted epoch, with the same augmentation draws as an
    uninterrupted run, then later epochs continue as if never stopped.

    Example:
        >>> from gradlab.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10.0), np.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=Generator().manual_seed(0))
        >>> [len(x) for x, y in loader]
        [4, 4, 2]
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: Generator | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        transform: Callable[..., Any] | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"dataset must define __getitem__ and __len__, got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size!r}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be a bool, got {shuffle!r}")
        if not isinstance(drop_last, bool):
            raise TypeError(f"drop_last must be a bool, got {drop_last!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"generator must be a gradlab.Generator or None, got {type(generator).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; got num_workers={num_workers!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.collate_fn = collate_fn
        self.transform = transform
        self._epoch = 0                 # epochs completed
        self._order_state: dict | None = None  # generator state the running epoch's order came from
        self._batches_yielded = 0       # batches of the running epoch handed out
        self._resume: tuple[dict | None, int] | None = None

    # -- order ---------------------------------------------------------------
    def _generator(self) -> Generator:
        return default_generator if self.generator is None else self.generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _draw_order(self, generator: Generator) -> np.ndarray:
        n = len(self.dataset)
        return generator.permutation(n) if self.shuffle else np.arange(n)

    # -- batches -------------------------------------------------------------
    def _fetch(self, indices: np.ndarray) -> Any:
        if self.collate_fn is None and supports_get_batch(self.dataset):
            return self.dataset.get_batch(indices)
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    def _apply_transform(self, batch: Any) -> Any:
        transform = self.transform
        mixes = bool(getattr(transform, "mixes_targets", False))
        fields = len(batch) if isinstance(batch, (tuple, list)) else 1
        if mixes and fields < 2:
            raise ValueError(
                f"transform {type(transform).__name__} mixes targets and needs batches (x, y, ...), "
                f"got a batch with {fields} field(s)"
            )
        if isinstance(batch, (tuple, list)):
            if mixes:
                x, y = transform(batch[0], batch[1])
                return (x, y, *batch[2:])
            return (transform(batch[0]), *batch[1:])
        if isinstance(batch, np.ndarray):
            return transform(batch)
        raise TypeError(
            f"DataLoader transform needs a batch that is an array or a tuple (x, y, ...), "
            f"got {type(batch).__name__}"
        )

    def __iter__(self) -> Iterator[Any]:
        generator = self._generator()
        if self._resume is not None:
            order_state, skip = self._resume
            self._resume = None
        else:
            order_state, skip = None, 0
        if order_state is not None:
            # Redraw the interrupted epoch's order from a scratch generator so
            # that the live generators keep the states that were restored.
            order = self._draw_order(Generator().set_state(order_state))
        else:
            order_state = generator.get_state() if self.shuffle else None
            order = self._draw_order(generator)
        return self._epoch_iter(order, order_state, skip)

    def _epoch_iter(self, order: np.ndarray, order_state: dict | None, skip: int) -> Iterator[Any]:
        self._order_state = order_state
        self._batches_yielded = skip
        bs = self.batch_size
        for b in range(skip, len(self)):
            batch = self._fetch(order[b * bs:(b + 1) * bs])
            if self.transform is not None:
                batch = self._apply_transform(batch)
            self._batches_yielded = b + 1
            yield _to_tensors(batch)
        self._epoch += 1
        self._order_state = None
        self._batches_yielded = 0

    # -- checkpointing -------------------------------------------------------
    def state_dict(self) -> dict:
        """The position in the current epoch and the random states, as a
        JSON-serialisable dict."""
        in_epoch = self._batches_yielded > 0
        return {
            "epoch": self._epoch,
            "batches_yielded": self._batches_yielded if in_epoch else 0,
            "order_state": self._order_state if in_epoch else None,
            "shuffle": self.shuffle,
            # A loader that never shuffles never draws: it leaves the generator alone.
            "generator_state": self._generator().get_state() if self.shuffle else None,
            "transform_generator_states": [g.get_state() for g in _transform_generators(self.transform)],
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a position saved by ``state_dict``: the next
        ``iter(self)`` continues the interrupted epoch."""
        required = ("epoch", "batches_yielded", "order_state", "generator_state",
                    "transform_generator_states")
        if not isinstance(state, dict) or any(k not in state for k in required):
            raise ValueError("DataLoader.load_state_dict expects a dict from state_dict() with keys "
                             f"{required}, got {state if not isinstance(state, dict) else sorted(state)}")
        skip = int(state["batches_yielded"])
        if not 0 <= skip <= len(self):
            raise ValueError(f"state_dict batches_yielded={skip} does not fit this loader of "
                             f"{len(self)} batches")
        if state.get("shuffle", self.shuffle) != self.shuffle:
            raise ValueError(f"state_dict was saved with shuffle={state['shuffle']}, this loader has "
                             f"shuffle={self.shuffle}")
        gens = _transform_generators(self.transform)
        saved = state["transform_generator_states"]
        if len(saved) != len(gens):
            raise ValueError(f"state_dict holds {len(saved)} transform generator state(s), "
                             f"this loader's transform has {len(gens)}")
        if self.shuffle and state["generator_state"] is not None:
            self._generator().set_state(state["generator_state"])
        for gen, gen_state in zip(gens, saved):
            gen.set_state(gen_state)
        self._epoch = int(state["epoch"])
        self._resume = (state["order_state"], skip) if skip > 0 else None
        self._order_state = state["order_state"] if skip > 0 else None
        self._batches_yielded = skip

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}(len={len(self.dataset)}), "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})")

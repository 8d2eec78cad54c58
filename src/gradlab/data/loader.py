"""``DataLoader``: batches from a dataset, in an order fixed by a sampler and
its generator, as ``torch.utils.data.DataLoader``.

The loader works on NumPy arrays throughout (fetch, collate, per-batch
transform) and turns the arrays of a finished batch into gradlab Tensors only
at the very end, so augmentation never touches the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from gradlab.backend import Generator, default_generator
from gradlab.data.collate import collate_arrays, default_collate, default_convert, to_tensors
from gradlab.data.dataset import Dataset, IterableDataset, supports_get_batch
from gradlab.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["DataLoader", "default_collate"]

_RANDOM_SAMPLERS = (RandomSampler, SubsetRandomSampler, WeightedRandomSampler)


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


def _sampler_generator(sampler: Any) -> Generator | None:
    """The generator a sampler draws its order from (None: it draws nothing
    that gradlab knows of)."""
    if isinstance(sampler, _RANDOM_SAMPLERS):
        return default_generator if sampler.generator is None else sampler.generator
    gen = getattr(sampler, "generator", None)
    return gen if isinstance(gen, Generator) else None


def _check_arguments(dataset: Any, batch_size: Any, shuffle: Any, sampler: Any, batch_sampler: Any,
                     num_workers: Any, drop_last: Any, timeout: Any, generator: Any, collate_fn: Any,
                     transform: Any, prefetch_factor: Any, persistent_workers: Any) -> None:
    """PyTorch's argument checks and mutual exclusions, with its messages."""
    if isinstance(dataset, IterableDataset):
        if shuffle not in (False, None):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                             f"but got shuffle={shuffle!r}")
        if sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                             f"but got sampler={sampler!r}")
        if batch_sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                             f"but got batch_sampler={batch_sampler!r}")
    elif not hasattr(dataset, "__getitem__"):
        raise TypeError(f"dataset must define __getitem__ (a map-style dataset) or be an IterableDataset, "
                        f"got {type(dataset).__name__}")
    is_int = isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
    if batch_size is not None and (not is_int or batch_size <= 0):
        raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
    if shuffle is not None and not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be a bool or None, got {shuffle!r}")
    if not isinstance(drop_last, bool):
        raise TypeError(f"drop_last must be a bool, got {drop_last!r}")
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
        raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                         "and drop_last")
    if batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                         "drop_last")
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
        raise ValueError(f"num_workers option should be non-negative; use num_workers=0 to disable "
                         f"multiprocessing. Got num_workers={num_workers!r}")
    if timeout < 0:
        raise ValueError(f"timeout option should be non-negative, got timeout={timeout!r}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. let "
                         "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator must be a gradlab.Generator or None, got {type(generator).__name__}")
    if collate_fn is not None and not callable(collate_fn):
        raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
    if transform is not None and not callable(transform):
        raise TypeError(f"transform must be callable, got {type(transform).__name__}")


class DataLoader:
    """Iterate over a dataset in batches, as ``torch.utils.data.DataLoader``.

    The order comes from ``sampler`` (default: ``RandomSampler`` over the
    dataset with ``generator`` if ``shuffle``, else ``SequentialSampler``),
    grouped by ``batch_sampler`` (default: ``BatchSampler(sampler,
    batch_size, drop_last)``). Samples are fetched, collated into NumPy
    arrays, passed through ``transform`` (per batch) and every array of the
    batch is finally turned into a gradlab Tensor. A sample that is a tuple
    gives a batch that is a list (``[inputs, targets]``), as PyTorch's.

    Args:
        dataset: a map-style dataset (``__getitem__``; ``__len__`` for the
            default samplers) or an ``IterableDataset``. A dataset with
            ``get_batch(indices)`` (as ``TensorDataset``) and no
            ``collate_fn`` is fetched a whole batch at a time.
        batch_size: samples per batch; None turns automatic batching off
            (each sample is converted on its own, as PyTorch).
        shuffle: a new random order at every epoch.
        sampler, batch_sampler: custom orders (mutually exclusive with
            shuffle; batch_sampler also with batch_size and drop_last).
        collate_fn: turns a list of samples into a batch (default
            ``default_collate``'s rules).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: the random source of the default ``RandomSampler``
            (default ``gradlab.default_generator``).
        transform: a per-batch transform. It receives the first field of the
            batch (the inputs) and returns new inputs; a transform whose
            ``mixes_targets`` is true (MixUp, CutMix, or a Compose holding
            one) receives ``(x, y)`` and returns ``(x, soft_targets)``.
            gradlab's addition: PyTorch puts transforms on datasets.
        num_workers, pin_memory, timeout, worker_init_fn,
            multiprocessing_context, prefetch_factor, persistent_workers,
            pin_memory_device, in_order: accepted (and checked) so that
            PyTorch code runs unchanged; gradlab loads in the calling
            process (batches are vectorized NumPy work), so results do not
            depend on them.

    Resuming: ``state_dict()`` records the epoch's order (as the state of the
    sampler's generator it was drawn from), how many batches were handed out,
    and the current state of the sampler's and the transform's generators
    (JSON-able). After ``load_state_dict`` the next ``iter(loader)`` yields
    the remaining batches of the interrupted epoch, with the same
    augmentation draws as an uninterrupted run.

    Example:
        >>> from gradlab.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10.0), np.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=Generator().manual_seed(0))
        >>> [len(x) for x, y in loader]
        [4, 4, 2]
    """

    def __init__(
        self,
        dataset: Dataset | Iterable,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        transform: Callable[..., Any] | None = None,
    ) -> None:
        _check_arguments(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, drop_last,
                         timeout, generator, collate_fn, transform, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.num_workers, self.pin_memory, self.timeout = int(num_workers), pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor = worker_init_fn, prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self.collate_fn = collate_fn
        self.transform = transform
        self.shuffle = bool(shuffle)
        self._iterable = isinstance(dataset, IterableDataset)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = drop_last
        if self._iterable:
            sampler = None
        elif sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and self.batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, self.batch_size, drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._epoch = 0                 # epochs completed
        self._order_state: dict | None = None  # generator state the running epoch's order came from
        self._batches_yielded = 0       # batches of the running epoch handed out
        self._resume: tuple[dict | None, int] | None = None

    # -- order ---------------------------------------------------------------
    def _order_generator(self) -> Generator | None:
        source = self.batch_sampler.sampler if isinstance(self.batch_sampler, BatchSampler) else \
            self.batch_sampler if self.batch_sampler is not None else self.sampler
        return _sampler_generator(source)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError for an iterable dataset without a length, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def _draw_batches(self) -> list[Any]:
        """This epoch's index batches (drawing the order from the sampler)."""
        bs = self.batch_sampler
        if type(bs) is BatchSampler and type(bs.sampler) in (SequentialSampler, RandomSampler,
                                                             WeightedRandomSampler):
            order = bs.sampler._indices()  # one vectorized draw instead of a Python loop
            stop = len(order) - len(order) % bs.batch_size if bs.drop_last else len(order)
            return [order[i:i + bs.batch_size] for i in range(0, stop, bs.batch_size)]
        if bs is None:  # batch_size=None: one sample at a time
            return list(self.sampler)
        return [list(batch) for batch in bs]

    # -- batches -------------------------------------------------------------
    def _collate(self, samples: list[Any]) -> Any:
        if self.collate_fn is None or self.collate_fn is default_collate:
            return collate_arrays(samples)
        return self.collate_fn(samples)

    def _fetch(self, indices: Any) -> Any:
        if self.batch_size is None and self.batch_sampler is None:
            sample = self.dataset[indices]
            return default_convert(sample) if self.collate_fn is None else self.collate_fn(sample)
        if self.collate_fn is None and supports_get_batch(self.dataset):
            return list(self.dataset.get_batch(np.asarray(indices, dtype=np.int64)))
        index_list = indices.tolist() if isinstance(indices, np.ndarray) else indices
        return self._collate([self.dataset[i] for i in index_list])

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
                return type(batch)((x, y, *batch[2:]))
            return type(batch)((transform(batch[0]), *batch[1:]))
        if isinstance(batch, np.ndarray):
            return transform(batch)
        raise TypeError(
            f"DataLoader transform needs a batch that is an array or a tuple (x, y, ...), "
            f"got {type(batch).__name__}"
        )

    def _finish(self, batch: Any) -> Any:
        if self.transform is not None:
            batch = self._apply_transform(batch)
        return to_tensors(batch)

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._iterable_epoch()
        generator = self._order_generator()
        order_state, skip = self._resume if self._resume is not None else (None, 0)
        self._resume = None
        if order_state is not None and generator is not None:
            # Redraw the interrupted epoch's order from its saved state, then
            # put back the live state that load_state_dict restored.
            live = generator.get_state()
            generator.set_state(order_state)
            batches = self._draw_batches()
            generator.set_state(live)
        else:
            order_state = generator.get_state() if generator is not None else None
            batches = self._draw_batches()
        return self._epoch_iter(batches, order_state, skip)

    def _epoch_iter(self, batches: list[Any], order_state: dict | None, skip: int) -> Iterator[Any]:
        self._order_state = order_state
        self._batches_yielded = skip
        for b in range(skip, len(batches)):
            batch = self._finish(self._fetch(batches[b]))
            self._batches_yielded = b + 1
            yield batch
        self._epoch += 1
        self._order_state = None
        self._batches_yielded = 0

    def _iterable_epoch(self) -> Iterator[Any]:
        if self.batch_size is None:
            for sample in self.dataset:
                yield default_convert(sample) if self.collate_fn is None else self.collate_fn(sample)
            return
        samples: list[Any] = []
        for sample in self.dataset:
            samples.append(sample)
            if len(samples) == self.batch_size:
                yield self._finish(self._collate(samples))
                samples = []
        if samples and not self.drop_last:
            yield self._finish(self._collate(samples))

    # -- checkpointing -------------------------------------------------------
    def state_dict(self) -> dict:
        """The position in the current epoch and the random states, as a
        JSON-serialisable dict."""
        in_epoch = self._batches_yielded > 0
        generator = self._order_generator()
        return {
            "epoch": self._epoch,
            "batches_yielded": self._batches_yielded if in_epoch else 0,
            "order_state": self._order_state if in_epoch else None,
            "shuffle": self.shuffle,
            # A loader whose sampler never draws leaves the generator alone.
            "generator_state": generator.get_state() if generator is not None else None,
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
        generator = self._order_generator()
        if generator is not None and state["generator_state"] is not None:
            generator.set_state(state["generator_state"])
        for gen, gen_state in zip(gens, saved):
            gen.set_state(gen_state)
        self._epoch = int(state["epoch"])
        self._resume = (state["order_state"], skip) if skip > 0 else None
        self._order_state = state["order_state"] if skip > 0 else None
        self._batches_yielded = skip

    def __repr__(self) -> str:
        size = f"len={len(self.dataset)}" if hasattr(self.dataset, "__len__") else "iterable"
        return (f"DataLoader(dataset={type(self.dataset).__name__}({size}), "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})")

"""gradlab.utils.data against torch.utils.data: the same structure where
PyTorch's is deterministic (sequential order, batching, drop_last, lengths,
collation, argument errors), distributional properties where it is random."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gradlab
import gradlab.utils.data as gud


def _gen(seed: int) -> gradlab.Generator:
    return gradlab.Generator().manual_seed(seed)


class Pairs:
    """A map-style dataset of (Tensor, int) pairs, built for either framework."""

    def __init__(self, lib, n=10):
        self.x = lib.arange(n * 2, dtype=lib.float32).reshape(n, 2)
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.x[i], i % 3


class Stream:
    """An IterableDataset of dicts, for either framework."""

    def __init__(self, base, n=7):
        self.base, self.n = base, n

    def make(self):
        n = self.n

        class _S(self.base):
            def __iter__(self):
                return iter({"i": i, "v": np.full(2, float(i))} for i in range(n))

            def __len__(self):
                return n
        return _S()


def _plain(batch):
    """A batch as nested Python lists (tensor type, dtype name) for comparison."""
    if isinstance(batch, (torch.Tensor, gradlab.Tensor)):
        arr = batch.detach().numpy() if isinstance(batch, torch.Tensor) else batch.numpy()
        return ("tensor", str(batch.dtype).removeprefix("torch."), arr.tolist())
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_plain(b) for b in batch])
    return batch


@pytest.mark.parametrize("kwargs", [{"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                    {"batch_size": 10}, {"batch_size": None}, {"batch_size": 4}])
def test_sequential_loader_batches_as_torch(kwargs):
    gl = list(gud.DataLoader(Pairs(gradlab), **kwargs))
    th = list(tud.DataLoader(Pairs(torch), **kwargs))
    assert len(gud.DataLoader(Pairs(gradlab), **kwargs)) == len(tud.DataLoader(Pairs(torch), **kwargs))
    assert [_plain(b) for b in gl] == [_plain(b) for b in th]


def test_batch_sampler_and_sampler_arguments_as_torch():
    for lib in (gud, tud):
        assert list(lib.BatchSampler(lib.SequentialSampler(range(10)), 3, False)) == \
            [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
        assert len(lib.BatchSampler(range(10), 3, True)) == 3
    custom = [[4, 1], [0], [9, 8, 7]]
    gl = list(gud.DataLoader(Pairs(gradlab), batch_sampler=custom))
    th = list(tud.DataLoader(Pairs(torch), batch_sampler=custom))
    assert [_plain(b) for b in gl] == [_plain(b) for b in th]
    gl = list(gud.DataLoader(Pairs(gradlab), sampler=[5, 2, 7], batch_size=2))
    th = list(tud.DataLoader(Pairs(torch), sampler=[5, 2, 7], batch_size=2))
    assert [_plain(b) for b in gl] == [_plain(b) for b in th]


def test_iterable_dataset_batches_as_torch():
    for kwargs in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        gl = gud.DataLoader(Stream(gud.IterableDataset).make(), **kwargs)
        th = tud.DataLoader(Stream(tud.IterableDataset).make(), **kwargs)
        assert len(gl) == len(th)
        assert [_plain(b) for b in gl] == [_plain(b) for b in th]


def test_default_collate_structure_as_torch():
    Point = collections.namedtuple("Point", "x y")
    samples = [
        [(np.zeros(2), 1, 2.5, True, "a"), (np.ones(2), 2, 3.5, False, "b")],
        [{"a": np.float32(1), "b": [1, 2]}, {"a": np.float32(2), "b": [3, 4]}],
        [Point(1, 2.0), Point(3, 4.0)],
    ]
    for batch in samples:
        gl, th = gud.default_collate(batch), tud.default_collate(batch)
        assert type(gl) is type(th)
        assert _plain(gl) == _plain(th)
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        gud.default_collate([(1, 2), (3,)])


@pytest.mark.parametrize("kwargs", [
    {"sampler": [0, 1], "shuffle": True},
    {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "drop_last": True},
    {"batch_size": None, "drop_last": True},
    {"num_workers": -1},
    {"persistent_workers": True},
    {"prefetch_factor": 2},
    {"timeout": -1},
])
def test_argument_errors_as_torch(kwargs):
    with pytest.raises(ValueError) as th_error:
        tud.DataLoader(Pairs(torch), **kwargs)
    with pytest.raises(ValueError) as gl_error:
        gud.DataLoader(Pairs(gradlab), **kwargs)
    first_words = " ".join(str(th_error.value).split()[:4])
    assert first_words in str(gl_error.value)


def test_iterable_dataset_refuses_shuffle_and_samplers():
    for kwargs in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
            gud.DataLoader(Stream(gud.IterableDataset).make(), **kwargs)


def test_sampler_argument_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        gud.RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        gud.RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        gud.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        gud.BatchSampler(range(3), 2, None)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        gud.WeightedRandomSampler(np.ones((2, 2)), 3)
    with pytest.raises(RuntimeError, match="without replacement"):
        gud.WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)


def test_random_sampler_is_a_permutation_reproducible_by_seed():
    orders = [list(gud.RandomSampler(range(50), generator=_gen(s))) for s in (1, 1, 2)]
    assert sorted(orders[0]) == list(range(50))
    assert orders[0] == orders[1] != orders[2]
    # more samples than the dataset: whole permutations, then part of one
    long = list(gud.RandomSampler(range(5), num_samples=12, generator=_gen(3)))
    assert len(long) == 12 and sorted(long[:5]) == sorted(long[5:10]) == list(range(5))
    assert len(set(long[10:])) == 2


def test_random_sampler_with_replacement_is_uniform():
    draws = list(gud.RandomSampler(range(4), replacement=True, num_samples=8000, generator=_gen(4)))
    counts = np.bincount(draws, minlength=4)
    assert len(draws) == 8000 and np.all(np.abs(counts - 2000) < 150)  # ~3.4 sigma


def test_weighted_sampler_follows_the_weights():
    weights = [1.0, 3.0, 0.0, 4.0]  # unnormalised, as PyTorch allows
    draws = list(gud.WeightedRandomSampler(weights, 8000, generator=_gen(5)))
    freq = np.bincount(draws, minlength=4) / 8000
    np.testing.assert_allclose(freq, [0.125, 0.375, 0.0, 0.5], atol=0.02)
    once = list(gud.WeightedRandomSampler(weights, 3, replacement=False, generator=_gen(6)))
    assert sorted(once) == [0, 1, 3]


def test_subset_random_sampler_and_shuffled_loader():
    subset = list(gud.SubsetRandomSampler([10, 20, 30, 40], generator=_gen(7)))
    assert sorted(subset) == [10, 20, 30, 40]
    loader = gud.DataLoader(Pairs(gradlab, 20), batch_size=6, shuffle=True, generator=_gen(8))
    assert isinstance(loader.sampler, gud.RandomSampler)
    assert isinstance(loader.batch_sampler, gud.BatchSampler)
    batches = [x for x, _ in loader]
    assert [len(b) for b in batches] == [6, 6, 6, 2]
    seen = np.concatenate([b.numpy()[:, 0] // 2 for b in batches])
    assert sorted(seen.tolist()) == list(range(20)) and seen.tolist() != list(range(20))
    again = [x for x, _ in gud.DataLoader(Pairs(gradlab, 20), batch_size=6, shuffle=True, generator=_gen(8))]
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(batches, again))


def test_resume_with_a_weighted_sampler_continues_the_epoch():
    def make():
        return gud.DataLoader(Pairs(gradlab, 30), batch_size=4,
                              sampler=gud.WeightedRandomSampler(np.arange(1.0, 31.0), 30, generator=_gen(9)))
    reference = [x.numpy() for x, _ in make()]
    first = make()
    it = iter(first)
    next(it), next(it)
    state = first.state_dict()
    resumed = make()
    resumed.sampler.generator.manual_seed(123)  # a fresh process would not share the first's state
    resumed.load_state_dict(state)
    rest = [x.numpy() for x, _ in resumed]
    assert len(rest) == len(reference) - 2
    assert all(np.array_equal(a, b) for a, b in zip(rest, reference[2:]))


def test_concat_dataset_and_worker_info():
    both = gud.TensorDataset(np.arange(3)) + gud.TensorDataset(np.arange(10, 12))
    assert isinstance(both, gud.ConcatDataset) and len(both) == 5
    assert [int(both[i][0]) for i in range(-5, 5)] == [0, 1, 2, 10, 11] * 2
    assert gud.get_worker_info() is None


def test_pytorch_module_paths_resolve_to_the_same_objects():
    from gradlab.utils.data.dataloader import DataLoader, default_collate
    from gradlab.utils.data.dataset import Dataset
    from gradlab.utils.data.sampler import SubsetRandomSampler

    assert (DataLoader, default_collate, Dataset, SubsetRandomSampler) == \
        (gud.DataLoader, gud.default_collate, gud.Dataset, gud.SubsetRandomSampler)
    assert gradlab.utils.data.DataLoader is gradlab.data.DataLoader

"""Dataset, TensorDataset, Subset, random_split and DataLoader."""

import json

import numpy as np
import pytest

import gradlab
from gradlab.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split
from gradlab.data.transforms import Compose, MixUp, RandomHorizontalFlip


def _gen(seed):
    return gradlab.Generator().manual_seed(seed)


def _dataset(n=23):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return TensorDataset(x, np.arange(n))


class ListDataset(Dataset):
    """A dataset without get_batch: samples go through collate."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full(3, float(i)), "y": i, "name": f"s{i}"}

    def __len__(self):
        return self.n


def test_tensor_dataset_items_and_errors():
    ds = _dataset(5)
    x, y = ds[3]
    np.testing.assert_array_equal(x, [6.0, 7.0])
    assert y == 3 and len(ds) == 5
    tensor_ds = TensorDataset(gradlab.arange(4), gradlab.zeros(4))
    assert len(tensor_ds) == 4 and tensor_ds[2][0] == 2
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_and_random_split_partition():
    ds = _dataset(10)
    sub = Subset(ds, [7, 2])
    assert len(sub) == 2 and sub[0][1] == 7
    parts = random_split(ds, [3, 7], generator=_gen(0))
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(10))
    assert [len(p) for p in parts] == [3, 7]
    again = random_split(ds, [3, 7], generator=_gen(0))
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
    fractions = random_split(_dataset(11), [0.5, 0.5], generator=_gen(0))
    assert [len(p) for p in fractions] == [6, 5]  # the remainder goes to the first part, as PyTorch
    with pytest.raises(ValueError, match="sum of lengths"):
        random_split(ds, [3, 3])
    with pytest.raises(IndexError, match="Subset indices"):
        Subset(ds, [10])


def test_every_sample_once_per_epoch_and_len():
    loader = DataLoader(_dataset(23), batch_size=5, shuffle=True, generator=_gen(1))
    assert len(loader) == 5
    for _ in range(2):
        labels = np.concatenate([y.numpy() for _, y in loader])
        assert sorted(labels.tolist()) == list(range(23))
    batches = [y.shape[0] for _, y in loader]
    assert batches == [5, 5, 5, 5, 3]


def test_batches_are_tensors_with_matching_rows():
    xb, yb = next(iter(DataLoader(_dataset(8), batch_size=4, shuffle=True, generator=_gen(0))))
    assert isinstance(xb, gradlab.Tensor) and isinstance(yb, gradlab.Tensor)
    assert xb.dtype == gradlab.float32 and yb.dtype == gradlab.int64
    np.testing.assert_array_equal(xb.numpy()[:, 0], 2 * yb.numpy())


def test_same_seed_same_order_different_seed_different_order():
    def order(seed):
        loader = DataLoader(_dataset(50), batch_size=7, shuffle=True, generator=_gen(seed))
        return [np.concatenate([y.numpy() for _, y in loader]) for _ in range(2)]

    a, b, c = order(3), order(3), order(4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])  # reshuffled each epoch
    assert not np.array_equal(a[0], c[0])


def test_no_shuffle_keeps_order_and_drop_last():
    loader = DataLoader(_dataset(23), batch_size=5, drop_last=True)
    assert len(loader) == 4
    labels = [y.numpy().tolist() for _, y in loader]
    assert labels == [list(range(i, i + 5)) for i in range(0, 20, 5)]


def test_collate_path_keeps_structure():
    loader = DataLoader(ListDataset(5), batch_size=2)
    batch = next(iter(loader))
    assert set(batch) == {"x", "y", "name"}
    assert batch["x"].shape == (2, 3) and batch["x"].dtype == gradlab.float64
    assert batch["y"].dtype == gradlab.int64 and batch["y"].tolist() == [0, 1]
    assert batch["name"] == ["s0", "s1"]
    custom = DataLoader(_dataset(4), batch_size=2, collate_fn=lambda s: len(s))
    assert list(custom) == [2, 2]
    stacked = default_collate([(np.zeros(2), 1.5), (np.ones(2), 2.5)])
    assert stacked[0].shape == (2, 2) and stacked[1].dtype == np.float64


@pytest.mark.parametrize("shared", [False, True])
def test_resume_mid_epoch_yields_the_remaining_batches(shared):
    x = np.random.default_rng(0).random((30, 1, 4, 4)).astype(np.float32)

    def make():
        # one generator for the order and every transform, or one each
        gens = [_gen(5)] * 3 if shared else [_gen(5), _gen(7), _gen(8)]
        return DataLoader(TensorDataset(x, np.arange(30)), batch_size=4, shuffle=True, generator=gens[0],
                          transform=Compose([RandomHorizontalFlip(generator=gens[1]),
                                             MixUp(0.4, num_classes=30, generator=gens[2])]))

    full = make()
    reference = [(xb.numpy(), yb.numpy()) for xb, yb in full] + [(xb.numpy(), yb.numpy()) for xb, yb in full]

    first = make()
    it = iter(first)
    for _ in range(3):
        next(it)
    state = json.loads(json.dumps(first.state_dict()))  # must survive a JSON checkpoint
    assert state["batches_yielded"] == 3

    resumed = make()
    resumed.load_state_dict(state)
    rest = [(xb.numpy(), yb.numpy()) for xb, yb in resumed]
    assert len(rest) == len(full) - 3
    for (xa, ya), (xb, yb) in zip(rest, reference[3:len(full)]):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    # the next epoch continues as in the uninterrupted run
    nxt = [(xb.numpy(), yb.numpy()) for xb, yb in resumed]
    for (xa, ya), (xb, yb) in zip(nxt, reference[len(full):]):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_state_between_epochs_restarts_cleanly():
    loader = DataLoader(_dataset(10), batch_size=3, shuffle=True, generator=_gen(2))
    list(loader)
    state = loader.state_dict()
    assert state["batches_yielded"] == 0 and state["epoch"] == 1
    expected = [y.numpy() for _, y in loader]
    other = DataLoader(_dataset(10), batch_size=3, shuffle=True, generator=_gen(99))
    other.load_state_dict(state)
    for a, b in zip([y.numpy() for _, y in other], expected):
        np.testing.assert_array_equal(a, b)


def test_subset_batches_through_the_fast_path_and_the_sample_path():
    ds = _dataset(12)
    sub = Subset(ds, [11, 3, 5, 0, 7])
    fast = [y.numpy().tolist() for _, y in DataLoader(sub, batch_size=2)]
    slow = [y.numpy().tolist() for _, y in DataLoader(sub, batch_size=2, collate_fn=default_collate)]
    assert fast == slow == [[11, 3], [5, 0], [7]]
    xb, _ = next(iter(DataLoader(sub, batch_size=5)))
    np.testing.assert_array_equal(xb.numpy()[:, 1], 2 * np.array([11, 3, 5, 0, 7]) + 1)


def test_loader_without_shuffle_leaves_the_default_generator_alone():
    loader = DataLoader(_dataset(10), batch_size=3)
    next(iter(loader))
    state = loader.state_dict()
    before = gradlab.default_generator.get_state()
    gradlab.default_generator.numpy.random()
    moved = gradlab.default_generator.get_state()
    DataLoader(_dataset(10), batch_size=3).load_state_dict(state)
    assert gradlab.default_generator.get_state() == moved != before


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_dataset(), batch_size=0)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(_dataset(), generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(_dataset(), num_workers=-1)
    assert len(list(DataLoader(_dataset(4), batch_size=2, num_workers=2, pin_memory=True))) == 2
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(_dataset(), collate_fn=3)
    loader = DataLoader(_dataset(), batch_size=4)
    with pytest.raises(ValueError, match="batches_yielded"):
        loader.load_state_dict({**loader.state_dict(), "batches_yielded": 99})
    with pytest.raises(ValueError, match="keys"):
        loader.load_state_dict({"epoch": 0})
    mixing = DataLoader(TensorDataset(np.zeros((4, 1, 2, 2), np.float32)), batch_size=2,
                        transform=MixUp(1.0, num_classes=2))
    with pytest.raises(ValueError, match="mixes targets"):
        next(iter(mixing))

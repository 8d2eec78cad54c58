"""MixUp, CutMix and the per-batch switch between them."""

import numpy as np
import pytest

import gradlab
from gradlab.data import DataLoader, TensorDataset
from gradlab.data.transforms import Compose, CutMix, MixUp, RandomChoice, RandomHorizontalFlip, one_hot


def _gen(seed=0):
    return gradlab.Generator().manual_seed(seed)


def _batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 3, 10, 12)).astype(np.float32), rng.integers(0, 5, size=n)


def test_mixup_is_a_convex_pairing_with_matching_targets():
    x, y = _batch()
    mix = MixUp(alpha=0.4, num_classes=5, generator=_gen(0))
    mixed, targets = mix(x, y)
    assert mixed.shape == x.shape and mixed.dtype == np.float32 and targets.dtype == np.float32
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    lam = mix.last_lam
    assert 0.0 < lam < 1.0
    # every mixed image is lam * x_i + (1 - lam) * x_j for one partner j, with the same pairing in y
    for i in range(len(x)):
        partners = [j for j in range(len(x))
                    if np.allclose(mixed[i], lam * x[i] + (1 - lam) * x[j], atol=1e-6)]
        assert len(partners) == 1
        j = partners[0]
        expected = lam * one_hot(y[i:i + 1], 5)[0] + (1 - lam) * one_hot(y[j:j + 1], 5)[0]
        np.testing.assert_allclose(targets[i], expected, atol=1e-6)


def test_mixup_lambda_follows_beta():
    x, y = _batch(4)
    mix = MixUp(alpha=0.5, num_classes=5, generator=_gen(1))
    lams = []
    for _ in range(3000):
        mix(x, y)
        lams.append(mix.last_lam)
    lams = np.array(lams)
    assert abs(lams.mean() - 0.5) < 0.02 and abs(lams.var() - 0.125) < 0.01  # Beta(.5,.5): var 1/8


def test_cutmix_targets_sum_to_one_and_lambda_is_the_kept_share():
    x, y = _batch(8)
    cut = CutMix(alpha=1.0, num_classes=5, generator=_gen(2))
    checked = 0
    for _ in range(30):
        mixed, targets = cut(x, y)
        np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
        top, left, bottom, right = cut.last_box
        inside = np.zeros((10, 12), bool)
        inside[top:bottom, left:right] = True
        kept = (mixed == x).all(axis=1)  # pixels still from the image itself (random data: no ties)
        for i in range(len(x)):
            if np.array_equal(mixed[i], x[i]):
                continue  # paired with itself (or an empty box)
            np.testing.assert_array_equal(kept[i], ~inside)  # only the box changed
            assert cut.last_lam == pytest.approx(kept[i].mean())  # lambda = share of pixels kept
            assert targets[i, y[i]] == pytest.approx(1.0) or targets[i, y[i]] == pytest.approx(cut.last_lam)
            checked += 1
    assert checked > 100


def test_cutmix_box_size_follows_formula_when_inside():
    x, y = _batch(2, seed=3)
    cut = CutMix(alpha=1.0, num_classes=5, generator=_gen(5))
    sizes = []
    for _ in range(200):
        rng_state = cut.generator.get_state()
        cut(x, y)
        lam = gradlab.Generator().set_state(rng_state).numpy.beta(1.0, 1.0)
        top, left, bottom, right = cut.last_box
        if 0 < top and bottom < 10 and 0 < left and right < 12:  # not clipped
            assert (bottom - top, right - left) == (int(10 * np.sqrt(1 - lam)), int(12 * np.sqrt(1 - lam)))
            sizes.append(bottom - top)
    assert len(set(sizes)) > 3


def test_soft_targets_pass_through_and_errors():
    x, y = _batch(6)
    soft = one_hot(y, 5) * 0.9 + 0.02
    _, targets = MixUp(1.0, generator=_gen(0))(x, soft)
    np.testing.assert_allclose(targets.sum(axis=1), soft.sum(axis=1)[0], rtol=1e-6)
    with pytest.raises(ValueError, match="num_classes is needed"):
        MixUp(1.0)(x, y)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        MixUp(1.0, num_classes=3)(x, y + 3)
    with pytest.raises(ValueError, match="same batch size"):
        CutMix(1.0, num_classes=5)(x, y[:2])
    with pytest.raises(ValueError, match="alpha"):
        CutMix(-1.0)
    same, targets = MixUp(0.0, num_classes=5)(x, y)  # alpha 0: no mixing
    np.testing.assert_array_equal(same, x)
    np.testing.assert_array_equal(targets, one_hot(y, 5))


def test_fixed_seeds_reproduce():
    x, y = _batch()
    for cls in (MixUp, CutMix):
        a = cls(1.0, num_classes=5, generator=_gen(7))(x, y)
        b = cls(1.0, num_classes=5, generator=_gen(7))(x, y)
        c = cls(1.0, num_classes=5, generator=_gen(8))(x, y)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert not np.array_equal(a[0], c[0])


def test_switch_picks_one_per_batch():
    x, y = _batch()
    switch = RandomChoice([MixUp(1.0, num_classes=5, generator=_gen(0)),
                           CutMix(1.0, num_classes=5, generator=_gen(1))], p=[0.3, 0.7], generator=_gen(2))
    assert switch.mixes_targets
    picks = []
    for _ in range(400):
        mixed, targets = switch(x, y)
        picks.append(switch.last_choice)
        np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert 0.23 < np.mean(np.array(picks) == 0) < 0.37
    with pytest.raises(ValueError, match="all mix targets"):
        RandomChoice([MixUp(1.0, num_classes=5), RandomHorizontalFlip()])


def test_loader_with_mixing_hands_out_soft_targets():
    x, y = _batch(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, generator=_gen(0),
                        transform=Compose([RandomHorizontalFlip(generator=_gen(1)),
                                           CutMix(1.0, num_classes=5, generator=_gen(2))]))
    shapes = []
    for xb, yb in loader:
        assert isinstance(yb, gradlab.Tensor) and yb.dtype == gradlab.float32
        np.testing.assert_allclose(yb.numpy().sum(axis=1), 1.0, rtol=1e-6)
        shapes.append(tuple(xb.shape))
    assert shapes == [(4, 3, 10, 12), (4, 3, 10, 12), (2, 3, 10, 12)]

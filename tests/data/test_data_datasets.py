"""digits() and the synthetic data sets."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import gradlab
from gradlab.data.datasets import blobs, digits, moons, sine_regression, spirals


def test_digits_shapes_split_and_content():
    (x_train, y_train), (x_test, y_test) = digits()
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    # stratified: every class in both splits
    assert set(y_train.tolist()) == set(range(10)) == set(y_test.tolist())
    # the union is exactly scikit-learn's data set (as multisets of rows)
    reference = load_digits()
    ours = np.concatenate([x_train, x_test]).reshape(1797, 64) * 16
    key = lambda rows: sorted(map(bytes, np.rint(rows).astype(np.uint8)))  # noqa: E731
    assert key(ours) == key(reference.data)
    again = digits()
    np.testing.assert_array_equal(again.train.x, x_train)
    other = digits(seed=1)
    assert not np.array_equal(other.train.y, y_train)
    with pytest.raises(ValueError, match="test_size"):
        digits(test_size=1.5)


@pytest.mark.parametrize("make,n_features", [(spirals, 2), (moons, 2), (blobs, 2)])
def test_classification_toys(make, n_features):
    data = make(generator=gradlab.Generator().manual_seed(0))
    x = np.concatenate([data.train.x, data.test.x])
    y = np.concatenate([data.train.y, data.test.y])
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape[1] == n_features
    assert len(data.test.x) == round(0.25 * len(x))
    counts = np.bincount(y)
    assert counts.min() == counts.max()  # balanced classes
    same = make(generator=gradlab.Generator().manual_seed(0))
    np.testing.assert_array_equal(same.train.x, data.train.x)
    different = make(generator=gradlab.Generator().manual_seed(1))
    assert not np.array_equal(different.train.x, data.train.x)


def test_spirals_geometry_without_noise():
    data = spirals(n_samples=300, n_classes=3, noise=0.0, test_size=0.0,
                   generator=gradlab.Generator().manual_seed(0))
    x, y = data.train
    radius = np.hypot(x[:, 0], x[:, 1])
    angle = np.arctan2(x[:, 0], x[:, 1])  # x = r (sin t, cos t)
    expected = 4.0 * y + 4.0 * radius
    np.testing.assert_allclose(np.cos(angle - expected)[radius > 0.05], 1.0, atol=1e-5)


def test_sine_regression():
    data = sine_regression(n_samples=200, noise=0.0, generator=gradlab.Generator().manual_seed(0))
    x, y = data.train
    assert x.shape == (150, 1) and y.dtype == np.float32
    np.testing.assert_allclose(y, np.sin(2 * np.pi * x), atol=1e-6)
    noisy = sine_regression(n_samples=4000, noise=0.3, generator=gradlab.Generator().manual_seed(0))
    residual = noisy.train.y - np.sin(2 * np.pi * noisy.train.x)
    assert abs(residual.std() - 0.3) < 0.02


def test_synthetic_errors():
    with pytest.raises(ValueError, match="n_samples"):
        spirals(n_samples=0)
    with pytest.raises(TypeError, match="generator"):
        moons(generator=np.random.default_rng(0))

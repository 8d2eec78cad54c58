"""Standardize, ZeroCenter, SubtractMeanImage and PerChannelNormalize."""

import numpy as np
import pytest

from gradlab.data.transforms import PerChannelNormalize, Standardize, SubtractMeanImage, ZeroCenter


def _data(seed=0, shape=(200, 5)):
    rng = np.random.default_rng(seed)
    scale = np.arange(1, shape[1] + 1).reshape((-1,) + (1,) * (len(shape) - 2))
    return (rng.normal(3.0, 2.0, size=shape) * scale).astype(np.float32)


def test_standardize_train_has_zero_mean_unit_std_per_feature():
    train = _data()
    s = Standardize().fit(train)
    out = s(train)
    assert out.dtype == np.float32 and out.shape == train.shape
    np.testing.assert_allclose(out.mean(axis=0, dtype=np.float64), 0.0, atol=1e-6)
    np.testing.assert_allclose(out.std(axis=0, dtype=np.float64), 1.0, atol=1e-6)


def test_standardize_is_not_refitted_on_test():
    train, test = _data(0), _data(1) + 20.0
    s = Standardize().fit(train)
    mean, std = train.astype(np.float64).mean(0), train.astype(np.float64).std(0)
    np.testing.assert_allclose(s(test), (test - mean) / std, rtol=1e-5, atol=1e-5)
    # the test split is shifted, so its standardized mean is clearly not 0
    assert np.all(s(test).mean(axis=0) > 0.5)
    np.testing.assert_allclose(s.state_dict()["mean"], mean)


def test_standardize_constant_feature_and_state_dict():
    train = np.zeros((10, 2))
    train[:, 1] = np.arange(10)
    s = Standardize().fit(train)
    out = s(train)
    assert np.all(out[:, 0] == 0) and np.isfinite(out).all()
    clone = Standardize()
    clone.load_state_dict(s.state_dict())
    np.testing.assert_array_equal(clone(train), out)
    images = np.arange(2 * 1 * 2 * 2, dtype=np.uint8).reshape(2, 1, 2, 2)
    assert Standardize().fit(images)(images).dtype == np.float32


def test_zero_center_and_mean_image():
    train = _data(2, (50, 3, 4, 4))
    z = ZeroCenter().fit(train)
    np.testing.assert_allclose(z(train).mean(axis=0), 0.0, atol=1e-5)
    m = SubtractMeanImage().fit(train)
    assert m.state_dict()["mean"].shape == (3, 4, 4)
    np.testing.assert_allclose(m(train[:3]), train[:3] - train.astype(np.float64).mean(0), atol=1e-5)
    with pytest.raises(ValueError, match="at least 4 dimensions"):
        SubtractMeanImage().fit(train.reshape(50, -1))


def test_per_channel_normalize():
    train = _data(3, (40, 3, 5, 5))
    p = PerChannelNormalize().fit(train)
    out = p(train)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3), dtype=np.float64), 1.0, atol=1e-5)
    vgg = PerChannelNormalize(divide_std=False).fit(train)
    channel_means = train.astype(np.float64).mean(axis=(0, 2, 3))
    np.testing.assert_allclose(vgg(train), train - channel_means[None, :, None, None], atol=1e-5)
    given = PerChannelNormalize(mean=[0.5, 0.5, 0.5], std=[0.25, 0.5, 1.0])
    np.testing.assert_allclose(given(np.full((1, 3, 1, 1), 1.0)).ravel(), [2.0, 1.0, 0.5])


def test_fit_accepts_a_tensor():
    import gradlab

    train = _data()
    from_tensor = Standardize().fit(gradlab.from_numpy(train))
    np.testing.assert_allclose(from_tensor.state_dict()["mean"], train.astype(np.float64).mean(0))


def test_normalization_errors():
    with pytest.raises(RuntimeError, match="Standardize is not fitted"):
        Standardize()(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(5,\)"):
        Standardize().fit(_data())(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="fitted on 3 channels"):
        PerChannelNormalize().fit(_data(0, (4, 3, 2, 2)))(np.zeros((1, 2, 2, 2)))
    with pytest.raises(KeyError, match="missing key"):
        Standardize().load_state_dict({"mean": np.zeros(2)})

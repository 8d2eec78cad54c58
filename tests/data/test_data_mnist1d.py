"""mnist1d(): the generated MNIST-1D set (Greydanus 2020)."""

import numpy as np
import pytest

from gradlab.data.datasets import MNIST1D_TEMPLATES, mnist1d, mnist1d_templates


@pytest.fixture(scope="module")
def default():
    return mnist1d()


def test_shapes_dtypes_and_balanced_classes(default):
    (x_train, y_train), (x_test, y_test) = default
    assert x_train.shape == (4000, 40) and x_test.shape == (1000, 40)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    y = np.concatenate([y_train, y_test])
    assert np.array_equal(np.bincount(y), np.full(10, 500))  # num_samples // 10 of each digit
    assert set(y_test.tolist()) == set(range(10))
    # standardized as a whole: mean 0 and std 1 over both splits
    x = np.concatenate([x_train, x_test]).astype(np.float64)
    assert abs(x.mean()) < 1e-5 and abs(x.std() - 1.0) < 1e-5


def test_same_seed_same_set_other_seed_other_set(default):
    again = mnist1d()
    np.testing.assert_array_equal(again.train.x, default.train.x)
    np.testing.assert_array_equal(again.test.y, default.test.y)
    other = mnist1d(seed=7)
    assert not np.allclose(other.train.x, default.train.x)


def test_sizes_follow_the_arguments():
    (x_train, y_train), (x_test, _) = mnist1d(num_samples=300, train_split=0.5, length=64)
    assert x_train.shape == (150, 64) and x_test.shape == (150, 64)


def test_templates_are_whitened_and_start_at_zero():
    t = mnist1d_templates()
    assert t.shape == (10, 12) == MNIST1D_TEMPLATES.shape
    assert np.allclose(t[:, 0], 0.0)
    # before the shift, each row had mean 0 and std 1 (then divided by 6)
    centred = t - t.mean(1, keepdims=True)
    assert np.allclose(centred.std(1), 1.0 / 6.0)


def test_without_randomness_every_signal_is_its_resampled_template():
    """Padding fixed at p, no scale, shift, noise or shear: each signal is the
    template followed by p zeros (12 + p points; the dilation to 12 + high
    points changes nothing when low = high = p), resampled to 40 points."""
    p = 48
    (x, y), _ = mnist1d(num_samples=100, padding=(p, p), scale_coeff=0.0, max_translation=1,
                        corr_noise_scale=0.0, iid_noise_scale=0.0, shear_scale=0.0)
    raw = []
    for label in range(10):
        padded = np.concatenate([mnist1d_templates()[label], np.zeros(p)])
        raw.append(np.interp(np.linspace(0, 1, 40), np.linspace(0, 1, 12 + p), padded))
    raw = np.array(raw)
    every = raw[np.repeat(np.arange(10), 10)]
    expected = (raw - every.mean()) / every.std()  # the set's standardization
    np.testing.assert_allclose(x, expected[y], atol=1e-5)


def test_translation_moves_the_digit_and_noise_fills_the_padding():
    (x, y), _ = mnist1d(num_samples=2000, train_split=0.5, scale_coeff=0.0, iid_noise_scale=0.0,
                        shear_scale=0.0)
    # where the digit sits varies: the position of the largest |value| spreads over the signal
    peaks = np.abs(x).argmax(1)
    assert len(np.unique(peaks)) > 20
    # the padding's noise is smoothed: neighbouring samples correlate more than with i.i.d. noise
    # of the same strength
    (white, _), _ = mnist1d(num_samples=2000, train_split=0.5, scale_coeff=0.0, corr_noise_scale=0.0,
                            iid_noise_scale=0.1, shear_scale=0.0)

    def lag1(s):
        return np.corrcoef(s[:, :-1].ravel(), s[:, 1:].ravel())[0, 1]

    assert lag1(x) > lag1(white) + 0.1


def test_a_linear_model_reaches_about_the_papers_32_percent(default):
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, y_test) = default
    acc = LogisticRegression(max_iter=3000).fit(x_train, y_train).score(x_test, y_test)
    assert 0.25 < acc < 0.40  # paper: 32%; far above chance (10%), far below a CNN (94%)


@pytest.mark.parametrize("kwargs,match", [
    ({"num_samples": 5}, "num_samples must be an integer >= 10, got 5"),
    ({"train_split": 1.0}, "train_split must be a fraction in \\(0, 1\\), got 1.0"),
    ({"padding": (60, 36)}, "padding must be a pair of integers"),
    ({"shear_scale": -1.0}, "shear_scale must be a finite number >= 0, got -1.0"),
    ({"seed": -1}, "seed must be an integer >= 0, got -1"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mnist1d(**kwargs)


def test_recipe_loads_mnist1d_as_one_channel_signals_and_builds_cnn1d():
    import gradlab
    from gradlab.train import recipe

    config = recipe.resolve_config({"data": {"name": "mnist1d"}, "model": {"name": "cnn1d"}})
    data = recipe.load_data(config)
    assert data.x_train.shape == (3600, 1, 40) and data.x_test.shape == (1000, 1, 40)
    assert data.num_classes == 10
    # the test split is the generator's, whatever the run's seed
    np.testing.assert_allclose(data.x_test[:, 0].std(), mnist1d().test.x.std(), rtol=0.05)
    model = recipe.build_model(config, (1, 40), 10)
    convs = [m for m in model.modules() if isinstance(m, gradlab.nn.Conv1d)]
    assert [c.out_channels for c in convs] == config["model"]["channels"]
    assert model(gradlab.from_numpy(data.x_test[:5])).shape == (5, 10)


@pytest.mark.parametrize("model,shape,match", [
    ("cnn", (1, 40), "model.name = 'cnn' needs image inputs .* for 1-D signals use model.name = 'cnn1d'"),
    ("cnn1d", (1, 8, 8), "model.name = 'cnn1d' needs 1-D signal inputs \\(C, L\\); this data set has "
                         "samples of shape \\(1, 8, 8\\)"),
])
def test_recipe_names_the_model_that_does_not_fit_the_data(model, shape, match):
    from gradlab.train import recipe

    config = recipe.resolve_config({"model": {"name": model}})
    with pytest.raises(recipe.ConfigError, match=match):
        recipe.build_model(config, shape, 10)


def test_cli_data_mnist1d_is_accepted_and_a_path_is_not(capsys):
    from gradlab.cli import main

    # mnist1d takes no path; the error lists it among the accepted data sets
    assert main(["train", "--data", "mnist1d:/tmp/x", "--epochs", "1"]) == 2
    assert "data.name = 'mnist1d:/tmp/x' is not accepted; expected one of digits, mnist1d" in \
        capsys.readouterr().err

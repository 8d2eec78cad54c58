"""Augmentation transforms: shapes and dtypes kept, exact identities, and
comparisons with independent references (np.rot90, colorsys, PyTorch's
grid_sample)."""

import colorsys

import numpy as np
import pytest
import torch

import gradlab
from gradlab.data.transforms import (
    ColorJitter,
    Compose,
    Cutout,
    ElasticDeform,
    FancyPCA,
    GaussianNoise,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomScale,
    RandomTranslate,
    RandomVerticalFlip,
    hsv_to_rgb,
    rgb_to_hsv,
)
from gradlab.data.transforms.geometric import rotation_matrices, warp_affine


def _gen(seed=0):
    return gradlab.Generator().manual_seed(seed)


def _images(n=6, c=3, h=12, w=12, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(dtype)


def _fitted_pca(generator):
    return FancyPCA(0.1, generator=generator).fit(_images(20, seed=9))


FACTORIES = {
    "crop": lambda g: RandomCrop(12, padding=2, generator=g),
    "hflip": lambda g: RandomHorizontalFlip(generator=g),
    "vflip": lambda g: RandomVerticalFlip(generator=g),
    "scale": lambda g: RandomScale((0.8, 1.2), generator=g),
    "rotation": lambda g: RandomRotation(20, generator=g),
    "translate": lambda g: RandomTranslate((0.2, 0.2), generator=g),
    "affine": lambda g: RandomAffine(15, (0.1, 0.1), (0.9, 1.1), 10, generator=g),
    "noise": lambda g: GaussianNoise(0.1, generator=g),
    "jitter": lambda g: ColorJitter(0.4, 0.4, 0.4, 0.1, generator=g),
    "fancy_pca": _fitted_pca,
    "elastic": lambda g: ElasticDeform(8.0, 3.0, generator=g),
    "cutout": lambda g: Cutout(4, generator=g),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_kept_input_untouched_and_seeds_reproduce(name, dtype):
    x = _images(dtype=dtype)
    before = x.copy()
    out = FACTORIES[name](_gen(1))(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(FACTORIES[name](_gen(1))(x), out)
    assert not np.array_equal(FACTORIES[name](_gen(2))(x), out)
    single = FACTORIES[name](_gen(1))(x[0])
    assert single.shape == x[0].shape


@pytest.mark.parametrize("name", sorted(set(FACTORIES) - {"crop"}))
def test_probability_zero_is_identity(name):
    transform = FACTORIES[name](_gen(0))
    transform.p = 0.0
    x = _images()
    np.testing.assert_array_equal(transform(x), x)


def test_flip_twice_is_identity_and_flip_is_a_mirror():
    x = _images()
    for flip, axis in ((RandomHorizontalFlip, 3), (RandomVerticalFlip, 2)):
        once = flip(p=1.0, generator=_gen(0))(x)
        np.testing.assert_array_equal(once, np.flip(x, axis))
        np.testing.assert_array_equal(flip(p=1.0, generator=_gen(1))(once), x)
    half = RandomHorizontalFlip(p=0.5, generator=_gen(3))(_images(n=40))
    original = _images(n=40)
    flipped = [np.array_equal(a, b[..., ::-1]) for a, b in zip(half, original)]
    kept = [np.array_equal(a, b) for a, b in zip(half, original)]
    assert all(f or k for f, k in zip(flipped, kept)) and 5 < sum(flipped) < 35


def test_crop_with_padding_only_shifts_content():
    x = _images(n=30, h=9, w=11)
    out = RandomCrop((9, 11), padding=2, generator=_gen(0))(x)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    shifts = set()
    for i in range(len(x)):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if np.array_equal(out[i], padded[i, :, dy:dy + 9, dx:dx + 11])]
        assert len(matches) == 1
        shifts.add(matches[0])
    assert len(shifts) > 5  # offsets really vary
    smaller = RandomCrop(5, generator=_gen(0))(x)
    assert smaller.shape == (30, 3, 5, 5)
    centre = RandomCrop((9, 11), padding=2, p=0.0, generator=_gen(0))(x)
    np.testing.assert_array_equal(centre, x)
    reflect = RandomCrop((9, 11), padding=1, padding_mode="reflect", generator=_gen(0))(x)
    assert reflect.shape == x.shape
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(20, generator=_gen(0))(x)


def test_rotation_by_zero_is_identity_and_by_90_is_rot90():
    x = _images(n=4, h=9, w=9, dtype=np.float64)
    np.testing.assert_array_equal(RandomRotation(0, generator=_gen(0))(x), x)
    np.testing.assert_allclose(RandomRotation((90, 90), generator=_gen(0))(x), np.rot90(x, 1, axes=(2, 3)),
                               atol=1e-12)
    even = _images(n=2, h=8, w=8)
    np.testing.assert_allclose(RandomRotation((-90, -90), generator=_gen(0))(even),
                               np.rot90(even, -1, axes=(2, 3)), atol=1e-6)


def test_fill_comes_in_from_outside():
    out = RandomRotation((45, 45), fill=0.5, generator=_gen(0))(np.zeros((1, 1, 15, 15)))
    assert out[0, 0, 0, 0] == 0.5 and out[0, 0, 7, 7] == 0.0


def test_warp_affine_matches_torch_grid_sample():
    rng = np.random.default_rng(0)
    x = rng.random((3, 2, 11, 11))
    matrices = rotation_matrices(np.array([10.0, -33.0, 71.0])) * np.array([1.0, 0.8, 1.2])[:, None, None]
    matrices[1, 1, 0] += 0.3  # a shear
    shifts = np.array([[1.0, 2.0], [0.0, -3.0], [0.5, 0.25]])
    ours = warp_affine(x, matrices, shifts)
    # grid_sample's theta maps output to input in normalized (x=column, y=row) coordinates.
    inverse = np.linalg.inv(matrices)
    half = (11 - 1) / 2
    source_shift = -np.einsum("nij,nj->ni", inverse, shifts) / half
    theta = np.zeros((3, 2, 3))
    theta[:, :, :2] = inverse[:, ::-1, ::-1]
    theta[:, :, 2] = source_shift[:, ::-1]
    grid = torch.nn.functional.affine_grid(torch.tensor(theta), (3, 2, 11, 11), align_corners=True)
    reference = torch.nn.functional.grid_sample(torch.tensor(x), grid, mode="bilinear", padding_mode="zeros",
                                                align_corners=True).numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-12)


@pytest.mark.parametrize("order", [0, 1])
def test_resample_matches_scipy_map_coordinates(order):
    """The sampler against scipy.ndimage.map_coordinates, image by image, on
    positions inside, across the edge and far outside, with a fill."""
    from scipy import ndimage

    from gradlab.data.transforms.geometric import resample

    rng = np.random.default_rng(order)
    x = rng.random((3, 2, 5, 7))
    rows = rng.uniform(-3.0, 7.0, size=(3, 4, 6))
    cols = rng.uniform(-3.0, 9.0, size=(3, 4, 6))
    rows[0, 0, :3] = [0.0, 4.0, 2.0]  # exact pixel centres
    ours = resample(x, rows, cols, order=order, fill=0.25)
    for i in range(3):
        for ch in range(2):
            framed = np.pad(x[i, ch], 1, constant_values=0.25)
            ref = ndimage.map_coordinates(framed, [rows[i] + 1, cols[i] + 1], order=order, mode="nearest",
                                          prefilter=False)
            np.testing.assert_allclose(ours[i, ch], ref, rtol=0, atol=1e-14)
    assert ours.dtype == x.dtype


def test_inverse_2x2_matches_numpy_and_refuses_singular_maps():
    from gradlab.data.transforms.geometric import _inverse_2x2

    m = np.random.default_rng(0).standard_normal((6, 2, 2))
    np.testing.assert_allclose(_inverse_2x2(m), np.linalg.inv(m), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="singular"):
        _inverse_2x2(np.array([[[1.0, 2.0], [2.0, 4.0]]]))


def test_translate_is_an_integer_shift():
    x = _images(n=20, h=10, w=10, dtype=np.float64)
    out = RandomTranslate((0.3, 0.3), generator=_gen(4))(x)
    for i in range(len(x)):
        found = False
        for dy in range(-3, 4):
            for dx in range(-3, 4):
                shifted = np.zeros_like(x[i])
                src = x[i][:, max(0, -dy):10 - max(0, dy), max(0, -dx):10 - max(0, dx)]
                shifted[:, max(0, dy):max(0, dy) + src.shape[1], max(0, dx):max(0, dx) + src.shape[2]] = src
                found |= np.allclose(out[i], shifted, atol=1e-12)
        assert found


def test_scale_one_is_identity_and_zoom_keeps_centre():
    x = _images(n=3, h=9, w=9, dtype=np.float64)
    np.testing.assert_allclose(RandomScale((1.0, 1.0), generator=_gen(0))(x), x, atol=1e-12)
    zoomed = RandomScale((2.0, 2.0), generator=_gen(0))(x)
    np.testing.assert_allclose(zoomed[:, :, 4, 4], x[:, :, 4, 4], atol=1e-12)
    np.testing.assert_allclose(zoomed[:, :, 4, 6], x[:, :, 4, 5], atol=1e-12)  # 2 pixels out <- 1 in


def test_elastic_deform():
    x = _images(n=3, h=16, w=16, dtype=np.float64)
    np.testing.assert_allclose(ElasticDeform(alpha=0.0, generator=_gen(0))(x), x, atol=1e-12)
    flat = np.full((2, 1, 16, 16), 0.7)
    out = ElasticDeform(alpha=2.0, sigma=4.0, generator=_gen(0))(flat)
    # a uniform image stays uniform wherever the displaced points stay inside it
    np.testing.assert_allclose(out[:, :, 4:12, 4:12], 0.7, atol=1e-12)
    moved = ElasticDeform(alpha=30.0, sigma=4.0, generator=_gen(0))(x)
    assert np.abs(moved - x).mean() > 0.05


def test_gaussian_noise_statistics():
    x = np.zeros((50, 1, 20, 20), np.float64)
    out = GaussianNoise(std=0.5, mean=0.1, generator=_gen(0))(x)
    assert abs(out.std() - 0.5) < 0.01 and abs(out.mean() - 0.1) < 0.01
    np.testing.assert_array_equal(GaussianNoise(0.0, generator=_gen(0))(x), x)


def test_cutout_cuts_one_square_in_every_channel():
    x = np.ones((200, 3, 16, 16), np.float32)
    out = Cutout(6, generator=_gen(0))(x)
    zeros = out == 0
    assert (zeros == zeros[:, :1]).all()  # same patch in every channel
    counts = zeros[:, 0].sum(axis=(1, 2))
    assert counts.max() == 36 and counts.min() >= 9  # clipped at borders, at least a 3x3 corner
    for mask in zeros[:, 0]:
        rows, cols = np.nonzero(mask)
        assert mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()  # a rectangle


def test_hsv_matches_colorsys_and_round_trips():
    rgb = np.random.default_rng(1).random((4, 3, 5, 5))
    rgb[0, :, 0, 0] = 0.5  # a grey pixel
    hsv = rgb_to_hsv(rgb)
    for n, i, j in [(0, 0, 0), (1, 2, 3), (2, 4, 4), (3, 1, 0)]:
        np.testing.assert_allclose(hsv[n, :, i, j], colorsys.rgb_to_hsv(*rgb[n, :, i, j]), atol=1e-12)
    np.testing.assert_allclose(hsv_to_rgb(hsv), rgb, atol=1e-12)


def test_color_jitter_single_factors_against_formulas():
    x = _images(n=5, dtype=np.float64, seed=3)
    gray = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    bright = ColorJitter(brightness=(1.3, 1.3), generator=_gen(0))(x)
    np.testing.assert_allclose(bright, np.clip(1.3 * x, 0, 1), atol=1e-12)
    contrast = ColorJitter(contrast=(0.6, 0.6), generator=_gen(0))(x)
    mean = gray.mean(axis=(1, 2))[:, None, None, None]
    np.testing.assert_allclose(contrast, np.clip(0.6 * x + 0.4 * mean, 0, 1), atol=1e-12)
    saturation = ColorJitter(saturation=(0.0, 0.0), generator=_gen(0))(x)
    np.testing.assert_allclose(saturation, np.repeat(gray[:, None], 3, axis=1), atol=1e-12)
    hue = ColorJitter(hue=(0.25, 0.25), generator=_gen(0))(x)
    h, s, v = colorsys.rgb_to_hsv(*x[2, :, 3, 7])
    np.testing.assert_allclose(hue[2, :, 3, 7], colorsys.hsv_to_rgb((h + 0.25) % 1.0, s, v), atol=1e-12)
    grey_images = _images(n=2, c=1)
    np.testing.assert_array_equal(ColorJitter(saturation=0.5, hue=0.2, generator=_gen(0))(grey_images),
                                  grey_images)
    with pytest.raises(ValueError, match="hue must lie in"):
        ColorJitter(hue=0.7)


def test_fancy_pca():
    train = _images(n=30, seed=5, dtype=np.float64)
    pca = FancyPCA(alpha_std=0.1, generator=_gen(0)).fit(train)
    pixels = train.transpose(1, 0, 2, 3).reshape(3, -1)
    values, vectors = np.linalg.eigh(np.cov(pixels))
    np.testing.assert_allclose(pca.eigenvalues, values, rtol=1e-10)
    np.testing.assert_allclose(np.abs(pca.eigenvectors), np.abs(vectors), atol=1e-10)
    x = _images(n=8, seed=6)
    out = pca(x)
    delta = (out.astype(np.float64) - x)
    per_image = delta[:, :, :1, :1]
    np.testing.assert_allclose(delta, np.broadcast_to(per_image, delta.shape), atol=1e-6)  # one RGB shift
    assert np.abs(per_image).max() > 0
    # the shift is a combination of eigenvectors: its coordinates are alpha_i * lambda_i
    coords = per_image[:, :, 0, 0] @ pca.eigenvectors / pca.eigenvalues
    assert coords.std() < 1.0
    still = FancyPCA(alpha_std=0.0, generator=_gen(0)).fit(train)
    np.testing.assert_array_equal(still(x), x)
    copy = FancyPCA(0.1, **pca.state_dict(), generator=_gen(0))
    np.testing.assert_array_equal(copy(x), out)
    with pytest.raises(RuntimeError, match="FancyPCA is not fitted"):
        FancyPCA()(x)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="floating-point"):
        RandomHorizontalFlip()(np.zeros((1, 1, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        RandomHorizontalFlip()(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="p must be a probability"):
        GaussianNoise(p=1.5)
    with pytest.raises(ValueError, match="order must be 0"):
        RandomRotation(10, order=3)
    with pytest.raises(TypeError, match="generator"):
        Cutout(4, generator=np.random.default_rng(0))


def test_compose_applies_in_order():
    x = _images()
    both = Compose([RandomHorizontalFlip(p=1.0), RandomVerticalFlip(p=1.0)])(x)
    np.testing.assert_array_equal(both, x[:, :, ::-1, ::-1])
    with pytest.raises(TypeError, match="not callable"):
        Compose([1])

"""Input normalization fitted on the training set and applied to any split.

The statistics come from the training data only (``fit``) and are then
applied unchanged to validation and test data: refitting on the test set
would leak its distribution into the model's inputs. Statistics are kept in
float64; the output keeps a floating input's dtype (integer images come out
as float32). ``state_dict`` returns the statistics as arrays, so they can be
saved with a checkpoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.data._arrays import to_host

__all__ = ["Standardize", "ZeroCenter", "SubtractMeanImage", "PerChannelNormalize"]


def _as_data(x: Any, owner: str, min_ndim: int = 2) -> np.ndarray:
    array = to_host(x)
    if array.ndim < min_ndim:
        raise ValueError(f"{owner}: expected data with a sample axis first and at least {min_ndim} "
                         f"dimensions, got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{owner}: expected numeric data, got dtype {array.dtype}")
    return array


def _moments(data: np.ndarray, per_channel: bool, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population variance over the samples (and, per channel,
    over every axis after the channel axis), in float64, two passes over
    chunks of samples so that a large uint8 or float32 training set is never
    copied to float64 whole."""
    axes = (0,) + tuple(range(2, data.ndim)) if per_channel else (0,)
    keep = data.shape[1:2] if per_channel else data.shape[1:]
    count = data.shape[0] * (int(np.prod(data.shape[2:])) if per_channel else 1)
    if count == 0:
        raise ValueError("cannot fit normalization statistics on an empty data set")
    total = np.zeros(keep)
    for start in range(0, data.shape[0], chunk):
        total += data[start:start + chunk].sum(axis=axes, dtype=np.float64)
    mean = total / count
    shaped_mean = mean.reshape((1, -1) + (1,) * (data.ndim - 2)) if per_channel else mean
    squares = np.zeros(keep)
    for start in range(0, data.shape[0], chunk):
        deviation = data[start:start + chunk].astype(np.float64) - shaped_mean
        squares += np.square(deviation).sum(axis=axes)
    return mean, squares / count


def _out_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)


class _Fitted:
    """Shared bookkeeping: named statistics, fitted check, state dict."""

    _stats: tuple[str, ...] = ()
    min_ndim = 2

    def __init__(self) -> None:
        for name in self._stats:
            setattr(self, name, None)

    @property
    def fitted(self) -> bool:
        return all(getattr(self, name) is not None for name in self._stats)

    def _check(self, x: Any) -> np.ndarray:
        owner = type(self).__name__
        if not self.fitted:
            raise RuntimeError(f"{owner} is not fitted: call {owner}.fit(train_data) first")
        return _as_data(x, owner, self.min_ndim)

    def state_dict(self) -> dict[str, np.ndarray]:
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: nothing to save")
        return {name: np.array(getattr(self, name)) for name in self._stats}

    def load_state_dict(self, state: dict) -> None:
        missing = [name for name in self._stats if name not in state]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing key(s) {missing}, "
                           f"expected {list(self._stats)}")
        for name in self._stats:
            setattr(self, name, np.asarray(state[name], dtype=np.float64))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(fitted={self.fitted})"


class Standardize(_Fitted):
    """Per-feature standardization: ``(x - mean) / std``, mean and std over
    the samples (axis 0) of the training data, for each feature (each
    remaining index).

    ``std`` is the population standard deviation (``ddof=0``), so the
    training data come out with mean 0 and std 1 per feature exactly. A
    feature that is constant in the training data is only centred (its scale
    is taken as 1), as scikit-learn's ``StandardScaler`` does.

    Example:
        >>> s = Standardize().fit(np.array([[0.0, 1.0], [2.0, 1.0]]))
        >>> s(np.array([[1.0, 3.0]]))
        array([[0., 2.]])
    """

    _stats = ("mean", "std")

    def fit(self, x: Any) -> Standardize:
        mean, var = _moments(_as_data(x, "Standardize.fit"), per_channel=False)
        self.mean, self.std = mean, np.sqrt(var)
        return self

    def __call__(self, x: Any) -> np.ndarray:
        data = self._check(x)
        if data.shape[1:] != self.mean.shape:
            raise ValueError(f"Standardize was fitted on samples of shape {self.mean.shape}, "
                             f"got data of shape {data.shape}")
        scale = np.where(self.std > 0, self.std, 1.0)
        return ((data - self.mean) / scale).astype(_out_dtype(data))


class ZeroCenter(_Fitted):
    """Subtract the per-feature mean of the training data: ``x - mean(train,
    axis=0)`` (the lectures' "zero-centred data")."""

    _stats = ("mean",)

    def fit(self, x: Any) -> ZeroCenter:
        data = _as_data(x, f"{type(self).__name__}.fit", self.min_ndim)
        self.mean = _moments(data, per_channel=False)[0]
        return self

    def __call__(self, x: Any) -> np.ndarray:
        data = self._check(x)
        if data.shape[1:] != self.mean.shape:
            raise ValueError(f"{type(self).__name__} was fitted on samples of shape {self.mean.shape}, "
                             f"got data of shape {data.shape}")
        return (data - self.mean).astype(_out_dtype(data))


class SubtractMeanImage(ZeroCenter):
    """Subtract the mean training image, a (C, H, W) array (AlexNet; for
    CIFAR-10 a 3x32x32 image). The same arithmetic as ``ZeroCenter``, for
    image batches (N, C, H, W)."""

    min_ndim = 4


class PerChannelNormalize(_Fitted):
    """Per-channel normalization (VGG): ``(x[:, c] - mean_c) / std_c``, with
    one mean (and std) per channel over all samples and pixels of the
    training set (axis 1 is the channel axis).

    VGG only subtracted the channel means; that is ``divide_std=False``. The
    default also divides by the channel std, as torchvision's ``Normalize``
    with ImageNet statistics does. ``mean``/``std`` may be given instead of
    fitted (e.g. the ImageNet ones).

    Args:
        mean, std: per-channel statistics to use without fitting.
        divide_std: divide by the per-channel standard deviation.
    """

    _stats = ("mean", "std")

    def __init__(self, mean: Any = None, std: Any = None, divide_std: bool = True) -> None:
        super().__init__()
        self.divide_std = bool(divide_std)
        if mean is not None:
            c = np.asarray(mean, dtype=np.float64).reshape(-1)
            s = np.ones_like(c) if std is None else np.asarray(std, dtype=np.float64).reshape(-1)
            if s.shape != c.shape or (s <= 0).any():
                raise ValueError(f"PerChannelNormalize: std must be positive with one value per channel "
                                 f"like mean {c.tolist()}, got {np.asarray(std).tolist()}")
            self.mean, self.std = c, s
        elif std is not None:
            raise ValueError("PerChannelNormalize: std was given without mean")

    def fit(self, x: Any) -> PerChannelNormalize:
        data = _as_data(x, "PerChannelNormalize.fit")
        mean, var = _moments(data, per_channel=True)
        self.mean, self.std = mean, np.sqrt(var)
        return self

    def __call__(self, x: Any) -> np.ndarray:
        data = self._check(x)
        if data.shape[1] != self.mean.size:
            raise ValueError(f"PerChannelNormalize was fitted on {self.mean.size} channels, "
                             f"got data of shape {data.shape} (channels on axis 1)")
        shape = (1, -1) + (1,) * (data.ndim - 2)
        out = data - self.mean.reshape(shape)
        if self.divide_std:
            out = out / np.where(self.std > 0, self.std, 1.0).reshape(shape)
        return out.astype(_out_dtype(data))

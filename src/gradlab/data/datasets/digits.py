"""The 8x8 handwritten digits bundled with scikit-learn: the offline default."""

from __future__ import annotations

import numpy as np

from gradlab.data.datasets.splits import Split, Splits

__all__ = ["digits"]


def digits(test_size: float = 0.2, seed: int = 0) -> Splits:
    """scikit-learn's copy of the UCI optical digits: 1,797 grey 8x8 images
    of the digits 0-9, read from the files that ship with scikit-learn (no
    network).

    The split is stratified by class and fixed by ``seed``
    (``sklearn.model_selection.train_test_split``), so the same call always
    gives the same split: with the defaults 1,437 training and 360 test
    images.

    Args:
        test_size: fraction of the images in the test split.
        seed: seed of the split.

    Returns:
        ``Splits(train=(x, y), test=(x, y))`` with ``x`` float32 of shape
        (N, 1, 8, 8) in [0, 1] (the original 0-16 counts divided by 16) and
        ``y`` int64 of shape (N,) in 0..9.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_size < 1.0:
        raise ValueError(f"digits: test_size must be a fraction in (0, 1), got {test_size!r}")
    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed,
                                                        stratify=y)
    return Splits(Split(x_train, y_train), Split(x_test, y_test))

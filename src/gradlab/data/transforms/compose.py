"""Chaining transforms: ``Compose`` (all in order) and ``RandomChoice`` (one
per batch, e.g. the MixUp/CutMix switch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradlab.backend import Generator
from gradlab.data.transforms._base import check_generator

__all__ = ["Compose", "RandomChoice"]


def _mixes(transform: Any) -> bool:
    return bool(getattr(transform, "mixes_targets", False))


def _check_transforms(transforms: Any, owner: str) -> list[Callable[..., Any]]:
    if not isinstance(transforms, Sequence) or isinstance(transforms, str):
        raise TypeError(f"{owner}: transforms must be a list of callables, got {type(transforms).__name__}")
    for i, t in enumerate(transforms):
        if not callable(t):
            raise TypeError(f"{owner}: transforms[{i}] is not callable: {t!r}")
    return list(transforms)


class Compose:
    """Apply transforms one after another, as torchvision's ``Compose``.

    Image transforms receive the images only; batch-mixing ones (MixUp,
    CutMix) receive ``(x, y)``. Called as ``compose(x)`` it returns images
    (and needs no mixing inside); called as ``compose(x, y)`` it returns
    ``(x, y)``.

    Example:
        >>> from gradlab.data.transforms import RandomCrop, RandomHorizontalFlip
        >>> g = Generator().manual_seed(0)
        >>> aug = Compose([RandomCrop(28, padding=2, generator=g), RandomHorizontalFlip(generator=g)])
        >>> aug(np.zeros((2, 1, 28, 28), np.float32)).shape
        (2, 1, 28, 28)
    """

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
        self.transforms = _check_transforms(transforms, "Compose")

    @property
    def mixes_targets(self) -> bool:
        return any(_mixes(t) for t in self.transforms)

    def __call__(self, x: np.ndarray, y: Any = None) -> Any:
        if y is None and self.mixes_targets:
            raise ValueError("Compose holds a batch-mixing transform (MixUp/CutMix): call it with (x, y)")
        for t in self.transforms:
            if _mixes(t):
                x, y = t(x, y)
            else:
                x = t(x)
        return x if y is None else (x, y)

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class RandomChoice:
    """Apply one transform per call, picked at random (torchvision v2's
    ``RandomChoice``); with MixUp and CutMix inside it is the per-batch
    switch between the two (timm's ``switch_prob``).

    Args:
        transforms: the candidates; either all mix targets or none does, so
            that every batch has the same kind of targets.
        p: probabilities of the candidates (default uniform).
        generator: random source of the pick.

    Example:
        >>> from gradlab.data.transforms import CutMix, MixUp
        >>> switch = RandomChoice([MixUp(1.0, num_classes=10), CutMix(1.0, num_classes=10)])
        >>> x, y = switch(np.zeros((4, 3, 8, 8), np.float32), np.arange(4))
        >>> y.shape
        (4, 10)
    """

    def __init__(self, transforms: Sequence[Callable[..., Any]], p: Sequence[float] | None = None,
                 generator: Generator | None = None) -> None:
        self.transforms = _check_transforms(transforms, "RandomChoice")
        if not self.transforms:
            raise ValueError("RandomChoice needs at least one transform")
        kinds = {_mixes(t) for t in self.transforms}
        if len(kinds) > 1:
            raise ValueError("RandomChoice: transforms must all mix targets (MixUp, CutMix) or none must")
        if p is None:
            p = [1.0 / len(self.transforms)] * len(self.transforms)
        probs = np.asarray(p, dtype=np.float64)
        if probs.shape != (len(self.transforms),) or (probs < 0).any() or not np.isclose(probs.sum(), 1.0):
            raise ValueError(f"RandomChoice: p must hold {len(self.transforms)} non-negative probabilities "
                             f"summing to 1, got {p!r}")
        self.p = probs
        self.generator = check_generator(generator, "RandomChoice")
        self.last_choice: int | None = None

    @property
    def mixes_targets(self) -> bool:
        return _mixes(self.transforms[0])

    def __call__(self, x: np.ndarray, y: Any = None) -> Any:
        index = int(self.generator.numpy.choice(len(self.transforms), p=self.p))
        self.last_choice = index
        chosen = self.transforms[index]
        if self.mixes_targets:
            if y is None:
                raise ValueError("RandomChoice holds batch-mixing transforms: call it with (x, y)")
            return chosen(x, y)
        x = chosen(x)
        return x if y is None else (x, y)

    def __repr__(self) -> str:
        return f"RandomChoice({self.transforms!r}, p={self.p.tolist()})"

"""Transforms on NumPy batches: normalization (fitted on the training set),
augmentation (random, vectorized over the batch, explicit generator) and
batch mixing (MixUp, CutMix).

Every random transform takes ``generator=`` (a ``gradlab.Generator``; by
default ``gradlab.default_generator``) and never touches NumPy's global
random state, so a seed reproduces every draw.
"""

from gradlab.data.transforms.augment import (
    Cutout,
    GaussianNoise,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
)
from gradlab.data.transforms.color import ColorJitter, FancyPCA, hsv_to_rgb, rgb_to_hsv
from gradlab.data.transforms.compose import Compose, RandomChoice
from gradlab.data.transforms.geometric import (
    ElasticDeform,
    RandomAffine,
    RandomRotation,
    RandomScale,
    RandomTranslate,
)
from gradlab.data.transforms.mixing import CutMix, MixUp, one_hot
from gradlab.data.transforms.normalize import PerChannelNormalize, Standardize, SubtractMeanImage, ZeroCenter

__all__ = [
    "ColorJitter", "Compose", "CutMix", "Cutout", "ElasticDeform", "FancyPCA", "GaussianNoise", "MixUp",
    "PerChannelNormalize", "RandomAffine", "RandomChoice", "RandomCrop", "RandomHorizontalFlip",
    "RandomRotation", "RandomScale", "RandomTranslate", "RandomVerticalFlip", "Standardize",
    "SubtractMeanImage", "ZeroCenter", "hsv_to_rgb", "one_hot", "rgb_to_hsv",
]

"""Learning-rate schedules, each a closed form of the step count, with
PyTorch's names and semantics (``torch.optim.lr_scheduler``), plus
:class:`Warmup` (in front of any schedule, ReduceLROnPlateau included) and
:func:`linear_scaling_rule`."""

from gradlab.optim.lr_scheduler.base import LRScheduler
from gradlab.optim.lr_scheduler.compose import ChainedScheduler, SequentialLR, Warmup
from gradlab.optim.lr_scheduler.cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from gradlab.optim.lr_scheduler.cyclic import CyclicLR, OneCycleLR
from gradlab.optim.lr_scheduler.decay import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from gradlab.optim.lr_scheduler.plateau import ReduceLROnPlateau
from gradlab.optim.lr_scheduler.scaling import linear_scaling_rule

__all__ = [
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
    "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR", "StepLR", "Warmup",
    "linear_scaling_rule",
]

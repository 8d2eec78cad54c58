"""``gradlab.utils.data.sampler``: PyTorch's module path of the samplers
(``from torch.utils.data.sampler import SubsetRandomSampler``)."""

from gradlab.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]

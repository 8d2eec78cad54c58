"""``gradlab.utils.data``: PyTorch's import path for datasets, samplers and
loaders (``torch.utils.data``). The datasets of files and the transforms live
in :mod:`gradlab.data`."""

from gradlab.data.collate import default_collate, default_convert
from gradlab.data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from gradlab.data.loader import DataLoader
from gradlab.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def get_worker_info() -> None:
    """None: gradlab loads in the calling process (there are no workers)."""
    return None


__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler", "Sampler",
    "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "default_collate", "default_convert", "get_worker_info", "random_split",
]

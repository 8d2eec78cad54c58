"""``gradlab.utils.data``: PyTorch's import path for datasets, samplers and
loaders (``torch.utils.data``). The datasets of files and the transforms live
in :mod:`gradlab.data`."""

from gradlab.utils.data.dataloader import DataLoader, default_collate, default_convert, get_worker_info
from gradlab.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from gradlab.utils.data.distributed import DistributedSampler
from gradlab.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset",
    "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info", "random_split",
]

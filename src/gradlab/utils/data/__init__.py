"""``gradlab.utils.data``: PyTorch's import path for datasets and loaders
(``torch.utils.data``). The datasets of files and the transforms live in
:mod:`gradlab.data`."""

from gradlab.data.dataset import Dataset, Subset, TensorDataset, random_split
from gradlab.data.loader import DataLoader, default_collate
from gradlab.utils.data.distributed import DistributedSampler

__all__ = ["DataLoader", "Dataset", "DistributedSampler", "Subset", "TensorDataset", "default_collate",
           "random_split"]

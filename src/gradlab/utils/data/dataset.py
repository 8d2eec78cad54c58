"""``gradlab.utils.data.dataset``: PyTorch's module path of the datasets."""

from gradlab.data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset", "random_split"]

"""gradlab.data: datasets, loaders, normalization and augmentation.

Everything here works on NumPy arrays; a ``DataLoader`` hands out gradlab
Tensors only at the end of a batch. Randomness always comes from an explicit
``gradlab.Generator``.

    from gradlab.data import DataLoader, TensorDataset, datasets, transforms
    (x_train, y_train), (x_test, y_test) = datasets.digits()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
"""

from gradlab.data import datasets, transforms
from gradlab.data.collate import default_collate
from gradlab.data.dataset import Dataset, Subset, TensorDataset, random_split
from gradlab.data.loader import DataLoader

__all__ = [
    "DataLoader", "Dataset", "Subset", "TensorDataset", "datasets", "default_collate", "random_split",
    "transforms",
]

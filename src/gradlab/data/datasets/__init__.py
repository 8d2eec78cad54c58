"""Data sets as NumPy arrays: each function returns ``Splits(train, test)``
with documented shapes and dtypes.

``digits()`` needs nothing but scikit-learn and is the offline default;
``mnist``, ``fashion_mnist`` and ``cifar10`` read the standard files from a
directory (and can download them, verifying the published checksums); the
synthetic ones are drawn from a ``gradlab.Generator``. No file is ever read
with pickle.
"""

from gradlab.data.datasets.cifar10 import CIFAR10_CLASSES, cifar10, read_cifar_binary
from gradlab.data.datasets.digits import digits
from gradlab.data.datasets.download import check_integrity, download_url, file_digest
from gradlab.data.datasets.idx import FASHION_MNIST_CLASSES, fashion_mnist, mnist, read_idx
from gradlab.data.datasets.mnist1d import MNIST1D_TEMPLATES, mnist1d, mnist1d_templates
from gradlab.data.datasets.splits import Split, Splits
from gradlab.data.datasets.synthetic import blobs, moons, sine_regression, spirals

__all__ = [
    "CIFAR10_CLASSES", "FASHION_MNIST_CLASSES", "MNIST1D_TEMPLATES", "Split", "Splits", "blobs",
    "check_integrity", "cifar10", "digits", "download_url", "fashion_mnist", "file_digest", "mnist",
    "mnist1d", "mnist1d_templates", "moons", "read_cifar_binary", "read_idx", "sine_regression", "spirals",
]

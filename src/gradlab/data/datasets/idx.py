"""MNIST and Fashion-MNIST from their IDX files.

IDX (LeCun's format): a 4-byte magic number — two zero bytes, a type code
(0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64) and the number of dimensions — then each dimension as a
big-endian uint32, then the values, big-endian, row-major. MNIST images have
magic 2051 (0x00000803: unsigned bytes, 3 dims), labels 2049 (0x00000801).
Files may be gzip-compressed or not (recognised by content, not by name).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from gradlab.data.datasets.download import check_integrity, download_url
from gradlab.data.datasets.splits import Split, Splits, to_unit

__all__ = ["read_idx", "mnist", "fashion_mnist", "MNIST_URL", "FASHION_MNIST_URL"]

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801

# torchvision's first mirror: LeCun's own site now often refuses downloads.
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# The MD5 digests published with the data sets (and used by torchvision).
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as stream:
        raw = stream.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise ValueError(f"IDX file {path} is a truncated or damaged gzip file ({error}); "
                         "delete it and download it again") from error


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into a native-endian array.

    Args:
        path: the file.
        expected_magic: if given, the magic number the file must have (e.g.
            2051 for MNIST images).

    Raises:
        ValueError: wrong magic number, truncated header or data, or bytes
            after the data; the message names the file and what was expected.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"IDX file {path} is truncated: {len(raw)} bytes, expected at least a 4-byte header")
    magic = int.from_bytes(raw[:4], "big")
    code, ndim = raw[2], raw[3]
    expected = "an IDX magic number 0x0000TTDD (two zero bytes, type code, dimensions)"
    if expected_magic is not None:
        expected = f"magic number {expected_magic} (0x{expected_magic:08X})"
    wrong_kind = expected_magic is not None and magic != expected_magic
    if raw[:2] != b"\x00\x00" or code not in _TYPES or wrong_kind:
        raise ValueError(f"IDX file {path} has the wrong magic number {magic} (0x{magic:08X}); "
                         f"expected {expected}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {path} is truncated: its header declares {ndim} dimensions "
                         f"({header} header bytes) but the file has {len(raw)} bytes")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_TYPES[code])
    needed = math.prod(shape) * dtype.itemsize  # Python ints: a huge header cannot overflow
    found = len(raw) - header
    if found < needed:
        raise ValueError(f"IDX file {path} is truncated: its header declares shape {shape} "
                         f"({needed} bytes of data) but only {found} bytes follow")
    if found > needed:
        raise ValueError(f"IDX file {path} has {found - needed} bytes after the {needed} bytes of data "
                         f"that its header (shape {shape}) declares; expected an IDX file")
    array = np.frombuffer(raw, dtype=dtype, count=needed // dtype.itemsize, offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def _locate(directory: Path, stem: str, dataset: str, url: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{dataset} file not found: expected {directory / (stem + '.gz')} (or the unzipped "
        f"{stem}) in {directory}. Download {url}{stem}.gz into that directory, or pass download=True."
    )


def _load_idx_dataset(root: str | os.PathLike, name: str, dataset: str, base_url: str,
                      checksums: dict[str, str], download: bool, scale: bool) -> Splits:
    directory = Path(root).expanduser() / name
    if not base_url.endswith("/"):
        base_url += "/"
    if download:
        for file_name, md5 in checksums.items():
            target = directory / file_name
            if not check_integrity(target, md5) and not (directory / file_name[:-3]).is_file():
                download_url(base_url + file_name, target, md5, "md5")
    splits = []
    paths = []
    for prefix in ("train", "t10k"):
        images_path = _locate(directory, f"{prefix}-images-idx3-ubyte", dataset, base_url)
        labels_path = _locate(directory, f"{prefix}-labels-idx1-ubyte", dataset, base_url)
        images = read_idx(images_path, IMAGES_MAGIC)
        labels = read_idx(labels_path, LABELS_MAGIC)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{dataset}: {images_path} holds {images.shape[0]} images but {labels_path} "
                             f"holds {labels.shape[0]} labels; expected the same number")
        if labels.size and labels.max() > 9:
            raise ValueError(f"{dataset}: {labels_path} holds label {labels.max()}; expected labels 0..9")
        x = images[:, None]
        x = to_unit(x) if scale else x
        splits.append(Split(x, labels.astype(np.int64)))
        paths.append(images_path)
    (train_x, _), (test_x, _) = splits
    if train_x.shape[1:] != test_x.shape[1:]:
        raise ValueError(
            f"{dataset}: the training images ({paths[0]}) are {_size(train_x)} but the test images "
            f"({paths[1]}) are {_size(test_x)}; expected the same image size in both splits"
        )
    return Splits(*splits)


def _size(x: np.ndarray) -> str:
    return "x".join(map(str, x.shape[2:])) if x.ndim == 4 else f"of shape {x.shape[1:]}"


def mnist(root: str | os.PathLike, download: bool = False, base_url: str = MNIST_URL,
          scale: bool = True) -> Splits:
    """MNIST handwritten digits (LeCun, Cortes & Burges): 60,000 training and
    10,000 test images of 28x28 grey pixels.

    The four files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzip-ed or
    not) are read from ``root/mnist/``.

    Args:
        root: directory holding the ``mnist`` folder.
        download: fetch missing files from ``base_url`` first, checking the
            published MD5 digests.
        base_url: where the ``.gz`` files are served.
        scale: images as float32 in [0, 1] (True) or the raw uint8 values.

    Returns:
        ``Splits(train=(x, y), test=(x, y))``: ``x`` of shape (N, 1, 28, 28),
        float32 in [0, 1] (or uint8 with ``scale=False``); ``y`` int64 (N,).
    """
    return _load_idx_dataset(root, "mnist", "MNIST", base_url, MNIST_MD5, download, scale)


def fashion_mnist(root: str | os.PathLike, download: bool = False, base_url: str = FASHION_MNIST_URL,
                  scale: bool = True) -> Splits:
    """Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): Zalando article images in
    MNIST's format, 10 classes (``FASHION_MNIST_CLASSES``), read from
    ``root/fashion_mnist/``. Arguments and returns as ``mnist``."""
    return _load_idx_dataset(root, "fashion_mnist", "Fashion-MNIST", base_url, FASHION_MNIST_MD5,
                             download, scale)

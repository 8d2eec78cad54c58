"""Small data files in the standard formats (IDX as MNIST and Fashion-MNIST
ship them, CIFAR-10's binary version), written with struct/gzip,
independently of gradlab's readers."""

import gzip
import struct
from pathlib import Path

import numpy as np


def idx_bytes(array, code=0x08, fmt=">u1"):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=fmt).tobytes()


def write_file(path, payload, compress):
    path = Path(str(path) + ".gz") if compress else Path(path)
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def mnist_files(directory, rng, n_train=5, n_test=3, compress=True):
    directory.mkdir(parents=True, exist_ok=True)
    content = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_file(directory / f"{prefix}-images-idx3-ubyte", idx_bytes(images), compress)
        write_file(directory / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), compress)
        content[prefix] = (images, labels)
    return content


def cifar_records(rng, n):
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    raw = b"".join(bytes([labels[i]]) + images[i].tobytes() for i in range(n))
    return raw, images, labels


def cifar_folder(root, rng, sizes=(2, 1, 3, 1, 2, 4)):
    folder = root / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    content = {}
    for name, n in zip(names, sizes):
        raw, images, labels = cifar_records(rng, n)
        (folder / name).write_bytes(raw)
        content[name] = (images, labels)
    return folder, content

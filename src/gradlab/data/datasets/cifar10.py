"""CIFAR-10 from its binary version (never the pickled Python version).

Each of ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin``
holds records of 3,073 bytes: one label byte (0-9) and 3,072 pixel bytes, the
1,024 red values of the 32x32 image row by row, then green, then blue — which
is already the (C, H, W) layout.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from gradlab.data.datasets.download import check_integrity, download_url
from gradlab.data.datasets.splits import Split, Splits, to_unit

__all__ = ["cifar10", "read_cifar_binary", "CIFAR10_URL", "CIFAR10_CLASSES"]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/"
CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"  # published on the CIFAR page
CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILES = ("test_batch.bin",)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_RECORD = 1 + 3 * 32 * 32


def read_cifar_binary(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch file.

    Returns:
        images uint8 (N, 3, 32, 32) and labels int64 (N,).

    Raises:
        ValueError: the size is not a whole number of 3,073-byte records
            (truncated) or a label byte is not 0..9 (not a CIFAR-10 file).
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(f"CIFAR-10 file {path} is truncated or not a CIFAR-10 binary batch: "
                         f"{raw.size} bytes, expected a whole number of {_RECORD}-byte records "
                         "(label byte + 3x32x32 pixels)")
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise ValueError(f"CIFAR-10 file {path}: record {bad} has label {labels[bad]}; expected labels 0..9 "
                         "(is this the CIFAR-10 binary version?)")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def _extract(archive: Path, directory: Path) -> None:
    """Extract only the expected batch files, by name, never following links
    or paths from the archive."""
    wanted = {f"{CIFAR10_FOLDER}/{name}" for name in CIFAR10_TRAIN_FILES + CIFAR10_TEST_FILES}
    target = directory / CIFAR10_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            found = set()
            for member in tar:
                name = member.name.lstrip("./")
                if name in wanted and member.isfile():
                    stream = tar.extractfile(member)
                    temporary = target / f".{Path(name).name}.part"
                    with open(temporary, "wb") as out:
                        out.write(stream.read())
                    os.replace(temporary, target / Path(name).name)
                    found.add(name)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(f"CIFAR-10 archive {archive} is damaged ({error}); delete it and download again") \
            from error
    missing = sorted(wanted - found)
    if missing:
        raise ValueError(f"CIFAR-10 archive {archive} lacks {missing}; expected the binary version "
                         f"({CIFAR10_ARCHIVE})")


def cifar10(root: str | os.PathLike, download: bool = False, base_url: str = CIFAR10_URL,
            scale: bool = True) -> Splits:
    """CIFAR-10 (Krizhevsky, 2009): 50,000 training and 10,000 test colour
    images of 32x32 pixels in 10 classes (``CIFAR10_CLASSES``).

    Reads ``root/cifar10/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin``.
    With ``download=True`` the archive ``cifar-10-binary.tar.gz`` is fetched
    from ``base_url``, checked against its published MD5 and unpacked there.

    Returns:
        ``Splits(train=(x, y), test=(x, y))``: ``x`` of shape (N, 3, 32, 32),
        float32 in [0, 1] (or uint8 with ``scale=False``); ``y`` int64 (N,).
    """
    directory = Path(root).expanduser() / "cifar10"
    folder = directory / CIFAR10_FOLDER
    names = CIFAR10_TRAIN_FILES + CIFAR10_TEST_FILES
    if download and not all((folder / name).is_file() for name in names):
        archive = directory / CIFAR10_ARCHIVE
        if not check_integrity(archive, CIFAR10_MD5):
            url = base_url if base_url.endswith("/") else base_url + "/"
            download_url(url + CIFAR10_ARCHIVE, archive, CIFAR10_MD5, "md5")
        _extract(archive, directory)
    splits = []
    for files in (CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILES):
        images, labels = [], []
        for name in files:
            path = folder / name
            if not path.is_file():
                raise FileNotFoundError(
                    f"CIFAR-10 file not found: expected {path}. Download {base_url}{CIFAR10_ARCHIVE} and "
                    f"unpack it into {directory} (it holds the folder {CIFAR10_FOLDER}), "
                    "or pass download=True."
                )
            x, y = read_cifar_binary(path)
            images.append(x)
            labels.append(y)
        x = np.concatenate(images)
        x = to_unit(x) if scale else x
        splits.append(Split(x, np.concatenate(labels)))
    return Splits(*splits)

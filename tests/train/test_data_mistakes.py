"""Issue 22, data a newcomer gets wrong: an absurd IDX header, splits of
different image sizes, a Cutout larger than the images."""

import struct

import numpy as np
import pytest

from data_files import idx_bytes, write_file
from gradlab.cli import main
from gradlab.data import datasets, transforms


def test_huge_idx_header_reports_the_true_byte_count(tmp_path):
    n = 4_000_000_000
    header = struct.pack(">BBBB", 0, 0, 0x08, 3) + struct.pack(">3I", n, n, n)
    (tmp_path / "huge").write_bytes(header + b"\x00" * 16)
    with pytest.raises(ValueError) as caught:
        datasets.read_idx(tmp_path / "huge")
    message = str(caught.value)
    assert f"({n**3} bytes of data)" in message  # was a negative count (int64 overflow)
    assert "-" not in message.split("declares")[1]


def splits_of_two_sizes(directory, rng):
    directory.mkdir(parents=True)
    for prefix, size in (("train", 8), ("t10k", 28)):
        images = rng.integers(0, 256, size=(20, size, size), dtype=np.uint8)
        labels = rng.integers(0, 10, size=20, dtype=np.uint8)
        write_file(directory / f"{prefix}-images-idx3-ubyte", idx_bytes(images), True)
        write_file(directory / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), True)


def test_mnist_splits_of_different_image_sizes_are_refused_when_loaded(tmp_path, capsys):
    splits_of_two_sizes(tmp_path / "mnist", np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"train-images.*8x8.*t10k-images.*28x28"):
        datasets.mnist(tmp_path)
    # the command: one line before any training (was a linear shape error after an epoch)
    status = main(["train", "--data", f"mnist:{tmp_path}", "--output", str(tmp_path / "runs")])
    captured = capsys.readouterr()
    assert status == 1 and "epoch" not in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "8x8" in lines[0] and "28x28" in lines[0]
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_cutout_larger_than_the_images_is_refused():
    x = np.zeros((4, 1, 8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match=r"Cutout: size = 100 pixels .* 8x8 images; expected at most 8"):
        transforms.Cutout(100)(x)
    assert transforms.Cutout(4)(x).shape == x.shape

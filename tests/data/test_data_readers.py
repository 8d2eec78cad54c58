"""IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary readers on generated files,
and the errors for malformed or missing files. The files are written here
with struct/gzip, independently of the readers."""

import gzip

import numpy as np
import pytest

from data_files import cifar_folder, idx_bytes, mnist_files, write_file
from gradlab.data.datasets import cifar10, fashion_mnist, mnist, read_cifar_binary, read_idx


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("loader,folder", [(mnist, "mnist"), (fashion_mnist, "fashion_mnist")])
def test_idx_round_trip(tmp_path, compress, loader, folder):
    content = mnist_files(tmp_path / folder, np.random.default_rng(0), compress=compress)
    (xr, yr), (xt, yt) = loader(tmp_path, scale=False)
    np.testing.assert_array_equal(xr, content["train"][0][:, None])
    np.testing.assert_array_equal(yr, content["train"][1])
    np.testing.assert_array_equal(xt, content["t10k"][0][:, None])
    assert xr.dtype == np.uint8 and yr.dtype == np.int64 and xr.shape == (5, 1, 28, 28)
    scaled = loader(tmp_path)
    assert scaled.train.x.dtype == np.float32
    np.testing.assert_array_equal(np.rint(scaled.train.x * 255).astype(np.uint8), xr)
    assert scaled.train.x.max() <= 1.0


@pytest.mark.parametrize("code,fmt", [(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"),
                                      (0x0E, ">f8")])
def test_read_idx_all_types(tmp_path, code, fmt):
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(fmt)
    path = write_file(tmp_path / "a.idx", idx_bytes(array, code, fmt), compress=False)
    out = read_idx(path)
    np.testing.assert_array_equal(out, array)
    assert out.dtype.isnative


def test_wrong_magic_names_file_and_expectation(tmp_path):
    labels = np.arange(4, dtype=np.uint8)
    directory = tmp_path / "mnist"
    mnist_files(directory, np.random.default_rng(1))
    # a label file where an image file belongs
    write_file(directory / "train-images-idx3-ubyte", idx_bytes(labels), compress=True)
    with pytest.raises(ValueError, match=r"images-idx3-ubyte\.gz has the wrong magic number 2049.*2051"):
        mnist(tmp_path)
    bad = tmp_path / "junk.idx"
    bad.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(ValueError, match="junk.idx has the wrong magic number"):
        read_idx(bad)


def test_truncated_idx(tmp_path):
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    payload = idx_bytes(images)
    short = write_file(tmp_path / "short", payload[:-10], compress=False)
    with pytest.raises(ValueError, match=r"short is truncated: .*shape \(3, 28, 28\).*2352 bytes.*2342"):
        read_idx(short)
    gz = tmp_path / "cut.gz"
    gz.write_bytes(gzip.compress(payload)[:-20])
    with pytest.raises(ValueError, match="cut.gz is a truncated or damaged gzip"):
        read_idx(gz)
    header = write_file(tmp_path / "header", payload[:6], compress=False)
    with pytest.raises(ValueError, match="header is truncated"):
        read_idx(header)
    long = write_file(tmp_path / "long", payload + b"\x00", compress=False)
    with pytest.raises(ValueError, match="1 bytes after"):
        read_idx(long)


def test_mismatched_counts(tmp_path):
    directory = tmp_path / "mnist"
    mnist_files(directory, np.random.default_rng(2))
    write_file(directory / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(7, np.uint8)), compress=True)
    with pytest.raises(ValueError, match="3 images but .*7 labels"):
        mnist(tmp_path)


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        mnist(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "mnist" / "train-images-idx3-ubyte.gz") in message
    assert "download=True" in message and "https://" in message


def test_cifar_round_trip(tmp_path):
    _, content = cifar_folder(tmp_path, np.random.default_rng(3))
    (xr, yr), (xt, yt) = cifar10(tmp_path, scale=False)
    train_images = np.concatenate([content[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    train_labels = np.concatenate([content[f"data_batch_{i}.bin"][1] for i in range(1, 6)])
    np.testing.assert_array_equal(xr, train_images)
    np.testing.assert_array_equal(yr, train_labels)
    np.testing.assert_array_equal(xt, content["test_batch.bin"][0])
    assert xr.shape == (9, 3, 32, 32) and yt.dtype == np.int64
    scaled = cifar10(tmp_path)
    assert scaled.test.x.dtype == np.float32
    np.testing.assert_allclose(scaled.test.x, xt / 255.0, rtol=1e-6)


def test_cifar_layout_is_channel_planes(tmp_path):
    record = bytes([7]) + bytes([10] * 1024 + [20] * 1024 + [30] * 1024)
    path = tmp_path / "one.bin"
    path.write_bytes(record)
    images, labels = read_cifar_binary(path)
    assert labels.tolist() == [7]
    assert images[0, :, 5, 9].tolist() == [10, 20, 30]


def test_cifar_malformed(tmp_path):
    folder, _ = cifar_folder(tmp_path, np.random.default_rng(4))
    path = folder / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"data_batch_3.bin is truncated.*3073-byte records"):
        cifar10(tmp_path)
    bad = tmp_path / "c100.bin"
    bad.write_bytes(bytes([42]) + bytes(3072))
    with pytest.raises(ValueError, match=r"c100.bin: record 0 has label 42; expected labels 0..9"):
        read_cifar_binary(bad)


def test_cifar_missing_file(tmp_path):
    folder, _ = cifar_folder(tmp_path, np.random.default_rng(5))
    (folder / "test_batch.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"test_batch.bin.*cifar-10-binary.tar.gz.*download=True"):
        cifar10(tmp_path)

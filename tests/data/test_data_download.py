"""Downloads against a local HTTP server on 127.0.0.1 serving small generated
files; no test touches the internet."""

import functools
import gzip
import hashlib
import http.server
import importlib
import io
import struct
import tarfile
import threading

import numpy as np
import pytest

from gradlab.data.datasets import cifar10, download_url, mnist

# The package exports functions named like their modules: fetch the modules themselves.
cifar_module = importlib.import_module("gradlab.data.datasets.cifar10")
idx_module = importlib.import_module("gradlab.data.datasets.idx")


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    _Handler.requests = []
    handler = functools.partial(_Handler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".part")]


def test_download_verifies_and_places(server, tmp_path):
    served, url = server
    payload = bytes(range(256)) * 50
    (served / "blob.bin").write_bytes(payload)
    target = tmp_path / "out" / "blob.bin"
    md5 = hashlib.md5(payload).hexdigest()
    assert download_url(url + "blob.bin", target, md5) == target
    assert target.read_bytes() == payload
    sha = hashlib.sha256(payload).hexdigest()
    download_url(url + "blob.bin", tmp_path / "out" / "again.bin", sha.upper(), algorithm="sha256")
    assert (tmp_path / "out" / "again.bin").read_bytes() == payload
    assert _leftovers(tmp_path / "out") == []


def test_wrong_checksum_leaves_nothing(server, tmp_path):
    served, url = server
    (served / "blob.bin").write_bytes(b"not what was published")
    target = tmp_path / "out" / "blob.bin"
    with pytest.raises(RuntimeError, match=r"mismatch for blob.bin .*expected the published md5 0{32}"):
        download_url(url + "blob.bin", target, "0" * 32)
    assert not target.exists() and _leftovers(tmp_path / "out") == []


def test_server_error_names_url(server, tmp_path):
    _, url = server
    with pytest.raises(RuntimeError, match=r"could not download http://127\.0\.0\.1:\d+/missing\.gz"):
        download_url(url + "missing.gz", tmp_path / "out" / "missing.gz", None)
    assert list((tmp_path / "out").iterdir()) == []


def _idx(array):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes())


def _serve_mnist(served, rng):
    files = {}
    for prefix, n in (("train", 4), ("t10k", 2)):
        files[f"{prefix}-images-idx3-ubyte.gz"] = _idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        files[f"{prefix}-labels-idx1-ubyte.gz"] = _idx(rng.integers(0, 10, n, dtype=np.uint8))
    for name, payload in files.items():
        (served / name).write_bytes(payload)
    return files


def test_mnist_download_round_trip(server, tmp_path, monkeypatch):
    served, url = server
    files = _serve_mnist(served, np.random.default_rng(0))
    for name, payload in files.items():
        monkeypatch.setitem(idx_module.MNIST_MD5, name, hashlib.md5(payload).hexdigest())
    root = tmp_path / "data"
    (x_train, y_train), (x_test, _) = mnist(root, download=True, base_url=url, scale=False)
    assert x_train.shape == (4, 1, 28, 28) and x_test.shape == (2, 1, 28, 28)
    for name, payload in files.items():
        assert (root / "mnist" / name).read_bytes() == payload
    count = len(_Handler.requests)
    mnist(root, download=True, base_url=url)  # verified files are not fetched again
    assert len(_Handler.requests) == count == 4


def test_mnist_download_checks_published_checksum(server, tmp_path):
    served, url = server
    _serve_mnist(served, np.random.default_rng(1))  # not the published files
    with pytest.raises(RuntimeError, match="checksum mismatch for train-images-idx3-ubyte.gz.*"
                                           "f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        mnist(tmp_path / "data", download=True, base_url=url)
    assert not (tmp_path / "data" / "mnist" / "train-images-idx3-ubyte.gz").exists()


def test_cifar_download_and_extract(server, tmp_path, monkeypatch):
    served, url = server
    rng = np.random.default_rng(2)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    records = {name: bytes([i % 10]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes()
               for i, name in enumerate(names)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, raw in records.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
        extra = tarfile.TarInfo("../escape.txt")  # never extracted: only the expected names are
        extra.size = 1
        tar.addfile(extra, io.BytesIO(b"x"))
    archive = buffer.getvalue()
    (served / "cifar-10-binary.tar.gz").write_bytes(archive)
    monkeypatch.setattr(cifar_module, "CIFAR10_MD5", hashlib.md5(archive).hexdigest())
    splits = cifar10(tmp_path / "data", download=True, base_url=url, scale=False)
    (x_train, y_train), (x_test, y_test) = splits
    assert x_train.shape == (5, 3, 32, 32) and y_train.tolist() == [0, 1, 2, 3, 4] and y_test.tolist() == [5]
    expected = np.frombuffer(records["test_batch.bin"][1:], np.uint8)
    np.testing.assert_array_equal(x_test[0].reshape(-1), expected)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "data" / "escape.txt").exists()

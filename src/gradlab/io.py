"""``gradlab.save`` / ``gradlab.load``: state dicts on disk without pickle.

A saved object is a nested structure of dicts, lists, tuples, strings,
numbers, booleans, None, NumPy arrays and gradlab Tensors (a model's,
optimizer's or scheduler's ``state_dict()``, or a whole run checkpoint).
It is written as one safetensors file: every array goes into the safetensors
body under a generated key, and the structure, with each array replaced by a
reference to its key, goes as JSON into the file's ``__metadata__``. Loading
never executes code from the file (PyTorch's ``torch.save`` pickles, which
can; safetensors was made to avoid exactly that).

The file is written to a temporary file in the same folder and moved over the
target with ``os.replace``, which is atomic on POSIX and Windows: a crash or
Ctrl-C while saving leaves the previous file intact. The file gets the
permissions the user's umask asks for (``0o666 & ~umask``, as ``open`` would
give), not the 0600 of the temporary file.

Integrity: the metadata holds the SHA-256 digest of every array's bytes;
:func:`load` recomputes them and refuses a file whose arrays were changed or
damaged, naming the file and the array. Files written before checksums were
added (no ``sha256`` in the metadata) still load, unchecked, with a warning.

Example:
    >>> gradlab.save(model.state_dict(), "model.safetensors")
    >>> model.load_state_dict(gradlab.load("model.safetensors"))
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load", "save"]

_FORMAT = "gradlab.io/1"
_META_KEY = "gradlab"


def default_file_mode() -> int:
    """The permission bits a new file gets from ``open``: ``0o666 & ~umask``.

    The umask can only be read by setting it; it is restored at once (a
    thread creating a file in between would see 0o022's effect at worst).
    """
    on_linux = Path("/proc/self/status")
    if on_linux.is_file():
        for line in on_linux.read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def chmod_default(path: str | os.PathLike) -> None:
    """Give ``path`` (a file made by ``tempfile.mkstemp``, hence 0600) the
    permissions the user's umask asks for, as a file made by ``open``."""
    os.chmod(path, default_file_mode())


def _sha256(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes (C order)."""
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
    return digest.hexdigest()


def _host(array: Any) -> np.ndarray:
    # asarray keeps 0-d arrays 0-d (ascontiguousarray would make them 1-d)
    return np.asarray(array, order="C")


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """The JSON-able form of ``obj``; arrays move into ``arrays``."""
    from gradlab.tensor import Tensor

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        if isinstance(obj, float) and not np.isfinite(obj):
            return {"__float__": repr(obj)}
        return obj
    if isinstance(obj, Tensor):
        key = str(len(arrays))
        arrays[key] = _host(obj.detach().numpy(force=True) if obj.device.type != "cpu" else obj.array)
        return {"__tensor__": key}
    if isinstance(obj, (np.ndarray, np.generic)):
        key = str(len(arrays))
        arrays[key] = _host(obj)
        return {"__ndarray__": key, "scalar": isinstance(obj, np.generic)}
    if hasattr(obj, "get") and hasattr(obj, "__array__") and type(obj).__module__.startswith("cupy"):
        key = str(len(arrays))
        arrays[key] = _host(obj.get())
        return {"__ndarray__": key, "scalar": False}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, arrays, f"{where}[{k!r}]") for k, v in obj.items()}
        # Integer keys (an optimizer's state) would become strings in JSON.
        return {
            "__items__": [
                [_encode(k, arrays, where), _encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()
            ]
        }
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(
        f"gradlab.save cannot store {where} of type {type(obj).__name__}; expected "
        "dicts, lists, tuples, str, int, float, bool, None, NumPy arrays or Tensors"
    )


def _decode(obj: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    from gradlab.tensor import Tensor

    if isinstance(obj, list):
        return [_decode(v, arrays, path) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj or "__ndarray__" in obj:
        key = obj.get("__tensor__", obj.get("__ndarray__"))
        if key not in arrays:
            raise ValueError(
                f"gradlab.load: {path} is corrupt: its metadata refers to array {key!r}, "
                "which the file does not hold"
            )
        array = arrays[key]
        if "__tensor__" in obj:
            return Tensor._make(array)
        return array[()] if obj.get("scalar") else array
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, path) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {_hashable(_decode(k, arrays, path)): _decode(v, arrays, path) for k, v in obj["__items__"]}
    return {k: _decode(v, arrays, path) for k, v in obj.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def save(obj: Any, f: str | os.PathLike) -> None:
    """Write ``obj`` (a nested state dict) to the file ``f`` atomically.

    Args:
        obj: dicts (any keys of str/int/float/bool/tuple), lists, tuples,
            str, int, float (nan and inf included), bool, None, NumPy arrays
            and scalars, and Tensors (saved from any device, loaded on the
            CPU).
        f: the path of the file to write; its folder must exist.

    Raises:
        TypeError: for an object of another type (naming where it is).
        FileNotFoundError: if the folder of ``f`` does not exist.
    """
    from safetensors.numpy import save_file

    path = Path(f)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"gradlab.save: the folder of {str(path)!r} does not exist")
    arrays: dict[str, np.ndarray] = {}
    encoded = _encode(obj, arrays, "obj")
    checksums = {key: _sha256(array) for key, array in arrays.items()}
    meta = json.dumps({"format": _FORMAT, "object": encoded, "sha256": checksums})
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(arrays, tmp, metadata={_META_KEY: meta})
        chmod_default(tmp)
        # on disk before the rename: otherwise a power cut can leave the new
        # name pointing at an empty file (ext4's delayed allocation)
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Ctrl-C or a full disk: drop the partial file, keep the previous one.
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(f: str | os.PathLike, map_location: Any = None) -> Any:
    """Read an object written by :func:`save`.

    Arrays that were Tensors come back as CPU Tensors, NumPy arrays as NumPy
    arrays. ``map_location`` is accepted for PyTorch compatibility and
    ignored: everything loads on the CPU; ``module.load_state_dict`` copies
    the values onto the module's device.

    Raises:
        FileNotFoundError: if ``f`` does not exist.
        ValueError: if ``f`` is not a file written by ``gradlab.save`` (a
            truncated or corrupt file, or another format), naming the file,
            or if an array's bytes do not match its saved SHA-256 checksum
            (naming the file and where the array sits in the object).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(f)
    if not path.is_file():
        raise FileNotFoundError(f"gradlab.load: no such file {str(path)!r}")
    try:
        arrays = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(
            f"gradlab.load: {str(path)!r} is not a readable gradlab checkpoint "
            f"(expected a safetensors file written by gradlab.save): {error}"
        ) from None
    if _META_KEY not in metadata:
        raise ValueError(
            f"gradlab.load: {str(path)!r} is a safetensors file without gradlab's metadata; "
            "expected a file written by gradlab.save"
        )
    try:
        meta = json.loads(metadata[_META_KEY])
    except json.JSONDecodeError as error:
        raise ValueError(f"gradlab.load: {str(path)!r} has corrupt metadata: {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(
            f"gradlab.load: {str(path)!r} has metadata of format "
            f"{meta.get('format') if isinstance(meta, dict) else meta!r}, expected {_FORMAT!r}"
        )
    _verify(meta.get("sha256"), meta["object"], arrays, path)
    return _decode(meta["object"], arrays, repr(str(path)))


def _array_names(obj: Any, where: str, names: dict[str, str]) -> None:
    """Where each array key sits in the saved structure (``obj['model']['0.weight']``)."""
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            _array_names(v, f"{where}[{i}]", names)
    elif isinstance(obj, dict):
        key = obj.get("__tensor__", obj.get("__ndarray__"))
        if isinstance(key, str):
            names[key] = where
        elif "__tuple__" in obj:
            _array_names(obj["__tuple__"], where, names)
        elif "__items__" in obj:
            for k, v in obj["__items__"]:
                _array_names(v, f"{where}[{k!r}]", names)
        else:
            for k, v in obj.items():
                _array_names(v, f"{where}[{k!r}]", names)


def _verify(checksums: Any, structure: Any, arrays: dict[str, np.ndarray], path: Path) -> None:
    """Compare each array's SHA-256 with the one saved; a mismatch names the
    file and the array."""
    if checksums is None:
        warnings.warn(
            f"gradlab.load: {str(path)!r} was written before gradlab stored checksums; "
            "its arrays are loaded unchecked (save it again to add them)",
            stacklevel=3,
        )
        return
    if not isinstance(checksums, dict) or set(checksums) != set(arrays):
        raise ValueError(
            f"gradlab.load: {str(path)!r} is corrupt: its metadata lists checksums for arrays "
            f"{sorted(checksums) if isinstance(checksums, dict) else checksums!r}, the file holds "
            f"arrays {sorted(arrays)}"
        )
    names: dict[str, str] = {}
    _array_names(structure, "obj", names)
    for key, array in arrays.items():
        if _sha256(array) != checksums[key]:
            raise ValueError(
                f"gradlab.load: {str(path)!r} is corrupt: the bytes of {names.get(key, 'array ' + key)} "
                "do not match the SHA-256 checksum saved with them (the file was changed or "
                "damaged after it was written)"
            )

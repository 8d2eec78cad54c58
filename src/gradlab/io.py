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

``f`` may also be a binary file object (``io.BytesIO``, ``open(path, "wb")``):
the same bytes are written to it, and ``load`` reads them back from one.

Whole objects are never pickled: ``gradlab.save(model, f)`` raises a
TypeError that shows the ``state_dict`` way, and ``gradlab.load(f,
weights_only=False)`` is refused the same way.

Example:
    >>> gradlab.save(model.state_dict(), "model.safetensors")
    >>> model.load_state_dict(gradlab.load("model.safetensors"))
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import warnings
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = ["load", "save"]

_FORMAT = "gradlab.io/1"
_META_KEY = "gradlab"
_STATE_DICT_WAY = (
    "whole-object pickling is refused by design (loading a pickle can run any code); "
    "save the state instead: gradlab.save(model.state_dict(), f), then "
    "model.load_state_dict(gradlab.load(f))"
)


def _is_file_object(f: Any) -> bool:
    return not isinstance(f, (str, bytes, os.PathLike)) and (hasattr(f, "write") or hasattr(f, "read"))


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
        "dicts, lists, tuples, str, int, float, bool, None, NumPy arrays or Tensors: "
        + _STATE_DICT_WAY
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


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Write ``obj`` (a nested state dict) to the file ``f`` atomically.

    Args:
        obj: dicts (any keys of str/int/float/bool/tuple), lists, tuples,
            str, int, float (nan and inf included), bool, None, NumPy arrays
            and scalars, and Tensors (saved from any device, loaded on the
            CPU).
        f: the path of the file to write (its folder must exist), or a
            binary file object open for writing (written at its position,
            not closed).

    Raises:
        TypeError: for an object of another type (naming where it is), such
            as a whole Module: save its ``state_dict()`` instead.
        FileNotFoundError: if the folder of ``f`` does not exist.
    """
    from safetensors.numpy import save as save_bytes
    from safetensors.numpy import save_file

    arrays: dict[str, np.ndarray] = {}
    encoded = _encode(obj, arrays, "obj")
    checksums = {key: _sha256(array) for key, array in arrays.items()}
    meta = json.dumps({"format": _FORMAT, "object": encoded, "sha256": checksums})
    if _is_file_object(f):
        if not hasattr(f, "write"):
            raise TypeError(f"gradlab.save: f must be a path or a writable binary file object, "
                            f"got {type(f).__name__} without write()")
        f.write(save_bytes(arrays, metadata={_META_KEY: meta}))
        return
    path = Path(f)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"gradlab.save: the folder of {str(path)!r} does not exist")
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


def _read_file_object(f: BinaryIO) -> tuple[dict[str, np.ndarray], dict, str]:
    """The arrays and metadata of safetensors bytes read from ``f``."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_bytes

    name = repr(getattr(f, "name", f"<{type(f).__name__}>"))
    if not hasattr(f, "read"):
        raise TypeError(f"gradlab.load: f must be a path or a readable binary file object, "
                        f"got {type(f).__name__} without read()")
    data = f.read()
    if not isinstance(data, bytes):
        raise TypeError(f"gradlab.load: {name} must be opened in binary mode ('rb'), "
                        f"its read() gave {type(data).__name__}")
    try:
        # safetensors: an 8-byte little-endian header length, then the JSON header
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + length])
        arrays = load_bytes(data)
    except (SafetensorError, struct.error, ValueError, UnicodeDecodeError) as error:
        raise ValueError(
            f"gradlab.load: {name} is not a readable gradlab checkpoint "
            f"(expected safetensors bytes written by gradlab.save): {error}"
        ) from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return arrays, metadata or {}, name


def _relocate(obj: Any, device: Any) -> Any:
    """``obj`` with every Tensor moved to ``device``."""
    from gradlab.tensor import Tensor

    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _relocate(v, device) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_relocate(v, device) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_relocate(v, device) for v in obj)
    return obj


def _target_device(map_location: Any) -> Any:
    """The device ``map_location`` asks for (None: stay on the CPU)."""
    from gradlab.backend import Device

    if map_location is None:
        return None
    if isinstance(map_location, dict):
        # PyTorch's {saved device: target device}; gradlab saves everything from the CPU
        return _target_device(map_location.get("cpu"))
    if isinstance(map_location, (str, Device)):
        try:
            return Device(map_location) if isinstance(map_location, str) else map_location
        except (ValueError, TypeError) as error:
            raise ValueError(f"gradlab.load: map_location={map_location!r} is not a device: "
                             f"{error}") from None
    raise TypeError(f"gradlab.load: map_location must be None, a device, a device string or a dict "
                    f"of them, got {type(map_location).__name__}")


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: bool = True,
         **pickle_load_args: Any) -> Any:
    """Read an object written by :func:`save`.

    Arrays that were Tensors come back as Tensors on ``map_location`` (the
    CPU by default; ``"cpu"``, ``"cuda"``, a ``Device`` or PyTorch's
    ``{"cpu": device}`` dict), NumPy arrays as NumPy arrays.

    Args:
        f: a path, or a binary file object open for reading.
        map_location: where to put the loaded Tensors.
        weights_only: must be True (PyTorch's safe mode, the only one
            gradlab has: nothing is ever unpickled).

    Raises:
        FileNotFoundError: if ``f`` does not exist.
        TypeError: for ``weights_only=False`` or pickle arguments (refused
            by design).
        ValueError: if ``f`` is not a file written by ``gradlab.save`` (a
            truncated or corrupt file, or another format), naming the file,
            or if an array's bytes do not match its saved SHA-256 checksum
            (naming the file and where the array sits in the object).
    """
    if weights_only is not True:
        raise TypeError(f"gradlab.load: weights_only={weights_only!r} would unpickle objects; "
                        + _STATE_DICT_WAY)
    if pickle_load_args:
        raise TypeError(f"gradlab.load: {sorted(pickle_load_args)} configure unpickling, which gradlab "
                        "never does; " + _STATE_DICT_WAY)
    device = _target_device(map_location)
    if _is_file_object(f):
        arrays, metadata, name = _read_file_object(f)
    else:
        arrays, metadata, name = _read_path(f)
    if _META_KEY not in metadata:
        raise ValueError(
            f"gradlab.load: {name} is a safetensors file without gradlab's metadata; "
            "expected a file written by gradlab.save"
        )
    try:
        meta = json.loads(metadata[_META_KEY])
    except json.JSONDecodeError as error:
        raise ValueError(f"gradlab.load: {name} has corrupt metadata: {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(
            f"gradlab.load: {name} has metadata of format "
            f"{meta.get('format') if isinstance(meta, dict) else meta!r}, expected {_FORMAT!r}"
        )
    _verify(meta.get("sha256"), meta["object"], arrays, name)
    obj = _decode(meta["object"], arrays, name)
    return obj if device is None or device.type == "cpu" else _relocate(obj, device)


def _read_path(f: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict, str]:
    """The arrays and metadata of the safetensors file at ``f``."""
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
    return arrays, metadata, repr(str(path))


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


def _verify(checksums: Any, structure: Any, arrays: dict[str, np.ndarray], name: str) -> None:
    """Compare each array's SHA-256 with the one saved; a mismatch names the
    file and the array."""
    if checksums is None:
        warnings.warn(
            f"gradlab.load: {name} was written before gradlab stored checksums; "
            "its arrays are loaded unchecked (save it again to add them)",
            stacklevel=3,
        )
        return
    if not isinstance(checksums, dict) or set(checksums) != set(arrays):
        raise ValueError(
            f"gradlab.load: {name} is corrupt: its metadata lists checksums for arrays "
            f"{sorted(checksums) if isinstance(checksums, dict) else checksums!r}, the file holds "
            f"arrays {sorted(arrays)}"
        )
    names: dict[str, str] = {}
    _array_names(structure, "obj", names)
    for key, array in arrays.items():
        if _sha256(array) != checksums[key]:
            raise ValueError(
                f"gradlab.load: {name} is corrupt: the bytes of {names.get(key, 'array ' + key)} "
                "do not match the SHA-256 checksum saved with them (the file was changed or "
                "damaged after it was written)"
            )

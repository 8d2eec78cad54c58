"""gradlab.save / gradlab.load: safetensors + JSON metadata, atomic, no pickle."""

import json
import math
import os

import numpy as np
import pytest
import torch

import gradlab
import gradlab.optim
from gradlab import nn


def test_round_trip_keeps_types_values_and_dtypes(tmp_path):
    obj = {
        "w": gradlab.tensor(np.arange(6.0).reshape(2, 3)),
        "n": np.array([1, 2, 3], dtype=np.int64),
        "b": np.array([True, False]),
        "half": np.zeros((2,), dtype=np.float16),
        "zero_d": gradlab.tensor(np.array(7, dtype=np.int64)),
        "scalar": np.float32(1.5),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "ints": {0: "a", 3: [1, 2.5, None, True]},
        "tuple": (0.9, 0.999),
        "floats": [math.inf, -math.inf, 0.1 + 0.2],
        "nested": {"list": [{"x": gradlab.ones(2)}]},
        "big": 2**100 + 1,
    }
    path = tmp_path / "obj.safetensors"
    gradlab.save(obj, path)
    back = gradlab.load(path)
    assert isinstance(back["w"], gradlab.Tensor) and back["w"].dtype == gradlab.float64
    np.testing.assert_array_equal(back["w"].numpy(), obj["w"].numpy())
    assert isinstance(back["n"], np.ndarray) and back["n"].dtype == np.int64
    assert back["b"].dtype == np.bool_ and back["half"].dtype == np.float16
    assert back["zero_d"].shape == () and back["zero_d"].item() == 7
    assert isinstance(back["scalar"], np.float32) and back["scalar"] == 1.5
    assert back["empty"].shape == (0, 4)
    assert back["ints"] == {0: "a", 3: [1, 2.5, None, True]}
    assert back["tuple"] == (0.9, 0.999) and isinstance(back["tuple"], tuple)
    assert back["floats"][:2] == [math.inf, -math.inf] and back["floats"][2] == 0.1 + 0.2
    np.testing.assert_array_equal(back["nested"]["list"][0]["x"].numpy(), np.ones(2, dtype=np.float32))
    assert back["big"] == 2**100 + 1


def test_nan_survives(tmp_path):
    gradlab.save({"v": math.nan}, tmp_path / "n.st")
    assert math.isnan(gradlab.load(tmp_path / "n.st")["v"])


def test_file_is_plain_safetensors_readable_by_torch_tooling(tmp_path):
    model = nn.Linear(3, 2)
    gradlab.save(model.state_dict(), tmp_path / "m.safetensors")
    from safetensors.numpy import load_file
    from safetensors.torch import load_file as torch_load_file

    arrays = load_file(str(tmp_path / "m.safetensors"))
    assert sorted(a.shape for a in arrays.values()) == [(2,), (2, 3)]
    tensors = torch_load_file(str(tmp_path / "m.safetensors"))
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())


def test_model_and_optimizer_state_dicts_load_back(tmp_path):
    gradlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    opt = gradlab.optim.Adam(model.parameters(), lr=0.01)
    model(gradlab.randn(5, 4)).sum().backward()
    opt.step()
    gradlab.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "s.ckpt")
    state = gradlab.load(tmp_path / "s.ckpt")
    model2 = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))
    model2.load_state_dict(state["model"])
    opt2 = gradlab.optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(state["opt"])
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    for (k, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    np.testing.assert_array_equal(
        opt2.state[model2[0].weight]["exp_avg"].numpy(), opt.state[model[0].weight]["exp_avg"].numpy()
    )


def test_unsupported_object_is_named(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['f'\].*function"):
        gradlab.save({"f": lambda: 0}, tmp_path / "x")


def test_corrupt_file_gives_clear_error_naming_it(tmp_path):
    path = tmp_path / "good.ckpt"
    gradlab.save({"w": gradlab.ones(100)}, path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.ckpt"):
        gradlab.load(truncated)
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="garbage.ckpt"):
        gradlab.load(garbage)
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        gradlab.load(tmp_path / "missing.ckpt")


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.numpy import save_file

    save_file({"a": np.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ValueError, match="foreign.safetensors.*metadata"):
        gradlab.load(tmp_path / "foreign.safetensors")


def test_metadata_referring_to_missing_array_is_corrupt(tmp_path):
    from safetensors.numpy import save_file

    meta = json.dumps({"format": "gradlab.io/1", "object": {"w": {"__tensor__": "7"}}})
    save_file({"0": np.zeros(2)}, str(tmp_path / "bad.ckpt"), metadata={"gradlab": meta})
    with pytest.raises(ValueError, match="bad.ckpt.*corrupt"):
        gradlab.load(tmp_path / "bad.ckpt")


def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    gradlab.save({"w": gradlab.ones(3)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the new file is being written

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        gradlab.save({"w": gradlab.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt"]  # no temporary file left behind
    np.testing.assert_array_equal(gradlab.load(path)["w"].numpy(), np.ones(3, dtype=np.float32))


def test_save_into_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        gradlab.save({}, tmp_path / "nope" / "x.ckpt")


def test_library_never_pickles():
    import pathlib

    src = pathlib.Path(gradlab.__file__).parent
    for f in [src / "io.py", *(src / "train").rglob("*.py"), src / "cli.py"]:
        text = f.read_text()
        assert "import pickle" not in text and "pickle.load" not in text, f

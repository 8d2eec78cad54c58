"""gradlab.save / gradlab.load with binary file objects, map_location, and
the refusal of whole-object pickling."""

from __future__ import annotations

import io

import numpy as np
import pytest

import gradlab
from gradlab import nn


def _model() -> nn.Module:
    gradlab.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_state_dict_round_trips_through_a_bytes_buffer():
    model = _model()
    buffer = io.BytesIO()
    gradlab.save(model.state_dict(), buffer)
    buffer.seek(0)
    loaded = gradlab.load(buffer)
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[key].numpy(), value.detach().numpy())
    other = _model()
    other[0].weight.data.zero_()
    other.load_state_dict(loaded)
    np.testing.assert_array_equal(other[0].weight.detach().numpy(), model[0].weight.detach().numpy())


def test_optimizer_state_round_trips_through_an_open_file(tmp_path):
    model = _model()
    opt = gradlab.optim.Adam(model.parameters(), lr=0.1)
    model(gradlab.randn(5, 3)).sum().backward()
    opt.step()
    path = tmp_path / "opt.safetensors"
    with open(path, "wb") as f:
        gradlab.save({"optimizer": opt.state_dict(), "epoch": 3, "losses": [1.5, 0.5]}, f)
    with open(path, "rb") as f:
        loaded = gradlab.load(f, map_location="cpu", weights_only=True)
    assert loaded["epoch"] == 3 and loaded["losses"] == [1.5, 0.5]
    state = loaded["optimizer"]["state"]
    assert sorted(state) == sorted(opt.state_dict()["state"])
    expected = opt.state_dict()["state"][0]["exp_avg"].numpy()
    np.testing.assert_array_equal(state[0]["exp_avg"].numpy(), expected)
    # the same file also loads by path
    assert gradlab.load(path)["epoch"] == 3


def test_map_location_accepts_a_device_and_a_dict():
    buffer = io.BytesIO()
    gradlab.save({"w": gradlab.ones(2)}, buffer)
    for location in ("cpu", gradlab.device("cpu"), {"cpu": "cpu"}):
        buffer.seek(0)
        w = gradlab.load(buffer, map_location=location)["w"]
        assert w.device.type == "cpu" and w.tolist() == [1.0, 1.0]
    buffer.seek(0)
    with pytest.raises(ValueError, match="map_location='tpu'"):
        gradlab.load(buffer, map_location="tpu")


def test_saving_a_whole_module_is_refused_with_the_state_dict_way():
    with pytest.raises(TypeError, match=r"refused by design.*gradlab.save\(model.state_dict\(\), f\)"):
        gradlab.save(_model(), io.BytesIO())
    with pytest.raises(TypeError, match="obj\\['model'\\] of type Sequential"):
        gradlab.save({"model": _model()}, io.BytesIO())


def test_weights_only_false_and_pickle_arguments_are_refused():
    buffer = io.BytesIO()
    gradlab.save({"a": 1}, buffer)
    buffer.seek(0)
    with pytest.raises(TypeError, match="weights_only=False.*refused by design"):
        gradlab.load(buffer, weights_only=False)
    with pytest.raises(TypeError, match="pickle_module"):
        gradlab.load(buffer, pickle_module=None)


def test_a_text_file_object_or_garbage_gets_a_clear_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with open(path) as f, pytest.raises(TypeError, match="binary mode"):
        gradlab.load(f)
    with pytest.raises(ValueError, match="not a readable gradlab checkpoint"):
        gradlab.load(io.BytesIO(b"\x05\x00\x00\x00\x00\x00\x00\x00hello"))

"""gradlab.summary: the numbers against hand counts and torch's parameters."""

import numpy as np
import pytest
import torch

import gradlab
from gradlab import nn


def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Sequential(nn.Linear(64, 10), nn.ReLU()),
    )


def _torch_cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Sequential(torch.nn.Linear(64, 10), torch.nn.ReLU()),
    )


def test_counts_shapes_and_memory_by_hand():
    s = gradlab.summary(_cnn(), input_size=(8, 1, 8, 8))
    # conv 4*1*3*3 + 4, batch norm 4 + 4, linear 64*10 + 10
    assert s.total_params == 40 + 8 + 650
    assert s.trainable_params == s.total_params and s.non_trainable_params == 0
    assert s.param_bytes == 4 * 698  # float32
    assert s.input_bytes == 4 * 8 * 64
    shapes = {layer.name: layer.output_shape for layer in s.layers}
    assert shapes == {
        "": (8, 10), "0": (8, 4, 8, 8), "1": (8, 4, 8, 8), "2": (8, 4, 8, 8), "3": (8, 4, 4, 4), "4": (8, 64),
        "5": (8, 10), "5.0": (8, 10), "5.1": (8, 10),
    }
    params = {layer.name: layer.params for layer in s.layers}
    assert (params[""], params["0"], params["1"], params["5"], params["5.0"]) == (698, 40, 8, 650, 650)
    # the leaves' outputs: three of 8*4*8*8, then 8*4*4*4, 8*64, and two of 8*10 floats
    assert s.activation_bytes == 4 * (3 * 2048 + 512 + 512 + 2 * 80)
    assert s.total_bytes == s.param_bytes + s.input_bytes + s.activation_bytes
    # the container comes before the layers nested in it
    assert [layer.name for layer in s.layers] == ["", "0", "1", "2", "3", "4", "5", "5.0", "5.1"]


def test_total_matches_torch_parameter_count():
    s = gradlab.summary(_cnn(), input_size=(2, 1, 8, 8))
    assert s.total_params == sum(p.numel() for p in _torch_cnn().parameters())
    lstm = gradlab.summary(nn.LSTM(5, 7, num_layers=2, bidirectional=True), input_size=(3, 4, 5))
    assert lstm.total_params == sum(
        p.numel() for p in torch.nn.LSTM(5, 7, num_layers=2, bidirectional=True).parameters()
    )
    assert lstm.layers[0].output_shape == (3, 4, 14)


def test_frozen_parameters_are_counted_apart():
    model = _cnn()
    model[0].weight.requires_grad_(False)
    s = gradlab.summary(model, input_size=(2, 1, 8, 8))
    assert s.non_trainable_params == 36
    assert s.trainable_params == 698 - 36
    row = next(layer for layer in s.layers if layer.name == "0")
    assert (row.params, row.trainable_params) == (40, 4)


def test_table_text_and_integer_inputs():
    s = gradlab.summary(nn.Sequential(nn.Embedding(20, 3), nn.Flatten(), nn.Linear(12, 2)),
                        input_size=(5, 4), dtypes=[gradlab.int64])
    text = str(s)
    assert "Embedding" in text and "[5, 4, 3]" in text and "Total params: 86" in text
    assert s.total_params == 20 * 3 + 12 * 2 + 2
    assert "86 parameters" in s.compact()


def test_summary_changes_nothing():
    model = _cnn().train()
    before = model[1].running_mean.numpy().copy()
    gradlab.summary(model, input_data=gradlab.randn(4, 1, 8, 8) + 5.0)
    assert model.training
    np.testing.assert_array_equal(model[1].running_mean.numpy(), before)


def test_depth_limits_rows_not_totals():
    s = gradlab.summary(_cnn(), input_size=(2, 1, 8, 8), depth=1)
    assert [layer.name for layer in s.layers] == ["", "0", "1", "2", "3", "4", "5"]
    assert s.total_params == 698


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of input_size"),
        ({"input_size": (2, 0, 8)}, "input_size"),
        ({"input_size": (2, 1, 8, 8), "dtypes": [None, None]}, "dtypes has 2 entries"),
        ({"input_size": (2, 1, 8, 8), "depth": -1}, "depth"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gradlab.summary(_cnn(), **kwargs)

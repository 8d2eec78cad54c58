"""The model of a training recipe: ``config["model"]`` turned into a
network, and a check, on one sample, that it fits the data."""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.train._errors import ConfigError

__all__ = ["build_model", "check_model"]


def _parse_layer(text: str) -> nn.Module:
    """``"Conv2d(1, 16, 3, padding=1)"`` -> ``nn.Conv2d(1, 16, 3, padding=1)``:
    a gradlab.nn layer name and literal arguments (parsed with ``ast``,
    never evaluated)."""
    try:
        call = ast.parse(text.strip(), mode="eval").body
        if isinstance(call, ast.Name):
            call = ast.Call(func=call, args=[], keywords=[])
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            raise ValueError
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError):
        raise ConfigError(
            f"model.layers entry {text!r} is not accepted; expected a gradlab.nn layer with "
            'literal arguments, such as "Linear(64, 10)" or "ReLU()"'
        ) from None
    layer = getattr(nn, call.func.id, None)
    if not (isinstance(layer, type) and issubclass(layer, nn.Module)):
        raise ConfigError(f"model.layers entry {text!r}: {call.func.id!r} is not a gradlab.nn layer")
    try:
        return layer(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"model.layers entry {text!r}: {error}") from None


def build_model(config: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """The model of ``config["model"]`` for inputs of shape ``input_shape``
    (one sample, e.g. (1, 8, 8)).

    - ``mlp``: Flatten, then per width in ``hidden``: Linear, BatchNorm1d
      (if ``batch_norm``), ReLU, Dropout; then Linear to the classes.
    - ``cnn``: per width in ``channels``: ``convs_per_block`` 3x3 Conv2d
      (each with BatchNorm2d and ReLU) and a 2x2 max-pool, halving the image; then
      Flatten, Dropout, the ``hidden`` layers as in the MLP, and Linear.
    - ``layers``: the list of layer strings, in order.
    """
    m = config["model"]
    bn, p = m["batch_norm"], m["dropout"]
    if m["name"] == "layers":
        return nn.Sequential(*[_parse_layer(t) for t in m["layers"]])
    layers: list[nn.Module] = []
    if m["name"] == "cnn":
        if len(input_shape) != 3:
            raise ConfigError(
                f"model.name = 'cnn' needs image inputs (C, H, W); this data set has samples of "
                f"shape {input_shape}"
            )
        c, h, w = input_shape
        for width in m["channels"]:
            for _ in range(max(1, m["convs_per_block"])):
                layers += [nn.Conv2d(c, width, 3, padding=1, bias=not bn)]
                layers += [nn.BatchNorm2d(width)] if bn else []
                layers += [nn.ReLU()]
                c = width
            if min(h, w) >= 2:
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
        layers += [nn.Flatten(), nn.Dropout(p)]
        features = c * h * w
    else:
        layers.append(nn.Flatten())
        features = int(np.prod(input_shape))
    for width in m["hidden"]:
        layers += [nn.Linear(features, width, bias=not bn)]
        layers += [nn.BatchNorm1d(width)] if bn else []
        layers += [nn.ReLU(), nn.Dropout(p)]
        features = width
    layers.append(nn.Linear(features, num_classes))
    return nn.Sequential(*layers)



def check_model(model: nn.Module, config: dict[str, Any], sample: np.ndarray, num_classes: int) -> None:
    """Run the model (eval mode, no gradient) on two training samples and
    check that it gives one score per class, so that a layer list that does
    not fit the data fails before training with a line naming the problem,
    not deep inside the first batch (or, with too few outputs, an IndexError
    in the loss)."""
    where = (
        f"model.layers {config['model']['layers']}" if config["model"]["name"] == "layers"
        else f"model.name = {config['model']['name']!r}"
    )
    was_training = model.training
    model.eval()
    try:
        with gradlab.no_grad():
            output = model(gradlab.tensor(sample))
    except (ValueError, RuntimeError, TypeError, IndexError) as error:
        raise ConfigError(
            f"{where} does not fit this data set's samples of shape {tuple(sample.shape[1:])}: {error}"
        ) from None
    finally:
        model.train(was_training)
    shape = tuple(getattr(output, "shape", ()))
    if shape != (len(sample), num_classes):
        raise ConfigError(
            f"{where} gives outputs of shape {shape[1:]} per sample; the data set has {num_classes} "
            f"classes, so the last layer must give {num_classes} scores (e.g. Linear(..., {num_classes}))"
        )

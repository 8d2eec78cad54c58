"""The training recipe behind ``gradlab train``: a configuration (defaults,
TOML, overrides), checked, and turned into data loaders, a model, an
optimizer, a schedule, regularizers and callbacks.

Everything the command does is a library call here, so that a script can
do the same::

    config = recipe.resolve_config({"epochs": 5, "model": {"name": "mlp"}})
    parts = recipe.build(config, run_dir)
    parts.trainer.fit(parts.train_loader, parts.val_loader, epochs=config["epochs"])
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import gradlab
from gradlab import nn
from gradlab.backend import Generator
from gradlab.data import DataLoader, TensorDataset, datasets, transforms
from gradlab.optim import lr_scheduler
from gradlab.train import callbacks as cb
from gradlab.train import regularizers as reg
from gradlab.train._errors import ConfigError
from gradlab.train._recipe_model import build_model, check_model
from gradlab.train.trainer import Trainer

__all__ = ["DEFAULTS", "ConfigError", "Parts", "build", "build_model", "load_data", "resolve_config"]


# The default recipe: a small CNN for 8x8 digits (see README, "the main job").
DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "epochs": 20,
    "batch_size": 32,
    "output": "runs",
    "device": "cpu",
    "threads": 1,
    "data": {"name": "digits", "val_fraction": 0.1},
    "model": {
        "name": "cnn",
        "channels": [32, 64],
        "convs_per_block": 1,
        "hidden": [128],
        "dropout": 0.3,
        "batch_norm": True,
        "layers": [],
    },
    "optimizer": {"name": "adamw", "lr": 0.003, "weight_decay": 0.0005, "momentum": 0.9},
    "schedule": {
        "name": "cosine",
        "warmup_epochs": 1,
        "step_epochs": 10,
        "gamma": 0.1,
        "patience": 3,
        "factor": 0.5,
    },
    "regularization": {
        "label_smoothing": 0.1,
        "l1": 0.0,
        "l2": 0.0,
        "weight_noise": 0.0,
        "grad_clip": 0.0,
        "ema": 0.0,
    },
    "augmentation": {"translate": 1, "rotation": 10.0, "mixup": 0.0, "cutout": 0},
    "early_stopping": {"patience": 10, "monitor": "val_loss", "min_delta": 0.0},
}

CHOICES: dict[str, tuple[str, ...]] = {
    "model.name": ("mlp", "cnn", "layers"),
    "optimizer.name": ("sgd", "adam", "adamw", "nadam", "rmsprop", "adagrad"),
    "schedule.name": ("none", "cosine", "step", "exponential", "onecycle", "plateau"),
    "device": ("cpu", "cuda"),
    "early_stopping.monitor": ("val_loss", "val_accuracy", "loss", "accuracy"),
}
DATA_SETS = ("digits", "mnist:PATH", "fashion-mnist:PATH", "cifar10:PATH")


# ------------------------------------------------------------------ config
def _check_value(key: str, value: Any, default: Any) -> Any:
    if key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(f"{key} = {value!r} is not accepted; expected one of {', '.join(CHOICES[key])}")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} is not accepted; expected true or false")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{key} = {value!r} is not accepted; expected an integer >= 0")
    elif isinstance(default, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            raise ConfigError(f"{key} = {value!r} is not accepted; expected a number >= 0")
        value = float(value)
    elif isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"{key} = {value!r} is not accepted; expected a string")
    elif isinstance(default, list):
        if not isinstance(value, list):
            raise ConfigError(f"{key} = {value!r} is not accepted; expected a list")
        if key in ("model.channels", "model.hidden") and not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
        ):
            raise ConfigError(f"{key} = {value!r} is not accepted; expected a list of positive integers")
        if key == "model.layers" and not all(isinstance(v, str) for v in value):
            raise ConfigError(
                f"{key} = {value!r} is not accepted; expected a list of layer strings such as "
                '"Linear(64, 10)"'
            )
    return value


def _merge(base: dict[str, Any], override: dict[str, Any], prefix: str = "") -> None:
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"unknown config key {dotted!r}; accepted keys: {', '.join(sorted(base))}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{dotted} must be a table of keys ({', '.join(sorted(base[key]))}), got {value!r}"
                )
            _merge(base[key], value, dotted + ".")
        else:
            base[key] = _check_value(dotted, value, base[key])


def resolve_config(*overrides: dict[str, Any]) -> dict[str, Any]:
    """The defaults updated by each override in turn (a TOML file's
    content, then command-line options), every value checked.

    Raises:
        ConfigError: for an unknown key or a value of the wrong type or
            outside the accepted choices, naming the key and what is accepted.
    """
    config = copy.deepcopy(DEFAULTS)
    for override in overrides:
        _merge(config, override)
    _dataset_spec(config["data"]["name"])
    if not 0.0 < config["data"]["val_fraction"] < 1.0:
        raise ConfigError(
            f"data.val_fraction = {config['data']['val_fraction']!r} is not accepted; "
            "expected a fraction in (0, 1)"
        )
    if config["epochs"] < 1 or config["batch_size"] < 1:
        raise ConfigError(
            f"epochs and batch_size must be integers >= 1, got epochs = {config['epochs']}, "
            f"batch_size = {config['batch_size']}"
        )
    if not config["model"]["dropout"] < 1.0:
        raise ConfigError(
            f"model.dropout = {config['model']['dropout']!r} is not accepted; expected a "
            "probability in [0, 1)"
        )
    if config["model"]["name"] == "layers" and not config["model"]["layers"]:
        raise ConfigError(
            'model.name = \'layers\' needs model.layers, a list such as ["Flatten()", "Linear(64, 10)"]'
        )
    if config["model"]["layers"] and config["model"]["name"] != "layers":
        raise ConfigError(
            f"model.layers is set but model.name = {config['model']['name']!r}, which ignores it; "
            'add name = "layers" to the [model] table to train the layer list'
        )
    return config


def _dataset_spec(spec: str) -> tuple[str, str | None]:
    name, _, path = spec.partition(":")
    if name == "digits" and not path:
        return name, None
    if name in ("mnist", "fashion-mnist", "cifar10") and path:
        return name, path
    raise ConfigError(f"data.name = {spec!r} is not accepted; expected one of {', '.join(DATA_SETS)}")


# -------------------------------------------------------------------- data
@dataclass
class Data:
    """The splits as arrays, normalized with training-split statistics."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int


def load_data(config: dict[str, Any]) -> Data:
    """The data set of ``config["data"]``: its training split divided into
    training and validation (a permutation fixed by the seed), each
    normalized per channel with the training part's mean and std."""
    name, path = _dataset_spec(config["data"]["name"])
    if name == "digits":
        splits = datasets.digits()  # the same test split whatever the run's seed
    else:
        loader = {
            "mnist": datasets.mnist,
            "fashion-mnist": datasets.fashion_mnist,
            "cifar10": datasets.cifar10,
        }
        splits = loader[name](path)
    (x, y), (x_test, y_test) = splits
    if x.shape[1:] != x_test.shape[1:]:
        raise ConfigError(
            f"data.name = {config['data']['name']!r}: the training samples have shape {x.shape[1:]} "
            f"but the test samples {x_test.shape[1:]}; expected the same shape in both splits"
        )
    order = Generator().manual_seed(config["seed"]).permutation(len(x))
    n_val = max(1, int(round(config["data"]["val_fraction"] * len(x))))
    val, train = order[:n_val], order[n_val:]
    norm = transforms.PerChannelNormalize().fit(x[train])
    num_classes = int(max(y.max(), y_test.max())) + 1
    return Data(norm(x[train]), y[train], norm(x[val]), y[val], norm(x_test), y_test, num_classes)


def _augmentation(
    config: dict[str, Any], image_shape: tuple[int, ...], num_classes: int, generator: Generator
) -> Any:
    aug = config["augmentation"]
    steps: list[Any] = []
    if aug["translate"] or aug["rotation"] or aug["cutout"]:
        if len(image_shape) != 3:
            raise ConfigError(
                "augmentation.translate, rotation and cutout need image inputs (C, H, W); "
                f"this data set has samples of shape {image_shape}; set them to 0"
            )
        _check_pixels(aug, image_shape)
        if aug["rotation"]:
            shift = (aug["translate"] / image_shape[-2], aug["translate"] / image_shape[-1])
            steps.append(
                transforms.RandomAffine(degrees=aug["rotation"], translate=shift, generator=generator)
            )
        else:
            # a shift by up to t whole pixels with zero fill is a crop of the
            # zero-padded image, and cropping is a slice: cheaper than a warp
            steps.append(
                transforms.RandomCrop(tuple(image_shape[-2:]), padding=aug["translate"], generator=generator)
            )
    if aug["cutout"]:
        steps.append(transforms.Cutout(aug["cutout"], generator=generator))
    if aug["mixup"]:
        steps.append(transforms.MixUp(alpha=aug["mixup"], num_classes=num_classes, generator=generator))
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else transforms.Compose(steps)


def _check_pixels(aug: dict[str, Any], image_shape: tuple[int, ...]) -> None:
    """Shifts and Cutout squares are given in pixels; more than half the
    image blanks most of it (the model then learns from empty images)."""
    h, w = image_shape[-2:]
    limit = min(h, w) // 2
    for key, option in (("translate", "--translate"), ("cutout", "--cutout")):
        if aug[key] > limit:
            raise ConfigError(
                f"augmentation.{key} ({option}) = {aug[key]} pixels is too large for this data set's "
                f"{h}x{w} images: it would blank most of each image; expected at most {limit} pixels "
                "(half the image side), or 0 for off"
            )


# ----------------------------------------------------------- optimization
def _optimizer(config: dict[str, Any], model: nn.Module) -> gradlab.optim.Optimizer:
    o = config["optimizer"]
    name, lr, wd = o["name"], o["lr"], o["weight_decay"]
    groups = gradlab.optim.param_groups(model, wd)
    if name == "sgd":
        return gradlab.optim.SGD(groups, lr=lr, momentum=o["momentum"], nesterov=o["momentum"] > 0)
    if name == "rmsprop":
        return gradlab.optim.RMSprop(groups, lr=lr, momentum=o["momentum"])
    cls = {
        "adam": gradlab.optim.Adam,
        "adamw": gradlab.optim.AdamW,
        "nadam": gradlab.optim.NAdam,
        "adagrad": gradlab.optim.Adagrad,
    }[name]
    return cls(groups, lr=lr)


def _schedule(
    config: dict[str, Any], opt: gradlab.optim.Optimizer, steps_per_epoch: int
) -> tuple[Any, str | None]:
    s = config["schedule"]
    epochs = config["epochs"]
    total = epochs * steps_per_epoch
    warmup = s["warmup_epochs"] * steps_per_epoch
    name = s["name"]
    if name == "none":
        return None, None
    if name == "plateau":
        plateau = lr_scheduler.ReduceLROnPlateau(opt, factor=s["factor"], patience=s["patience"])
        if s["warmup_epochs"]:
            return lr_scheduler.Warmup(opt, plateau, warmup_steps=s["warmup_epochs"]), "epoch"
        return plateau, "epoch"
    if name == "onecycle":
        return lr_scheduler.OneCycleLR(opt, max_lr=config["optimizer"]["lr"], total_steps=total), "batch"
    if name == "cosine":
        after = lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total - warmup))
    elif name == "step":
        after = lr_scheduler.StepLR(
            opt, step_size=max(1, s["step_epochs"] * steps_per_epoch), gamma=s["gamma"]
        )
    else:  # exponential: gamma per epoch, applied per batch
        after = lr_scheduler.ExponentialLR(opt, gamma=s["gamma"] ** (1.0 / steps_per_epoch))
    if warmup:
        return lr_scheduler.Warmup(opt, after, warmup_steps=warmup), "batch"
    return after, "batch"


# ------------------------------------------------------------------ build
@dataclass
class Parts:
    """Everything a run is made of."""

    config: dict[str, Any]
    data: Data
    model: nn.Module
    trainer: Trainer
    train_loader: DataLoader
    val_loader: DataLoader
    test_loader: DataLoader


def build(config: dict[str, Any], run_dir: str | Path | None = None, progress: Any = None,
          extra_callbacks: list[cb.Callback] | tuple = ()) -> Parts:
    """Data, model, optimizer, schedule, regularizers and callbacks of a run.

    The seed fixes everything: the validation split, the initial weights
    (``gradlab.manual_seed``), the order of the batches (the loader's own
    generator) and the augmentation draws (another generator). With a
    ``run_dir``, the callbacks write ``metrics.csv`` and the ``best.ckpt`` /
    ``last.ckpt`` run checkpoints there. ``progress`` is the ProgressBar to
    use (None: no progress output); ``extra_callbacks`` join the recipe's
    own (a HealthMonitor, say).
    """
    seed = config["seed"]
    data = load_data(config)
    gradlab.manual_seed(seed)
    model = build_model(config, tuple(data.x_train.shape[1:]), data.num_classes)
    check_model(model, config, data.x_train[:2], data.num_classes)
    order_gen = Generator().manual_seed(seed + 1)
    aug_gen = Generator().manual_seed(seed + 2)
    augment = _augmentation(config, tuple(data.x_train.shape[1:]), data.num_classes, aug_gen)
    bs = config["batch_size"]
    train_loader = DataLoader(
        TensorDataset(data.x_train, data.y_train),
        batch_size=bs,
        shuffle=True,
        generator=order_gen,
        transform=augment,
    )
    val_loader = DataLoader(TensorDataset(data.x_val, data.y_val), batch_size=256)
    test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=256)
    opt = _optimizer(config, model)
    scheduler, interval = _schedule(config, opt, len(train_loader))
    r = config["regularization"]
    regs: list[reg.Regularizer] = []
    if r["l1"] or r["l2"]:
        regs.append(reg.ElasticNet(r["l1"], r["l2"]))
    if r["weight_noise"]:
        regs.append(reg.WeightNoise(r["weight_noise"], generator=Generator().manual_seed(seed + 3)))
    callbacks: list[cb.Callback] = []
    if r["ema"]:
        callbacks.append(cb.EMA(decay=r["ema"]))
    es = config["early_stopping"]
    if es["patience"]:
        callbacks.append(
            cb.EarlyStopping(
                monitor=es["monitor"],
                patience=es["patience"],
                min_delta=es["min_delta"],
                restore_best_weights=True,
            )
        )
    # a diverged run stops before the non-finite step is applied
    callbacks.append(cb.TerminateOnNaN(verbose=False))
    if progress is not None:
        callbacks.append(progress)
    callbacks += list(extra_callbacks)
    if run_dir is not None:
        run_dir = Path(run_dir)
        callbacks += [
            cb.CSVLogger(run_dir / "metrics.csv"),
            FiniteBestCheckpoint(run_dir / "best.ckpt", monitor=es["monitor"], save_best_only=True),
            cb.ModelCheckpoint(run_dir / "last.ckpt"),
        ]
    loss = nn.CrossEntropyLoss(label_smoothing=r["label_smoothing"])
    trainer = Trainer(
        model,
        opt,
        loss,
        metrics=["accuracy"],
        callbacks=callbacks,
        scheduler=scheduler,
        scheduler_interval=interval,
        regularizers=regs,
        grad_clip=r["grad_clip"] or None,
        device=None if config["device"] == "cpu" else config["device"],
    )
    trainer.run_config = config  # saved in run checkpoints, compared on resume
    return Parts(config, data, model, trainer, train_loader, val_loader, test_loader)


class FiniteBestCheckpoint(cb.ModelCheckpoint):
    """``best.ckpt``: ModelCheckpoint(save_best_only=True) that never saves
    a model with a non-finite weight or buffer (BatchNorm's running
    statistics) or a non-finite monitored value (a diverged run's best
    model is the last finite one)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor.monitor)
        if value is not None and not math.isfinite(value):
            return
        state = self.model.state_dict()
        if not all(_finite(v.array) for v in state.values() if v.array.dtype.kind in "fc"):
            return
        super().on_epoch_end(epoch, logs)


def _finite(array: Any) -> bool:
    from gradlab.backend import array_module

    return bool(array_module(array).isfinite(array).all())

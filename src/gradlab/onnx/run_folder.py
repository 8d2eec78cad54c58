"""``gradlab export RUN model.onnx``: the model of a run folder as ONNX."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import gradlab
from gradlab.onnx.export import export

__all__ = ["export_run"]


def export_run(target: str | Path, path: str | Path, opset_version: int = 17, out: Any = None) -> Path:
    """Export the model of a run folder (its ``best.ckpt``, else ``last.ckpt``)
    or of one checkpoint file in a run folder to the ONNX file ``path``, with
    a dynamic batch size (``input`` (N, ...) -> ``output`` (N, classes)).
    EMA averages in the checkpoint, if any, are what is exported, as
    ``gradlab evaluate`` evaluates them."""
    from gradlab.train import recipe
    from gradlab.train.run import find_checkpoint, load_run_weights, read_config

    out = out or sys.stdout
    run_dir, checkpoint = find_checkpoint(target)
    config = read_config(run_dir)
    data = recipe.load_data(config)
    model = recipe.build_model(config, tuple(data.x_train.shape[1:]), data.num_classes)
    load_run_weights(model, checkpoint, run_dir)
    example = gradlab.tensor(data.x_test[:1])
    export(model, example, path, input_names=["input"], output_names=["output"],
           dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset_version)
    out.write(f"{checkpoint} -> {path} (input: batch x {' x '.join(map(str, data.x_train.shape[1:]))}, "
              f"output: batch x {data.num_classes} logits)\n")
    return Path(path)

"""``gradlab.summary``: the table of a model's layers that torchinfo and
Keras print.

For every module called in one forward pass: its output shape and its
parameter count; then the totals (trainable and frozen) and the memory of
the parameters, of the input and of the activations. The forward pass runs
on zeros, without gradients and in ``eval()`` mode (restored afterwards), so
that the summary changes nothing: no batch-norm statistic moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gradlab
from gradlab import nn
from gradlab.autograd import no_grad
from gradlab.tensor import Tensor

__all__ = ["LayerSummary", "ModelSummary", "summary"]


@dataclass
class LayerSummary:
    """One row of the table: a module as it was called.

    ``params`` and ``trainable_params`` count the module's parameters with
    its submodules' (each once); ``output_shape`` is None when the output is
    not a Tensor (an LSTM's tuple gives the shape of its first element).
    """

    name: str
    type: str
    depth: int
    output_shape: tuple[int, ...] | None
    params: int
    trainable_params: int
    output_bytes: int
    leaf: bool


@dataclass
class ModelSummary:
    """The numbers of :func:`summary`; ``str()`` is the table.

    Memory in bytes: ``param_bytes`` (every parameter once), ``input_bytes``,
    ``activation_bytes`` (the outputs of the leaf layers for this batch:
    what a training step keeps for backward, as torchinfo's forward pass
    size counts it) and ``total_bytes``, their sum.
    """

    layers: list[LayerSummary]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    param_bytes: int
    input_bytes: int
    activation_bytes: int
    model_name: str = ""
    input_shapes: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return self.param_bytes + self.input_bytes + self.activation_bytes

    def compact(self) -> str:
        """One line: layers, parameters and memory."""
        leaves = sum(1 for layer in self.layers if layer.leaf)
        frozen = f", {self.non_trainable_params:,} frozen" if self.non_trainable_params else ""
        return (
            f"{self.model_name}: {leaves} layers, {self.total_params:,} parameters{frozen} "
            f"({_size(self.param_bytes)}); activations {_size(self.activation_bytes)} "
            f"for input {', '.join(str(s) for s in self.input_shapes)}"
        )

    def __str__(self) -> str:
        rows = [("Layer (type)", "Output Shape", "Param #", "Trainable")]
        for layer in self.layers:
            rows.append((
                "  " * layer.depth + _label(layer),
                "--" if layer.output_shape is None else str(list(layer.output_shape)),
                f"{layer.params:,}",
                f"{layer.trainable_params:,}",
            ))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        line = "=" * (sum(widths) + 6)

        def fmt(r: tuple[str, ...]) -> str:
            return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}"

        return "\n".join([
            line,
            fmt(rows[0]),
            line,
            *(fmt(r) for r in rows[1:]),
            line,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            line,
            f"Input size: {_size(self.input_bytes)}",
            f"Forward pass size (activations): {_size(self.activation_bytes)}",
            f"Params size: {_size(self.param_bytes)}",
            f"Estimated total size: {_size(self.total_bytes)}",
            line,
        ])


def _label(layer: LayerSummary) -> str:
    """``name (Type)`` with the last part of the dotted name; the model's own row is its type."""
    return f"{layer.name.rsplit('.', 1)[-1]} ({layer.type})" if layer.name else layer.type


def _size(nbytes: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.2f} {unit}"
    return f"{nbytes} B"


def _counts(module: nn.Module) -> tuple[int, int]:
    params = list(module.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


def _first_tensor(out: Any) -> Tensor | None:
    while isinstance(out, (tuple, list)) and out:
        out = out[0]
    return out if isinstance(out, Tensor) else None


def _inputs(input_size: Any, dtypes: Sequence[Any] | None) -> list[Tensor]:
    sizes = [input_size] if input_size and all(isinstance(d, int) for d in input_size) else list(input_size)
    for i, size in enumerate(sizes):
        if not isinstance(size, (tuple, list)) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in size
        ):
            raise ValueError(
                f"input_size must be a shape with the batch dimension, such as (32, 1, 8, 8), or a list "
                f"of shapes; entry {i} is {size!r}"
            )
    if dtypes is None:
        dtypes = [None] * len(sizes)
    if len(dtypes) != len(sizes):
        raise ValueError(f"dtypes has {len(dtypes)} entries for {len(sizes)} inputs; give one per input")
    return [gradlab.zeros(tuple(size), dtype=dtype) for size, dtype in zip(sizes, dtypes)]


def summary(
    model: nn.Module,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    dtypes: Sequence[Any] | None = None,
    input_data: Tensor | Sequence[Tensor] | None = None,
    depth: int = 3,
) -> ModelSummary:
    """Describe ``model`` layer by layer, as ``torchinfo.summary`` does.

    Args:
        model: the network.
        input_size: the shape of one input batch, batch dimension included
            (e.g. ``(32, 1, 8, 8)``), or a list of shapes for a model with
            several inputs. The inputs are zeros.
        dtypes: the dtype of each input (default: the default float dtype;
            ``[gradlab.int64]`` for an Embedding's indices).
        input_data: the input Tensor(s) themselves, instead of ``input_size``.
        depth: the deepest level of nested modules shown in the table (the
            totals always count every parameter).

    Returns:
        a :class:`ModelSummary`: ``print()`` it for the table; its fields are
        the numbers.

    Example:
        >>> s = gradlab.summary(model, input_size=(32, 1, 8, 8))
        >>> print(s)
        >>> s.total_params, s.trainable_params
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a gradlab.nn.Module, got {type(model).__name__}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth must be an integer >= 0, got {depth!r}")
    if (input_size is None) == (input_data is None):
        raise ValueError("give exactly one of input_size (a shape such as (32, 1, 8, 8)) and input_data")
    if input_data is not None:
        inputs = [input_data] if isinstance(input_data, Tensor) else list(input_data)
        if not all(isinstance(x, Tensor) for x in inputs):
            raise TypeError("input_data must be a Tensor or a sequence of Tensors")
    else:
        inputs = _inputs(input_size, dtypes)

    names = {id(m): name for name, m in model.named_modules()}
    layers: list[LayerSummary] = []
    handles = []
    for module in model.modules():
        if id(module) not in names:
            continue

        def hook(mod: nn.Module, args: Any, out: Any) -> None:
            name = names[id(mod)]
            t = _first_tensor(out)
            total, trainable = _counts(mod)
            layers.append(LayerSummary(
                name=name,
                type=type(mod).__name__,
                depth=name.count(".") + 1 if name else 0,
                output_shape=None if t is None else tuple(t.shape),
                params=total,
                trainable_params=trainable,
                output_bytes=0 if t is None else int(t.array.nbytes),
                leaf=not list(mod.children()),
            ))

        handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    # a container's hook runs after its children's: put each container before them
    ordered = _parents_first(layers)
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return ModelSummary(
        layers=[layer for layer in ordered if layer.depth <= depth],
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        param_bytes=sum(int(p.array.nbytes) for p in params),
        input_bytes=sum(int(x.array.nbytes) for x in inputs),
        activation_bytes=sum(layer.output_bytes for layer in layers if layer.leaf),
        model_name=type(model).__name__,
        input_shapes=[tuple(x.shape) for x in inputs],
    )


def _parents_first(layers: list[LayerSummary]) -> list[LayerSummary]:
    """Reorder the rows (in the order the calls ended) so that each module
    comes before the modules nested in it, as in the code: the calls nested
    in a module ended just before it did, so they are the rows just above."""
    ordered: list[LayerSummary] = []
    for layer in layers:
        at = len(ordered)
        while at > 0 and (not layer.name or ordered[at - 1].name.startswith(layer.name + ".")):
            at -= 1
        ordered.insert(at, layer)
    return ordered

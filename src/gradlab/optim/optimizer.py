"""The optimizer shell shared by every optimizer: parameter groups, lazy
per-parameter state, ``zero_grad``, ``step`` and state dicts, with PyTorch's
semantics (``torch/optim/optimizer.py``).

Each concrete optimizer is this shell around a *pure update*: a small function
of arrays that changes the parameter and its state in place (the shape optax
gives its updates), one fused kernel pass per parameter in
:mod:`gradlab.kernels.optim`. The shell's job is bookkeeping; the update's
job is math.
"""

from __future__ import annotations

import copy
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd import enable_grad, no_grad
from gradlab.tensor import Tensor

__all__ = ["Optimizer", "required"]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class _RequiredParameter:
    """Marks a hyperparameter that has no default and must be given."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


# --------------------------------------------------------------------------
# hyperparameter checks: each names the argument, the value and what was expected
# --------------------------------------------------------------------------
def _number(name: str, value: Any) -> float:
    # a Tensor hyperparameter (PyTorch allows one for CUDA graphs) is refused:
    # the updates take Python numbers
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid {name}: {value!r} (expected a real number)")
    return value


def check_nonnegative(name: str, value: Any) -> None:
    if not _number(name, value) >= 0.0:
        raise ValueError(f"Invalid {name}: {value!r} (expected a number >= 0)")


def check_positive(name: str, value: Any) -> None:
    if not _number(name, value) > 0.0:
        raise ValueError(f"Invalid {name}: {value!r} (expected a number > 0)")


def check_interval(name: str, value: Any, low: float, high: float, *,
                   low_closed: bool = True, high_closed: bool = False) -> None:
    """``value`` in the interval between ``low`` and ``high``; which ends
    belong to it is given by ``low_closed`` / ``high_closed``."""
    v = _number(name, value)
    above = v >= low if low_closed else v > low
    below = v <= high if high_closed else v < high
    if not (above and below):
        interval = ("[" if low_closed else "(") + f"{low}, {high}" + ("]" if high_closed else ")")
        raise ValueError(f"Invalid {name}: {value!r} (expected a number in {interval})")


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"Invalid {name}: {value!r} (expected True or False)")


def check_betas(betas: Any) -> None:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    check_interval("beta parameter at index 0", betas[0], 0.0, 1.0)
    check_interval("beta parameter at index 1", betas[1], 0.0, 1.0)


def compat_flags(foreach: bool | None, fused: bool | None, capturable: bool,
                 differentiable: bool) -> dict[str, Any]:
    """PyTorch's performance flags, accepted so that code carries over.

    ``foreach``, ``fused`` and ``capturable`` select kernels or CUDA-graph
    support in PyTorch and change no number, so here they do nothing.
    ``differentiable=True`` would promise a step that autograd can see
    through; gradlab's updates work in place on raw arrays, so it is refused.
    """
    if differentiable:
        raise ValueError("Invalid differentiable: True (gradlab's optimizer steps are not "
                         "differentiable; they update the raw arrays in place)")
    return {"foreach": foreach, "fused": fused, "capturable": capturable,
            "differentiable": differentiable}


def _copy_value(value: Any) -> Any:
    """A deep copy of an optimizer-state value, with Tensors copied as
    detached Tensors holding their own arrays."""
    if isinstance(value, Tensor):
        return Tensor._make(value.array.copy())
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_value(v) for v in value)
    return copy.deepcopy(value)


def _cast_like(param: Tensor, value: Any, key: Any = None) -> Any:
    """Copy a loaded state value onto the parameter's device, casting
    floating arrays to its dtype (except ``step``), as PyTorch does. Raw
    arrays (a state dict stored as plain NumPy) become Tensors."""
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        value = Tensor._make(value)
    if isinstance(value, Tensor):
        array = value.array
        if backend.device_of(array) != param.device:
            array = backend.to_device(array, param.device)
        if key != "step" and array.dtype.kind == "f" and array.dtype != param.dtype:
            array = array.astype(param.dtype)
        return Tensor._make(array.copy() if array is value.array else array)
    if isinstance(value, dict):
        return {k: _cast_like(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_like(param, v) for v in value)
    return copy.deepcopy(value)


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    Args:
        params: an iterable of Tensors, or of dicts each holding ``"params"``
            and the hyperparameters that group overrides.
        defaults: the hyperparameters of groups that do not set them.

    Attributes:
        param_groups: list of dicts, one per group, with ``"params"`` and every
            hyperparameter.
        state: per-parameter dict of buffers (Tensors) and counters (Python
            numbers), filled lazily on a parameter's first step.

    Example:
        >>> opt = gradlab.optim.SGD([{"params": body}, {"params": head, "lr": 0.1}],
        ...                         lr=0.01, momentum=0.9)
        >>> for x, y in loader:
        ...     opt.zero_grad()
        ...     loss_fn(model(x), y).backward()
        ...     opt.step()
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got a Tensor of shape {tuple(params.shape)}")
        if isinstance(params, (set, frozenset)):
            raise TypeError("params must be an ordered collection (a list), not a set: the "
                            "order of a set changes between runs")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyperparameters) to
        optimize, e.g. a layer unfrozen while fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("params must be an ordered collection (a list), not a set: the "
                            "order of a set changes between runs")
        elif params is None:
            raise ValueError("param_group must have a 'params' entry")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one parameter group "
                             "(or twice in one group)")
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError naming any bad hyperparameter of ``group``;
        overridden by every optimizer."""

    # ------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: drop them (the default, saving memory and a
        pass over the data), or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = p.grad.detach()
                    p.grad.array[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter with a gradient; ``closure`` (re-evaluates
        the model, calls backward and returns the loss) is called first when
        given, and its loss is returned."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, p.grad.array, self.state[p], group)
                        p._version += 1
        return loss

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    @staticmethod
    def _zeros_like(param: Tensor) -> Tensor:
        xp = backend.array_module(param.array)
        return Tensor._make(xp.zeros_like(param.array))

    # ------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups":
        [...]}``, parameters replaced by their position, as PyTorch's.

        Unlike PyTorch, the buffers are copies: the dict is a snapshot that
        later steps do not change.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: _copy_value(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`: hyperparameters and
        buffers, so that the run continues with identical numbers."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError("optimizer state dict must be a dict with keys 'state' and "
                             f"'param_groups', got {type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        for saved, group in zip(saved_groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match "
                                 f"the size of optimizer's group ({len(saved['params'])} vs "
                                 f"{len(group['params'])} parameters)")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            key = int(key)  # a state dict that went through JSON has string keys
            if key not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {key}, which no "
                                 "parameter group holds")
            param = id_map[key]
            state[param] = _cast_like(param, value)
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new_group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new_group["params"] = group["params"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups

"""state_dict / load_state_dict for :class:`gradlab.nn.Module`, as PyTorch's:
dotted keys, parameters then persistent buffers of each module, children
after their parent."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from gradlab.autograd import no_grad
from gradlab.tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class StateDictMixin:
    """The state-dict half of Module (it uses ``_parameters``, ``_buffers``,
    ``_non_persistent`` and ``_modules``)."""

    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name, in registration
        order (tensors detached unless ``keep_vars``). Shared parameters appear
        under every name, as in PyTorch."""
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict: dict, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values (Tensors or arrays, e.g. a PyTorch state dict converted
        with ``{k: v.numpy() for k, v in sd.items()}``) into the parameters and
        persistent buffers, casting to each one's dtype.

        Returns:
            ``(missing_keys, unexpected_keys)``. With ``strict`` either being
            non-empty raises RuntimeError; a shape mismatch always raises,
            naming the key and both shapes.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.array if isinstance(value, Tensor) else value
            if not hasattr(array, "shape"):
                array = np.asarray(array)
            if tuple(array.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} "
                    f"from checkpoint, the shape in current model is {tuple(target.shape)}."
                )
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            )
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    array = value.array if isinstance(value, Tensor) else np.asarray(value)
                    target.copy_(array)
        return IncompatibleKeys(missing, unexpected)

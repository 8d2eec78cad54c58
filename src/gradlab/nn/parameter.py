"""Parameter: a Tensor that a Module registers as one of its weights."""

from __future__ import annotations

from typing import Any

from gradlab.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that is a module's learnable weight, as ``torch.nn.Parameter``.

    Assigning a Parameter to an attribute of a :class:`~gradlab.nn.Module`
    registers it, so that it appears in ``parameters()`` and ``state_dict()``.
    Operations on a Parameter return plain Tensors.

    Args:
        data: the initial value (a Tensor or array); it is shared, not copied.
        requires_grad: whether the optimizer should train it.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            from gradlab.creation import empty

            data = empty(0)
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A marker for a Tensor that a Module should register as a buffer when
    assigned (``torch.nn.Buffer``); ``persistent=False`` keeps it out of the
    state dict."""

    __slots__ = ("persistent",)

    def __init__(self, data: Any, persistent: bool = True) -> None:
        super().__init__(data.array if isinstance(data, Tensor) else data)
        self.persistent = persistent

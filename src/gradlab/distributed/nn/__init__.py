"""Differentiable collectives (``torch.distributed.nn.functional``).

:func:`all_reduce` here is recorded by autograd: y_r = sum_s x_s on every
rank r. Its backward is again an allreduce of the incoming gradients, since
every rank's output depends on every rank's input:
dL/dx_r = sum_s dL_s/dy_s. SyncBatchNorm is built on it.
"""

from __future__ import annotations

from typing import Any

from gradlab.autograd.node import Op
from gradlab.tensor import Tensor

__all__ = ["all_reduce"]


class AllReduceSum(Op):
    """y = sum over ranks of x; backward: the same sum of the gradients."""

    reads_inputs = False

    def forward(self, x: Any) -> Any:
        from gradlab.distributed import _world

        out = x.copy()
        _world().all_reduce(out, "sum")
        return out

    def backward(self, g: Tensor) -> Tensor:
        return all_reduce(g)


def all_reduce(tensor: Tensor, op: str = "sum", group: Any = None) -> Tensor:
    """The sum of ``tensor`` over all ranks, as a new tensor in the graph."""
    if op != "sum":
        raise ValueError(f"distributed.nn.all_reduce: only op='sum' is differentiable here, got {op!r}")
    return AllReduceSum.apply(tensor)

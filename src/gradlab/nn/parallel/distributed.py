"""``DistributedDataParallel``: gradients averaged across ranks during
backward, in buckets, overlapping communication with computation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from gradlab import backend
from gradlab import distributed as dist
from gradlab.autograd import is_grad_enabled, no_grad
from gradlab.nn.module import Module
from gradlab.tensor import Tensor

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters whose gradients are averaged by one allreduce of a flat
    buffer holding them all."""

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        self.sizes = [p.numel() for p in params]
        self.buffer: Any = None
        self.ready: set[int] = set()
        self.work: Any = None

    def launch(self, world_size: int) -> None:
        """Copy the gradients into the flat buffer and start its allreduce."""
        first = self.params[0].array
        xp = backend.array_module(first)
        if self.buffer is None:
            self.buffer = xp.empty(sum(self.sizes), dtype=first.dtype)
        offset = 0
        for p, n in zip(self.params, self.sizes):
            view = self.buffer[offset: offset + n]
            if p.grad is None:  # unused on this rank: it contributes zeros
                view[...] = 0
            else:
                view[...] = p.grad.array.reshape(-1)
            offset += n
        self.work = dist.all_reduce(Tensor._make(self.buffer), dist.ReduceOp.SUM, async_op=True)

    def finish(self, world_size: int, had_grad: dict[int, bool]) -> None:
        """Wait for the allreduce and write the average back into ``.grad``."""
        self.work.wait()
        self.work = None
        self.buffer *= 1.0 / world_size
        offset = 0
        for p, n in zip(self.params, self.sizes):
            averaged = self.buffer[offset: offset + n].reshape(p.shape)
            offset += n
            if p.grad is None:
                if not had_grad.get(id(p)) and not averaged.any():
                    continue  # no rank used it: it keeps no gradient, as in PyTorch
                p.grad = Tensor._make(averaged.copy())
            else:
                p.grad.array[...] = averaged
        self.ready.clear()


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training (``torch.nn.parallel.
    DistributedDataParallel``; Li et al. 2020, "PyTorch Distributed").

    At construction rank 0's parameters and buffers are broadcast to every
    rank, so all start equal. Each forward runs the module on this rank's
    share of the batch (and, with ``broadcast_buffers``, first gives every
    rank rank 0's buffers, such as batch-norm running statistics). During
    backward, as soon as every gradient of a *bucket* of parameters (about
    ``bucket_cap_mb`` MB, filled in reverse order of registration, the order
    in which backward reaches them) has been accumulated, a non-blocking
    allreduce of the bucket starts, while backward goes on through the
    layers below; when the last bucket has started, every allreduce is
    waited for and the averaged gradient, (1/N) sum_r g_r, is written into
    each ``.grad``. The optimizer step that follows is then the same on
    every rank.

    Args:
        module: the model.
        device_ids, output_device, dim, process_group, gradient_as_bucket_view,
        static_graph: accepted for PyTorch scripts; gradlab uses one process
            per device and the default group.
        broadcast_buffers: sync buffers from rank 0 at every forward.
        bucket_cap_mb: the size of a bucket.
        find_unused_parameters: at every forward, find the parameters the
            output does not depend on and count them as ready, so that
            their buckets are not waited for forever; without it such a
            parameter raises an error at the next forward, as in PyTorch.

    The state dict holds the module's under ``module.``-prefixed keys, as
    PyTorch's; save ``ddp.module.state_dict()`` to load into a bare model.

    ``no_sync()`` is a context in which backward only accumulates
    gradients locally (gradient accumulation); the first backward outside it
    averages the accumulated gradients.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float = 25.0, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs: Any) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a gradlab.nn.Module, "
                            f"got {type(module).__name__}")
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel needs a process group: call "
                               "gradlab.distributed.init_process_group() first")
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.world_size = dist.get_world_size()
        self.require_backward_grad_sync = True
        self._params = [p for p in module.parameters() if p.requires_grad]
        with no_grad():
            for t in [*module.parameters(), *(b for b in module.buffers() if b is not None)]:
                dist.broadcast(t, 0)
        self._buckets = self._make_buckets(bucket_cap_mb * 2**20)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._index = {id(p): i for b in self._buckets for i, p in enumerate(b.params)}
        self._launched = 0
        self._had_grad: dict[int, bool] = {}
        self._expecting = False
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad) for p in self._params] \
            if self.world_size > 1 else []

    def _make_buckets(self, capacity: float) -> list[_Bucket]:
        buckets: list[_Bucket] = []
        current: list[Tensor] = []
        size = 0
        for p in reversed(self._params):  # backward meets the last layers first
            nbytes = p.numel() * p.element_size()
            if current and (size + nbytes > capacity or p.dtype != current[0].dtype
                            or p.device != current[0].device):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # ------------------------------------------------------------- forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self._expecting and any(b.ready for b in self._buckets):
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new "
                "one: some parameters received no gradient in the last backward. Pass "
                "find_unused_parameters=True to DistributedDataParallel, or make sure every "
                "parameter contributes to the loss"
            )
        if self.broadcast_buffers and self.world_size > 1:
            with no_grad():
                for b in self.module.buffers():
                    if b is not None:
                        dist.broadcast(b, 0)
        out = self.module(*args, **kwargs)
        self._launched = 0
        self._had_grad = {}
        for b in self._buckets:
            b.ready.clear()
        self._expecting = self.world_size > 1 and self.require_backward_grad_sync \
            and is_grad_enabled()
        if self._expecting and self.find_unused_parameters:
            used = _leaves_reached(out)
            for p in self._params:
                if id(p) not in used:
                    self._mark_ready(p, had_grad=p.grad is not None)
        return out

    # ------------------------------------------------------------ backward
    def _on_grad(self, p: Tensor) -> None:
        if self._expecting:
            self._mark_ready(p, had_grad=True)

    def _mark_ready(self, p: Tensor, had_grad: bool) -> None:
        bucket = self._bucket_of[id(p)]
        self._had_grad[id(p)] = had_grad
        bucket.ready.add(self._index[id(p)])
        if len(bucket.ready) < len(bucket.params):
            return
        bucket.launch(self.world_size)
        self._launched += 1
        for other in self._buckets:  # let MPI move the earlier buckets along
            if other.work is not None:
                other.work.is_completed()
        if self._launched == len(self._buckets):
            for b in self._buckets:
                b.finish(self.world_size, self._had_grad)
            self._launched = 0
            self._expecting = False

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward inside this block accumulates gradients without
        averaging them; the next backward outside it averages the sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def _leaves_reached(outputs: Any) -> set[int]:
    """ids of the leaf tensors the graph of ``outputs`` reaches."""
    roots: list[Any] = []
    stack: list[Any] = [outputs]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            if item.grad_fn is not None:
                roots.append(item.grad_fn)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    reached: set[int] = set()
    seen: set[int] = set()
    while roots:
        node = roots.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for t in node.inputs or ():
            if t.grad_fn is None:
                reached.add(id(t))
            else:
                roots.append(t.grad_fn)
    return reached

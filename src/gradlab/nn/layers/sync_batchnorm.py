"""``SyncBatchNorm``: batch normalization with the statistics of the whole
batch across all ranks."""

from __future__ import annotations

from typing import Any

from gradlab import ops
from gradlab.autograd import no_grad
from gradlab.nn.layers.norm import _BatchNorm
from gradlab.nn.module import Module
from gradlab.tensor import Tensor

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch normalization (Ioffe and Szegedy 2015) whose training
    statistics are those of the global batch, all ranks' shares together
    (``torch.nn.SyncBatchNorm``; Peng et al. 2018, MegDet):

        mu = (1/M) sum_r sum_i x_ri,   var = (1/M) sum_r sum_i (x_ri - mu)^2,

    M being the global number of values per channel, each sum taken across
    ranks by a differentiable allreduce
    (:func:`gradlab.distributed.nn.all_reduce`), so that backward, too,
    sums its two per-channel terms across ranks. N ranks with shares of B/N
    then compute exactly what one process computes with batch norm on the
    batch of B. Running statistics move with the global mean and unbiased
    variance. Out of training, or in a world of one process, it is
    :class:`BatchNorm2d` (any input of 2 or more dimensions).
    """

    _dims = (2, 3, 4, 5)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group: Any = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        from gradlab import distributed as dist

        if not (self.training and dist.get_world_size() > 1):
            return super().forward(input)
        self._check_input(input)
        from gradlab.distributed.nn import all_reduce

        axes = (0,) + tuple(range(2, input.ndim))
        shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
        count = Tensor._make(_full_like(input.array, input.array.size // input.shape[1]))
        with no_grad():
            total = all_reduce(count)
        m = float(total.item())
        if m <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got {m:.0f} "
                             "across all ranks")
        mean = all_reduce(input.sum(dim=axes)) / m
        centered = input - mean.reshape(shape)
        var = all_reduce((centered * centered).sum(dim=axes)) / m
        out = centered * ops.rsqrt(var.reshape(shape) + self.eps)
        if self.weight is not None:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
                factor = 1.0 / float(self.num_batches_tracked.item()) if self.momentum is None \
                    else self.momentum
                self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
                self.running_var.mul_(1 - factor).add_(var.detach() * (factor * m / (m - 1)))
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm
        holding the same parameters and buffers (the same objects)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls.__new__(cls)
            Module.__init__(sync)
            sync.num_features, sync.eps, sync.momentum = module.num_features, module.eps, module.momentum
            sync.affine, sync.track_running_stats = module.affine, module.track_running_stats
            sync.process_group = process_group
            for name, p in module._parameters.items():
                sync.register_parameter(name, p)
            for name, b in module._buffers.items():
                sync.register_buffer(name, b)
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module


def _full_like(array: Any, value: float) -> Any:
    from gradlab import backend

    return backend.array_module(array).full((1,), value, dtype=array.dtype)

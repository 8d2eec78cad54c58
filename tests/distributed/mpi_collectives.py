"""Run under ``mpiexec -n N``: the collectives and DDP's modes, each rank
saving what it saw to ``<out>.<rank>.npz`` for the test to check."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import gradlab  # noqa: E402
import gradlab.distributed as dist  # noqa: E402
from gradlab import nn  # noqa: E402

dist.init_process_group()
rank, world = dist.get_rank(), dist.get_world_size()
seen = {"rank": np.array(rank), "world": np.array(world)}

for op in ("sum", "avg", "max", "min", "product"):
    t = gradlab.tensor([rank + 1.0, 10.0 * (rank + 1)], dtype=gradlab.float64)
    dist.all_reduce(t, op=op)
    seen[f"all_reduce_{op}"] = t.numpy()
t = gradlab.arange(6.0, dtype=gradlab.float64).reshape(2, 3).T * (rank + 1)  # not C-contiguous
work = dist.all_reduce(t, async_op=True)
work.wait()
seen["all_reduce_strided_async"] = t.numpy()
t = gradlab.full((3,), float(rank))
dist.broadcast(t, src=world - 1)
seen["broadcast_from_last"] = t.numpy()
gathered = [gradlab.zeros(2) for _ in range(world)]
dist.all_gather(gathered, gradlab.tensor([rank, -rank], dtype=gradlab.float32))
seen["all_gather"] = np.stack([g.numpy() for g in gathered])

# construction broadcasts rank 0's parameters
gradlab.manual_seed(rank)  # different weights on every rank before wrapping
model = nn.Linear(3, 2).double()
ddp = nn.parallel.DistributedDataParallel(model)
seen["weights_after_wrap"] = model.weight.detach().numpy().copy()

# no_sync: two local backwards, then one synced: the sum of all three averaged
x = gradlab.tensor(np.arange(9.0).reshape(3, 3) + rank, dtype=gradlab.float64)
with ddp.no_sync():
    ddp(x[:1]).sum().backward()
    seen["grad_inside_no_sync"] = model.weight.grad.numpy().copy()
    ddp(x[1:2]).sum().backward()
ddp(x[2:]).sum().backward()
seen["grad_after_sync"] = model.weight.grad.numpy().copy()


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.unused = nn.Linear(2, 1), nn.Linear(2, 1)

    def forward(self, x):
        return self.used(x)


for find in (True, False):
    net = TwoHeads().double()
    wrapped = nn.parallel.DistributedDataParallel(net, find_unused_parameters=find)
    inp = gradlab.ones(1, 2, dtype=gradlab.float64) * (rank + 1)
    message = ""
    try:
        for _ in range(2):
            wrapped(inp).sum().backward()
    except RuntimeError as error:
        message = str(error)
    seen[f"unused_error_{find}"] = np.array(message)
    seen[f"used_grad_{find}"] = net.used.weight.grad.numpy().copy()
    seen[f"unused_grad_is_none_{find}"] = np.array(net.unused.weight.grad is None)

np.savez(f"{sys.argv[1]}.{rank}.npz", **seen)
dist.destroy_process_group()

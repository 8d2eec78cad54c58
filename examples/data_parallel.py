"""Data-parallel training in a script of your own: run it alone, or as
``mpiexec -n 2 python examples/data_parallel.py`` (the README's example)."""

import gradlab
import gradlab.distributed as dist
from gradlab import nn

dist.init_process_group()  # rank and size from mpiexec; alone: a world of 1
rank, world = dist.get_rank(), dist.get_world_size()
model = nn.SyncBatchNorm.convert_sync_batchnorm(
    nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2)))
ddp = nn.parallel.DistributedDataParallel(model)  # rank 0's weights everywhere
opt = gradlab.optim.SGD(model.parameters(), lr=0.1)
gen = gradlab.Generator().manual_seed(0)  # every rank draws the same global batch
x, y = gradlab.randn(32, 8, generator=gen), gradlab.randint(0, 2, (32,), generator=gen)
mine = slice(rank * 32 // world, (rank + 1) * 32 // world)  # this rank's share
for _ in range(20):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(ddp(x[mine]), y[mine])
    loss.backward()  # gradients averaged over ranks in buckets, overlapping backward
    opt.step()
if rank == 0:
    print(f"{world} process(es), loss of rank 0's share after 20 steps: {loss.item():.4f}")
dist.destroy_process_group()

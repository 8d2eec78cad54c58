"""Run under ``mpiexec -n N``: every case of ``_cases`` trained data-parallel
(DistributedDataParallel, SyncBatchNorm); rank 0 saves the final state of
each case to the .npz file named by the first argument, after checking that
every rank ends with the same parameters."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import _cases  # noqa: E402

import gradlab  # noqa: E402
import gradlab.distributed as dist  # noqa: E402
from gradlab import nn  # noqa: E402

dist.init_process_group()
rank, world = dist.get_rank(), dist.get_world_size()
results = {}
for opt, bn, dt in _cases.CASES:
    dtype = getattr(gradlab, dt)
    model = nn.SyncBatchNorm.convert_sync_batchnorm(_cases.make_model(bn, dtype))
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0005)  # several buckets
    _cases.train(model, _cases.make_optimizer(opt, model.parameters()), _cases.data(dtype), rank, world,
                 forward=ddp)
    for name, value in model.state_dict().items():
        gathered = [gradlab.zeros_like(value) for _ in range(world)]
        dist.all_gather(gathered, value)
        for r, g in enumerate(gathered):
            if not np.array_equal(g.numpy(), value.numpy()):
                raise RuntimeError(f"{name} differs between rank {rank} and rank {r}")
        results[f"{_cases.key(opt, bn, dt)}/{name}"] = value.detach().numpy()
if rank == 0:
    np.savez(sys.argv[1], **results)
dist.destroy_process_group()

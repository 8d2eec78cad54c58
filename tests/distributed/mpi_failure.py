"""Run under ``mpiexec -n 2``: rank 1 raises while rank 0 waits for it in a
collective; the job must end at once with rank 1's error."""

import gradlab
import gradlab.distributed as dist

dist.init_process_group()
if dist.get_rank() == 1:
    raise ValueError("boom on rank 1")
dist.all_reduce(gradlab.ones(3))  # never completes: rank 1 is gone

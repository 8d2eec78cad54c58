"""Run under ``mpiexec -n 2``: rank 0 receives SIGINT while the ranks
agree, in their per-batch allreduce, whether any of them was asked to stop.
The request must not be lost: both ranks stop together at the next batch
and say at which one (``interrupted at step N``)."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))

import _trainer_case  # noqa: E402

import gradlab.distributed as dist  # noqa: E402
from gradlab.train import Interrupted, _distributed  # noqa: E402

dist.init_process_group()
trainer = _trainer_case.build(sync=True)
reduce_flags = _distributed.any_rank


def signal_during_the_reduce(*flags: bool) -> list[bool]:
    # the flags were read before the signal: it arrives while the ranks reduce them
    if dist.get_rank() == 0 and trainer.global_step == 2 and not trainer._interrupt_requested:
        signal.raise_signal(signal.SIGINT)  # the handler runs here, before the allreduce
    return reduce_flags(*flags)


_distributed.any_rank = signal_during_the_reduce
train, val = _trainer_case.loaders()
try:
    trainer.fit(train, val, epochs=3)
    print(f"rank {dist.get_rank()} finished at step {trainer.global_step}")
except Interrupted:
    print(f"rank {dist.get_rank()} interrupted at step {trainer.global_step}")
dist.destroy_process_group()

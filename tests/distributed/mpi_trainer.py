"""Run under ``mpiexec -n N``: ``_trainer_case`` trained by the Trainer for
the epochs given, optionally resumed from a checkpoint, saving the final
state, the history and a checkpoint (rank 0)."""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import _trainer_case  # noqa: E402

import gradlab.distributed as dist  # noqa: E402

out, epochs = sys.argv[1], int(sys.argv[2])
resume = sys.argv[3] if len(sys.argv) > 3 else None
dist.init_process_group()
trainer = _trainer_case.build(sync=True)
train, val = _trainer_case.loaders()
history = trainer.fit(train, val, epochs=epochs, resume_from=resume)
trainer.save_checkpoint(out + ".ckpt")
if dist.get_rank() == 0:
    np.savez(out + ".npz", **_trainer_case.state(trainer))
    with open(out + ".json", "w") as f:
        json.dump({k: list(map(float, history[k])) for k in ("loss", "accuracy", "val_loss")}, f)
dist.destroy_process_group()

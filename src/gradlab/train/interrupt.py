"""Stopping a run cleanly: Ctrl-C is turned into a request that the
Trainer honours at the end of the running batch, where the run state is
consistent and can be checkpointed."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

from gradlab.distributed import get_rank

__all__ = ["Interrupted", "SigintToFlag"]


class Interrupted(KeyboardInterrupt):
    """Raised by ``fit`` after an interrupt (Ctrl-C or
    :meth:`Trainer.request_interrupt`) stopped it at a batch boundary;
    ``checkpoint`` is the run checkpoint written then (None without a
    ``checkpoint_path``)."""

    def __init__(self, checkpoint: Path | None) -> None:
        where = f"; resume from {checkpoint}" if checkpoint else ""
        super().__init__(f"training interrupted{where}")
        self.checkpoint = checkpoint


class SigintToFlag:
    """While fitting, a first Ctrl-C asks the Trainer to stop at the end of
    the batch (so that the checkpoint it writes is consistent); a second
    one interrupts at once."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.previous: Any = None
        self.installed = False

    def __enter__(self) -> SigintToFlag:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.trainer._interrupt_requested:
            raise KeyboardInterrupt
        self.trainer._interrupt_requested = True
        if get_rank() == 0:  # one message for a distributed run, not one per rank
            sys.stderr.write("\ninterrupt: stopping at the end of this batch "
                             "(Ctrl-C again to abort at once)\n")

    def __exit__(self, *exc: Any) -> None:
        if self.installed:
            # None means a handler installed outside Python: the default is the closest
            signal.signal(signal.SIGINT, self.previous if self.previous is not None else signal.SIG_DFL)
            self.installed = False

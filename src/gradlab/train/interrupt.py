"""Stopping a run cleanly: Ctrl-C (SIGINT) and SIGTERM (what batch
schedulers and ``docker stop`` send) are turned into a request that the
Trainer honours at the end of the running batch, where the run state is
consistent and can be checkpointed."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

from gradlab.distributed import get_rank

__all__ = ["STOP_SIGNALS", "Aborted", "Interrupted", "SigintToFlag", "raise_aborted"]

# the signals that ask a run to stop at the end of the batch
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Raised by ``fit`` after an interrupt (Ctrl-C, SIGTERM or
    :meth:`Trainer.request_interrupt`) stopped it at a batch boundary;
    ``checkpoint`` is the run checkpoint written then (None without a
    ``checkpoint_path``), ``signal`` the signal that asked for it (SIGINT
    for :meth:`~Trainer.request_interrupt`)."""

    def __init__(self, checkpoint: Path | None, signum: int = signal.SIGINT) -> None:
        where = f"; resume from {checkpoint}" if checkpoint else ""
        super().__init__(f"training interrupted{where}")
        self.checkpoint = checkpoint
        self.signal = signum


class Aborted(KeyboardInterrupt):
    """A stop signal that could not wait for the end of a batch: a second
    Ctrl-C or SIGTERM while fitting, or one outside ``fit`` (while data is
    loaded or figures are drawn). ``signal`` is the signal received."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"aborted by {signal.Signals(signum).name}")
        self.signal = signum


def raise_aborted(signum: int, frame: Any) -> None:
    """A signal handler that raises :class:`Aborted` (``gradlab``'s command
    installs it for SIGTERM, so that a stop outside ``fit`` also cleans up)."""
    raise Aborted(signum)


class SigintToFlag:
    """While fitting, a first Ctrl-C or SIGTERM asks the Trainer to stop at
    the end of the batch (so that the checkpoint it writes is consistent); a
    second one interrupts at once (:class:`Aborted`)."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.previous: dict[int, Any] = {}
        self.received = signal.SIGINT

    def __enter__(self) -> SigintToFlag:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self.previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.trainer._interrupt_requested:
            raise Aborted(signum)
        self.trainer._interrupt_requested = True
        self.received = signum
        again = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        if get_rank() == 0:  # one message for a distributed run, not one per rank
            sys.stderr.write(
                f"\n{signal.Signals(signum).name}: stopping at the end of this batch "
                f"({again} again to abort at once)\n"
            )

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        for signum, previous in self.previous.items():
            # None means a handler installed outside Python: the default is the closest
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self.previous = {}
        if isinstance(error, Interrupted):
            error.signal = self.received

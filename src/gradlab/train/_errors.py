"""The errors of a training run that the ``gradlab`` command reports in one
line (a user's mistake or a run that went wrong, not a bug)."""

from __future__ import annotations

__all__ = ["ConfigError", "Diverged"]


class ConfigError(ValueError):
    """A configuration value that is not accepted; the message names the key
    and the accepted values."""


class Diverged(RuntimeError):
    """Training stopped because the loss or the gradient norm was not finite;
    the message names the epoch and batch, the likely cause and the remedy."""

"""The checks and changes behind ``gradlab resume``: a configuration edited
since the checkpoint, a diverged run, and a run extended to more epochs
(its learning-rate schedule planned again for the new length)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradlab import io
from gradlab.train import recipe
from gradlab.train._errors import ConfigError, Diverged

_MAY_CHANGE = ("threads", "device", "output")  # how a run is run, not what it computes


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_unchanged(saved: dict[str, Any], now: dict[str, Any], run_dir: Path) -> None:
    before, after = _flatten(saved), _flatten(now)
    keys = sorted(set(before) | set(after))
    differ = [k for k in keys if k not in _MAY_CHANGE and before.get(k) != after.get(k)]
    if not differ:
        return
    shown = ", ".join(f"{k} ({before.get(k)!r} in last.ckpt, {after.get(k)!r} in config.toml)"
                      for k in differ)
    hint = ""
    if "epochs" in differ:
        hint = f"; to train longer, restore epochs and use: gradlab resume {run_dir} --epochs N"
    raise ConfigError(
        f"{run_dir}/config.toml no longer matches the run's checkpoint: {shown}. A resumed run must "
        f"continue the configuration it was started with: restore these keys{hint}"
    )


def refuse_diverged(state: dict[str, Any], run_dir: Path) -> None:
    for saved in state["callbacks"]:
        where = saved.get("state", {}).get("where") if saved.get("type") == "TerminateOnNaN" else None
        if where:
            raise Diverged(
                f"the run in {run_dir} stopped because it diverged at {where}; resuming would diverge "
                "again: train a new run with a lower learning rate or --grad-clip"
            )


def replan_schedule(state: dict[str, Any], parts: recipe.Parts, config: dict[str, Any], path: Path) -> None:
    """Rewrite the checkpoint's schedule state for the new number of epochs:
    the entries that depend on the run's length (T_max, total_steps, the
    one-cycle phases) come from a schedule built for the new length, the
    progress (step count, last rates) stays."""
    scheduler = parts.trainer.scheduler
    if scheduler is None or state.get("scheduler") is None:
        return
    old_config = recipe.resolve_config(config, {"epochs": int(state["progress"]["epochs"])})
    old_optimizer = recipe._optimizer(old_config, parts.model)
    old, _ = recipe._schedule(old_config, old_optimizer, len(parts.train_loader))
    state["scheduler"] = _merge_length(state["scheduler"], old.state_dict(), scheduler.state_dict())
    state["progress"]["epochs"] = config["epochs"]
    if state.get("config") is not None:
        state["config"] = config
    io.save(state, path)


def _merge_length(saved: Any, old: Any, new: Any) -> Any:
    """``saved`` with every entry where a fresh schedule of the old length
    (``old``) and one of the new length (``new``) differ taken from ``new``."""
    if isinstance(saved, dict) and isinstance(old, dict) and isinstance(new, dict):
        return {k: _merge_length(v, old.get(k), new.get(k)) if k in new else v for k, v in saved.items()}
    if isinstance(saved, list) and isinstance(old, list) and isinstance(new, list) and len(old) == len(new) \
            and all(isinstance(v, dict) for v in saved):
        return [_merge_length(s, o, n) for s, o, n in zip(saved, old, new)]
    return new if old != new else saved

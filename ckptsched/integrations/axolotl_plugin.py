"""An Axolotl plugin that saves (and evaluates) exactly on the schedule the config asks for.

Add one line to an Axolotl YAML, nothing else changes:

    plugins:
      - ckptsched.integrations.axolotl.Plugin

`register(cfg)` reads the raw config, before Axolotl's normalize_config turns
`saves_per_epoch` / `evals_per_epoch` into float `save_steps` / `eval_steps` ratios:
`saves_per_epoch`, `save_steps`, `save_strategy`, `evals_per_epoch`, `eval_steps`,
`eval_strategy`, `val_set_size` / `test_datasets`, `save_first_step` (read as
`exact_rules` in integrations/axolotl.py does).  `add_callbacks_post_trainer` adds a
`ScheduleCallback` built from the Trainer's real geometry at the start of training, which
then sets should_save / should_evaluate exactly on the scheduled steps (epoch ends
included), whatever save_steps / eval_steps Axolotl passed to transformers.  It logs,
through a logger under "axolotl" so that it shows in Axolotl's output, one line saying what
it changed from what Axolotl would have done.

Left as Axolotl does it: the evaluation at step 0 (eval_on_start, on by default in Axolotl
0.21 when it evaluates; set `eval_on_start: false` to drop it), `save_strategy: best`,
logging.  `save_total_limit` is run by ScheduleCallback's retention as keep_last when the
plugin owns the saves (Axolotl's default of 4 included), else left to transformers.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
from axolotl.integrations.base import BasePlugin

from .._frameworks import transformers_interval
from .._numbers import to_bool
from ..schedule import MAX_MATERIALIZED, Schedule
from .axolotl import _framework, exact_rules
from .transformers import ScheduleCallback

__all__ = ["Plugin", "AxolotlScheduleCallback"]

# Axolotl's logging setup shows INFO records of loggers under "axolotl" only.
LOG = logging.getLogger("axolotl.integrations.ckptsched")

# The raw config keys that decide when Axolotl saves and evaluates.
KEYS = ("saves_per_epoch", "save_steps", "save_strategy", "evals_per_epoch", "eval_steps",
        "eval_strategy", "evaluation_strategy", "val_set_size", "test_datasets",
        "save_first_step", "eval_on_start", "save_total_limit", "num_epochs", "max_steps")
SHOWN = 8  # steps listed in the summary before "..."


class Plugin(BasePlugin):
    """Axolotl plugin: checkpoints and evaluations exactly on the configured schedule."""

    def __init__(self) -> None:
        super().__init__()
        self.settings: Optional[Dict[str, Any]] = None
        self.rules: Dict[str, Optional[dict]] = {}

    def register(self, cfg: dict) -> None:
        """Keep the raw settings (before normalize_config) and check them now, so that a
        bad value stops Axolotl before the model is loaded."""
        self.settings = {key: cfg.get(key) for key in KEYS if cfg.get(key) is not None}
        self.rules = plugin_rules(self.settings)

    def add_callbacks_post_trainer(self, cfg: Any, trainer: Any) -> List[Any]:
        if self.settings is None:
            raise RuntimeError("ckptsched's Axolotl plugin was not registered: list it under "
                               "`plugins:` in the config")
        if self.rules["save"] is None and self.rules["eval"] is None:
            LOG.info("ckptsched: the config asks for no fixed save or eval steps; "
                     "Axolotl's own behaviour is left unchanged")
            return []
        return [AxolotlScheduleCallback(self.settings, save=self.rules["save"],
                                        eval=self.rules["eval"])]


def plugin_rules(settings: Dict[str, Any]) -> Dict[str, Optional[dict]]:
    """{"save": Schedule keyword arguments or None, "eval": ...} for the plugin: the
    config's exact rules, with step 1 added to the saves when save_first_step is set."""
    rules = exact_rules(settings)
    if rules["save"] is not None and _flag(settings, "save_first_step"):
        rules["save"] = {**rules["save"], "first": True}
    return rules


class AxolotlScheduleCallback(ScheduleCallback):
    """ScheduleCallback that also logs, at the start of training, how its steps differ
    from the ones Axolotl (through transformers' arguments) would have used."""

    def __init__(self, settings: Dict[str, Any], **rules: Any) -> None:
        super().__init__(**rules)
        self.settings = dict(settings)
        self.summary: Optional[str] = None

    def on_train_begin(self, args, state, control, train_dataloader=None, **kwargs):
        control = super().on_train_begin(args, state, control,
                                         train_dataloader=train_dataloader, **kwargs)
        self.summary = summary(self.schedules, axolotl_steps(args, state, self.run),
                               self.settings)
        if state.is_world_process_zero:
            LOG.info(self.summary)
        return control


def axolotl_steps(args: Any, state: Any, run: Any) -> Dict[str, Any]:
    """{"save": FrameworkSchedule, "eval": FrameworkSchedule} of the steps the Trainer
    would have used with Axolotl's arguments (without the step 1 of save_first_step, which
    a callback adds; None where they cannot be told in advance:
    strategy "best", or epochs of unknown length).  The eval one has `on_start` set when
    the Trainer evaluates at step 0 (eval_on_start)."""
    total = state.max_steps
    result: Dict[str, Any] = {}
    for kind in ("save", "eval"):
        strategy = str(getattr(getattr(args, f"{kind}_strategy"), "value",
                               getattr(args, f"{kind}_strategy")))
        setting = getattr(args, f"{kind}_steps")
        if kind == "eval" and setting is None:
            setting = args.logging_steps  # transformers' fallback
        if strategy == "best" or (strategy == "epoch" and run.steps_per_epoch is None):
            result[kind] = None
            continue
        interval = None
        if strategy == "steps":
            interval = transformers_interval(total, setting) if setting < 1 else int(setting)
        result[kind] = _framework(strategy, setting, interval, run, total)
    if result["eval"] is not None:
        result["eval"].on_start = bool(getattr(args, "eval_on_start", False))
    return result


def summary(schedules: Dict[str, Schedule], theirs: Dict[str, Any],
            settings: Dict[str, Any]) -> str:
    """One line: what the plugin changed from Axolotl's own saves / evaluations."""
    parts = []
    for kind, noun in (("save", "saves"), ("eval", "evaluations")):
        schedule = schedules.get(kind)
        if schedule is None:
            continue
        other = theirs.get(kind)
        if kind == "save" and other is not None and _flag(settings, "save_first_step"):
            other = _StepList(sorted({1, *_head(other, MAX_MATERIALIZED)}), other)
        start = "0 (eval_on_start), " if other is not None and other.on_start else ""
        ours = start + _steps_text(schedule)
        if other is None:
            parts.append(f"{noun} at {ours} (Axolotl's cannot be told in advance)")
        elif _same(schedule, other):
            parts.append(f"{noun} at {ours}, as Axolotl would")
        else:
            other_text = ("0, " if other.on_start else "") + _steps_text(other)
            parts.append(f"{noun} at {ours} instead of Axolotl's {other_text}")
    if _flag(settings, "save_first_step") and "save" in schedules:
        parts.append("step 1 saved for save_first_step")
    limit = settings.get("save_total_limit")
    given = f"save_total_limit={limit if limit else 4}{'' if limit else ' (Axolotl default)'}"
    if "save" in schedules:  # the callback owns the saves, so it runs the limit as retention
        parts.append(f"{given} run as keep_last={limit if limit else 4} (a checkpoint is "
                     "deleted only once a newer save has completed)")
    else:
        parts.append(f"{given} left to transformers, which deletes all but the newest "
                     "checkpoints")
    return "ckptsched: " + "; ".join(parts)


def _flag(settings: Dict[str, Any], key: str) -> bool:
    value = settings.get(key)
    return value is not None and to_bool(value, f"config {key}")


class _StepList:
    """A short list of steps with the interface `summary` reads (len, last, iteration,
    steps, on_start): Axolotl's saves plus the step 1 of its save_first_step callback."""

    def __init__(self, steps: List[int], like: Any) -> None:
        self.steps, self.on_start = np.array(steps, dtype=np.int64), like.on_start
        self.last = steps[-1] if steps else None

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[int]:
        return iter(self.steps.tolist())


def _same(schedule: Schedule, other: Any) -> bool:
    """Whether the two have the same steps: compared one by one up to MAX_MATERIALIZED
    steps, by count, ends and the first steps beyond that."""
    count = len(schedule)
    if count != len(other) or schedule.last != other.last:
        return False
    if count <= MAX_MATERIALIZED:
        return bool(np.array_equal(schedule.steps, other.steps))
    return list(_head(schedule, 1000)) == list(_head(other, 1000))


def _head(schedule: Any, limit: int = SHOWN) -> Iterator[int]:
    for index, step in enumerate(schedule):
        if index >= limit:
            break
        yield int(step)


def _steps_text(schedule: Any) -> str:
    """'a, b, c, ..., z': the first SHOWN steps and the last."""
    count = len(schedule)
    if not count:
        return "none"
    shown = [str(step) for step in _head(schedule)]
    if count > len(shown):
        shown += ["...", str(schedule.last)] if count > len(shown) + 1 else [str(schedule.last)]
    return ", ".join(shown)

"""Axolotl configs: the exact schedules they ask for, and what Axolotl itself would do.

    from ckptsched.integrations.axolotl import schedules_from_config
    plan = schedules_from_config("config.yaml", num_examples=3470)
    plan.save.steps          # ckptsched: saves_per_epoch=8 over 4 epochs -> 32 saves
    plan.axolotl_save.steps  # Axolotl: save_steps = 1/(8*4) as a ratio -> 31 saves

Read from the config: `saves_per_epoch`, `save_steps` (int, or a ratio below 1),
`evals_per_epoch`, `eval_steps`, `save_strategy`, `eval_strategy`, `val_set_size`,
`test_datasets`, `num_epochs`, `max_steps`, `micro_batch_size`,
`gradient_accumulation_steps` (or `batch_size`).  Two YAML 1.1 readings are undone: an
unquoted `save_strategy: no` (or `off`), read as False, means "no"; a number like `1e-3`
(no dot), read as a string, means the float, as Axolotl's pydantic config takes it (a
note says so).  `num_examples` is the number of training examples per epoch (after the
validation split; with `sample_packing`, the number of packed sequences), `world_size` the
number of data-parallel ranks.

What Axolotl would do is emulated, float arithmetic included (`ckptsched._frameworks`):
`saves_per_epoch` becomes `save_steps = 1.0 / (saves_per_epoch * num_epochs)` when that is
below 1, which transformers' Trainer turns into an interval of `ceil(max_steps * ratio)`
steps, saving at its multiples and at the last step; without `save_steps` Axolotl saves
each epoch.  Evaluations follow the same path when there is an eval set, but without
eval_steps or eval_strategy (evals_per_epoch * num_epochs == 1 included) Axolotl never
evaluates; when it does, it also evaluates at step 0 unless `eval_on_start: false`
(`FrameworkSchedule.on_start`).  The step count is Axolotl's: the config's max_steps, or
`ceil(num_examples * num_epochs / batch_size)` in float (batch_size = micro_batch_size *
gradient_accumulation_steps * world_size), which the Trainer runs, and the exact schedules
follow that run (epochs of steps_per_epoch steps, stopped there).  save_total_limit
defaults to 4 (`plan_from_config`); save_first_step adds step 1 to Axolotl's saves; a
"steps" strategy without steps is transformers' save_steps 500 / eval_steps = logging_steps.
Axolotl decides load_best_model_at_end itself (`axolotl_load_best_model_at_end`), and the
configs its validation refuses raise ValueError (`axolotl_refusal`).  All of it is checked
against real Axolotl 0.21 on random configs (tests/integrations/test_axolotl_agreement.py;
docs/semantics.md, "Axolotl 0.21, as ckptsched check emulates it").

To make Axolotl itself save exactly on the schedule, list the plugin in the config:

    plugins:
      - ckptsched.integrations.axolotl.Plugin

(`Plugin` is imported on first use: it needs axolotl, torch and transformers; see
integrations/axolotl_plugin.py.)
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .. import _backend
from .._common import RULE_EVERY
from .._frameworks import (axolotl_save_steps, transformers_engine, transformers_interval,
                           transformers_refusal, transformers_total_steps)
from .._numbers import to_bool, to_int, to_rational
from .._text import decode_utf8
from ..plan import Plan
from ..retention import Retention
from ..run import PARTIAL_ACCUMULATION, Run
from ..schedule import MAX_MATERIALIZED, Schedule, _materialize, iter_steps

__all__ = ["AxolotlSchedules", "FrameworkSchedule", "axolotl_load_best_model_at_end",
           "axolotl_refusal", "exact_rules", "load_config",
           "plan_from_config", "schedules_from_config", "transformers_refusal_of"]


def __getattr__(name):
    # `plugins: [ckptsched.integrations.axolotl.Plugin]` in an Axolotl config: the plugin
    # needs axolotl, torch and transformers, so it is imported only when asked for.
    if name == "Plugin":
        from .axolotl_plugin import Plugin
        return Plugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

STRATEGIES = ("no", "steps", "epoch", "best")
AXOLOTL_SAVE_TOTAL_LIMIT = 4  # what Axolotl passes to transformers without save_total_limit


def load_config(cfg_or_yaml_path) -> dict:
    """An Axolotl config as a dict: a mapping is copied, a path is read with yaml.safe_load."""
    if isinstance(cfg_or_yaml_path, Mapping):
        return dict(cfg_or_yaml_path)
    if not isinstance(cfg_or_yaml_path, (str, os.PathLike)):
        raise TypeError(f"config must be a mapping or a path to a YAML file, got "
                        f"{type(cfg_or_yaml_path).__name__}")
    path = os.fspath(cfg_or_yaml_path)
    with open(path, "rb") as f:
        text = decode_utf8(f.read(), path)
    try:
        import yaml
    except ImportError:
        raise ImportError("reading a YAML config needs PyYAML: pip install 'ckptsched[yaml]' "
                          "(or pass the config as a dict)") from None
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None
    except RecursionError:
        raise ValueError(f"{path} is nested too deeply to read as YAML (Python's recursion "
                         "limit); an Axolotl config is a flat mapping") from None
    except ValueError as exc:  # PyYAML's int(): an integer over Python's 4300-digit limit
        raise ValueError(f"{path}: a value cannot be read: {exc}") from None
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, Mapping):
        raise ValueError(f"{path} must hold a YAML mapping of config keys, "
                         f"got {type(cfg).__name__}")
    return dict(cfg)


class FrameworkSchedule:
    """The steps another framework would save (evaluate) at: a read-only view.

    strategy  "steps", "epoch", "no" or "best" (decided by metrics: no fixed steps)
    setting   the value the framework was given (e.g. save_steps=0.03125), or None
    interval  transformers' interval in steps for strategy "steps"
    total_steps  the number of steps the framework's Trainer would run
    on_start  also an evaluation at step 0, before training (transformers' eval_on_start,
              which Axolotl 0.21 sets unless the config says eval_on_start: false); the
              steps of the schedule count from 1 and do not include it
    first     step 1 is among the steps because of Axolotl's save_first_step callback
    """

    __slots__ = ("strategy", "setting", "interval", "total_steps", "on_start", "first",
                 "_engine", "_steps")

    def __init__(self, strategy, setting, interval, total_steps, engine, on_start=False,
                 first=False):
        self.strategy, self.setting, self.interval = strategy, setting, interval
        self.total_steps, self._engine, self._steps = total_steps, engine, None
        self.on_start, self.first = on_start, first

    def should_save(self, step) -> bool:
        return self._engine.contains(step)

    def next_after(self, step):
        """The first step after `step` the framework would save at, or None after the last."""
        return self._engine.next_after(step)

    @property
    def steps(self):
        if self._steps is None:
            self._steps = _materialize(self._engine, "steps", None)
        return self._steps

    @property
    def last(self):
        return self._engine.last() or None

    def __len__(self):
        return self._engine.count(MAX_MATERIALIZED)

    def __iter__(self):
        return iter_steps(self._engine)

    def describe(self) -> str:
        text = self._describe()
        if self.first:
            text = f"step 1 (save_first_step) and {text}"
        return f"step 0 (eval_on_start), then {text}" if self.on_start else text

    def _describe(self) -> str:
        if self.strategy == "steps":
            return f"{self.setting!r} -> every {self.interval} steps and the last"
        if self.strategy == "epoch":
            return "each epoch end and the last step"
        if self.strategy == "best":
            return "when the eval metric improves (not known in advance)"
        return "never"

    def __repr__(self):
        return (f"FrameworkSchedule(strategy={self.strategy!r}, setting={self.setting!r}, "
                f"interval={self.interval!r}, total_steps={self.total_steps})")


@dataclass(frozen=True)
class AxolotlSchedules:
    """The exact schedules of an Axolotl config and what Axolotl would do instead.

    run           the exact Run (steps per epoch from the dataset geometry)
    save, eval    ckptsched Schedules (None: the config asks for none)
    axolotl_save, axolotl_eval   FrameworkSchedules: what Axolotl + transformers would do
    requests      {"save": "saves_per_epoch=8", ...}: what the config asked for
    notes         things the reader assumed or ignored, for people
    axolotl_load_best   the load_best_model_at_end Axolotl passes to transformers (its own
                  rule, not the config's value: see `axolotl_load_best_model_at_end`)
    load_best_dropped   why Axolotl passes load_best_model_at_end=false although the config
                  sets it true (a clause for people, also in `notes`), or None
    """

    run: Run
    save: Schedule | None
    eval: Schedule | None
    axolotl_save: FrameworkSchedule
    axolotl_eval: FrameworkSchedule
    requests: dict = field(default_factory=dict)
    notes: tuple = ()
    axolotl_load_best: bool = False
    load_best_dropped: str | None = None

    @property
    def diagnostics(self) -> tuple:
        return tuple(d for s in (self.save, self.eval) if s is not None for d in s.diagnostics)

    def differs(self, kind: str) -> bool:
        """Would Axolotl save (kind="save") or evaluate ("eval") at other steps?"""
        ours, theirs = getattr(self, kind), getattr(self, f"axolotl_{kind}")
        if theirs.strategy == "best":
            return ours is not None
        if ours is None:
            return len(theirs) > 0
        if len(ours) != len(theirs) or ours.last != theirs.last:
            return True
        if len(ours) > MAX_MATERIALIZED:
            raise ValueError(f"cannot tell whether Axolotl's {kind} steps differ: both "
                             f"schedules have {len(ours)} steps, more than the "
                             f"{MAX_MATERIALIZED} that can be compared one by one")
        return not np.array_equal(ours.steps, theirs.steps)


def schedules_from_config(cfg_or_yaml_path, num_examples, *, world_size=1,
                          partial_accumulation="step") -> AxolotlSchedules:
    """The exact save / eval schedules an Axolotl config asks for, and Axolotl's own.

    cfg_or_yaml_path      a dict, or a path to a YAML file (needs PyYAML)
    num_examples          training examples per epoch (per all ranks, before sharding)
    world_size            data-parallel ranks
    partial_accumulation  "step" (transformers >= 4.52) or "drop", see Run.from_dataset
    """
    cfg = load_config(cfg_or_yaml_path)
    notes: list[str] = []
    mbs = _cfg_int(cfg, "micro_batch_size", 1)
    accum = _grad_accum(cfg, mbs, notes)
    epochs_given = _yaml_float(cfg.get("num_epochs"), "num_epochs", notes)
    epochs_given = 1 if epochs_given is None else epochs_given
    to_rational(epochs_given, "config num_epochs")  # validate: positive, exact
    max_steps = _cfg_int(cfg, "max_steps", None)
    if partial_accumulation not in PARTIAL_ACCUMULATION:
        raise ValueError("partial_accumulation must be 'step' or 'drop', "
                         f"got {partial_accumulation!r}")
    run = Run.from_dataset(num_examples, mbs, accum, world_size, epochs=epochs_given,
                           max_steps=max_steps, partial_accumulation=partial_accumulation)
    hf_total = _axolotl_total_steps(cfg, run, num_examples, epochs_given, mbs, accum,
                                    world_size, max_steps, notes)
    if hf_total != run.total_steps:
        # the run Axolotl's Trainer really makes (and the plugin schedules over): epochs of
        # the same steps, stopped at Axolotl's max_steps
        run = Run.from_dataset(num_examples, mbs, accum, world_size, max_steps=hf_total,
                               partial_accumulation=partial_accumulation)
    if cfg.get("sample_packing"):
        notes.append("sample_packing: num_examples must be the number of packed sequences per "
                     "epoch, or the steps per epoch are wrong")
    if max_steps is not None and (cfg.get("saves_per_epoch") or cfg.get("evals_per_epoch")):
        notes.append(f"max_steps={max_steps}: Axolotl still divides by num_epochs="
                     f"{epochs_given!r} for saves_per_epoch / evals_per_epoch")

    axolotl_refusal(cfg)
    has_eval_set = bool(cfg.get("val_set_size")) or bool(cfg.get("test_datasets"))
    save, axolotl_save, save_request = _kind(cfg, "save", run, hf_total, epochs_given, True, notes)
    evaluate, axolotl_eval, eval_request = _kind(cfg, "eval", run, hf_total, epochs_given,
                                                 has_eval_set, notes)
    given = _given_steps(cfg, epochs_given)
    load_best = axolotl_load_best_model_at_end(cfg, axolotl_save, axolotl_eval, given)
    dropped = None
    if _flag(cfg, "load_best_model_at_end") and not load_best:
        dropped = _why_load_best_is_dropped(cfg, axolotl_save, axolotl_eval, given)
        notes.append(f"load_best_model_at_end: Axolotl passes false to transformers "
                     f"({dropped}): the best model is not loaded at the end")
    return AxolotlSchedules(run, save, evaluate, axolotl_save, axolotl_eval,
                            {"save": save_request, "eval": eval_request}, tuple(notes),
                            load_best, dropped)


def axolotl_refusal(cfg) -> None:
    """Raise the ValueError of Axolotl's config validation (0.21) for the save / eval settings
    it refuses at start-up: a save_steps / eval_steps with a strategy other than "steps",
    evals_per_epoch with an eval_strategy other than "steps", eval_steps or an eval_strategy
    (other than "no") with `val_set_size: 0` and no test_datasets, and save_strategy "best"
    without metric_for_best_model.  Values are read as Axolotl reads them: present and truthy."""
    for kind in ("save", "eval"):
        strategy, steps = cfg.get(f"{kind}_strategy"), cfg.get(f"{kind}_steps")
        if strategy and steps and strategy != "steps":
            raise ValueError(f"config {kind}_strategy={strategy!r} with {kind}_steps={steps!r}: "
                             f"Axolotl refuses this mismatch; set {kind}_strategy to 'steps' or "
                             f"remove {kind}_steps")
    strategy = cfg.get("eval_strategy")
    if cfg.get("evals_per_epoch") and strategy and strategy != "steps":
        raise ValueError(f"config evals_per_epoch={cfg.get('evals_per_epoch')!r} with "
                         f"eval_strategy={strategy!r}: Axolotl refuses it; leave eval_strategy "
                         "out or set it to 'steps'")
    if (cfg.get("val_set_size") == 0 and (cfg.get("eval_steps") or strategy)
            and not cfg.get("test_datasets") and strategy != "no"):
        raise ValueError("config val_set_size=0 with eval_steps or eval_strategy: Axolotl refuses "
                         "evaluations without an eval set; set a val_set_size or test_datasets")
    if cfg.get("save_strategy") == "best" and not cfg.get("metric_for_best_model"):
        raise ValueError("config save_strategy='best' needs metric_for_best_model (Axolotl "
                         "refuses it without one), e.g. metric_for_best_model: eval_loss")


def _given_steps(cfg, epochs):
    """{"save": value, "eval": value}: the save_steps / eval_steps Axolotl's config holds after
    normalize_config (the config's, or the ratio of saves_per_epoch / evals_per_epoch when
    below 1, evals only with an eval set), or None; never transformers' defaults."""
    has_eval_set = bool(cfg.get("val_set_size")) or bool(cfg.get("test_datasets"))
    given = {}
    for kind in ("save", "eval"):
        value = _yaml_float(cfg.get(f"{kind}_steps"), f"{kind}_steps", [])
        per_epoch = cfg.get(f"{kind}s_per_epoch")
        if per_epoch and (kind == "save" or has_eval_set):
            ratio = axolotl_save_steps(_cfg_int(cfg, f"{kind}s_per_epoch", None), epochs)
            value = ratio if ratio < 1 else value
        given[kind] = value
    return given


def axolotl_load_best_model_at_end(cfg, axolotl_save, axolotl_eval, given=None) -> bool:
    """The load_best_model_at_end Axolotl's trainer builder passes to transformers: the
    config's (its schema's default is false) or early_stopping_patience, but only with an eval
    set (a val_set_size or test_datasets, not both), save and eval steps both set, and
    save_steps % eval_steps == 0 in float; otherwise off, whatever the config says.
    `given`: the steps the config set ({"save": ..., "eval": ...}, see `_given_steps`); without
    it the settings of the two FrameworkSchedules are read."""
    wanted = _flag(cfg, "load_best_model_at_end") or bool(cfg.get("early_stopping_patience"))
    val_set_size, tests = cfg.get("val_set_size") or 0, bool(cfg.get("test_datasets"))
    eval_set = (not tests and val_set_size > 0) or (tests and val_set_size == 0)
    save_steps, eval_steps = axolotl_save.setting, axolotl_eval.setting
    if given is not None:  # the config's values, not transformers' defaults (500, logging_steps)
        save_steps, eval_steps = given["save"], given["eval"]
    return bool(wanted and eval_set and save_steps and eval_steps
                and axolotl_save.strategy == "steps" and axolotl_eval.strategy == "steps"
                and save_steps % eval_steps == 0)


def _why_load_best_is_dropped(cfg, axolotl_save, axolotl_eval, given) -> str:
    """The first condition of `axolotl_load_best_model_at_end` that a config asking for
    load_best_model_at_end fails, as a clause for people."""
    val_set_size, tests = cfg.get("val_set_size") or 0, bool(cfg.get("test_datasets"))
    if not ((not tests and val_set_size > 0) or (tests and val_set_size == 0)):
        return "it needs an eval set: a val_set_size or test_datasets, not both"
    save_steps, eval_steps = given["save"], given["eval"]
    if not (save_steps and eval_steps and axolotl_save.strategy == "steps"
            and axolotl_eval.strategy == "steps"):
        return ("it needs both save_steps and eval_steps (saves_per_epoch / evals_per_epoch "
                "set them when below one per run) and the 'steps' strategy for both")
    return (f"it needs save_steps a multiple of eval_steps in float, and save_steps="
            f"{save_steps!r} % eval_steps={eval_steps!r} = {save_steps % eval_steps!r}")


def _axolotl_total_steps(cfg, run, num_examples, epochs, mbs, accum, world_size, max_steps,
                         notes):
    """The max_steps Axolotl passes to the Trainer (which runs exactly that many steps):
    the config's max_steps, or calculate_total_num_steps' ceil(num_examples * num_epochs /
    batch_size) in float, batch_size being the config's (or micro_batch_size *
    gradient_accumulation_steps) times the world size; with sample_packing Axolotl estimates
    it from token counts instead, and transformers' count ceil(num_epochs * steps_per_epoch)
    stands in for it."""
    if max_steps is not None:
        return run.total_steps
    if cfg.get("sample_packing"):
        total = transformers_total_steps(epochs, run.steps_per_epoch)
        how = (f"ceil({float(epochs)!r} * {run.steps_per_epoch}) in float = {total} steps "
               "(transformers' count; Axolotl's estimate with sample_packing is not modelled)")
    else:
        batch = (_cfg_int(cfg, "batch_size", None) or mbs * accum) * world_size
        total = max(1, math.ceil(num_examples * float(epochs) / batch))
        how = (f"ceil({num_examples} * {float(epochs)!r} / {batch}) in float = {total} steps "
               "(examples x epochs / batch size)")
    if total != run.total_steps:
        notes.append(f"Axolotl runs {how}; {run.epochs} epochs of "
                     f"{run.steps_per_epoch} steps would be {run.total_steps}: the schedules "
                     f"follow the {total} steps the Trainer runs")
    return total


def plan_from_config(cfg_or_yaml_path, num_examples, *, world_size=1, partial_accumulation="step",
                     checkpoint_bytes=None, disk_budget=None, schedules=None) -> Plan:
    """A `Plan` of an Axolotl config: its exact save / eval schedules, `save_total_limit` as
    keep_last (Axolotl's default of 4 when unset or 0), and `load_best_model_at_end` (which brings BEST_NOT_SAVED and HF_REFUSED).

    schedules   the AxolotlSchedules of the same config and arguments, when already computed
    Without an eval set load_best_model_at_end is left out of the plan (there is nothing to
    choose the best from); `transformers_refusal_of` says what transformers makes of it.
    """
    cfg = load_config(cfg_or_yaml_path)
    if schedules is None:
        schedules = schedules_from_config(cfg, num_examples, world_size=world_size,
                                          partial_accumulation=partial_accumulation)
    # Axolotl's trainer builder passes `save_total_limit or 4`: unset (or 0) keeps 4
    limit = cfg.get("save_total_limit")
    limit = None if limit is None else to_int(limit, "config save_total_limit", minimum=0)
    keep = Retention(keep_last=limit or AXOLOTL_SAVE_TOTAL_LIMIT)
    load_best = _load_best(cfg) and schedules.eval is not None
    return Plan(schedules.run, save=schedules.save, eval=schedules.eval, keep=keep,
                checkpoint_bytes=checkpoint_bytes, disk_budget=disk_budget,
                load_best_model_at_end=load_best)


def transformers_refusal_of(cfg_or_yaml_path, schedules) -> str | None:
    """The error transformers' TrainingArguments would raise at start-up for what Axolotl
    passes it (strategies and save_steps / eval_steps of `schedules`, and the
    load_best_model_at_end Axolotl decides: `schedules.axolotl_load_best`), or None when it
    would start."""
    cfg = load_config(cfg_or_yaml_path)
    save, evaluate = schedules.axolotl_save, schedules.axolotl_eval
    return transformers_refusal(
        save_steps=save.setting if save.setting is not None else 500,
        eval_steps=evaluate.setting, load_best_model_at_end=schedules.axolotl_load_best,
        save_strategy=save.strategy, eval_strategy=evaluate.strategy,
        logging_steps=_axolotl_logging_steps(cfg, save.total_steps))


def _load_best(cfg) -> bool:
    value = cfg.get("load_best_model_at_end")
    return False if value is None else to_bool(value, "config load_best_model_at_end")


# ---- one kind (save or eval) ---------------------------------------------------------

def _settings(cfg, kind, notes):
    """(per_epoch, steps, strategy) of kind "save" / "eval", validated."""
    per_epoch_key, steps_key = f"{kind}s_per_epoch", f"{kind}_steps"
    per_epoch = _cfg_int(cfg, per_epoch_key, None)
    steps = _yaml_float(cfg.get(steps_key), steps_key, notes)
    strategy_key = f"{kind}_strategy"
    if kind == "eval" and cfg.get(strategy_key) is None and "evaluation_strategy" in cfg:
        strategy_key = "evaluation_strategy"  # the older name
    strategy = _strategy(cfg.get(strategy_key), strategy_key)
    if per_epoch is not None and steps is not None:
        raise ValueError(f"config {per_epoch_key} and {steps_key} are mutually exclusive "
                         f"(Axolotl rejects both), got {per_epoch_key}={per_epoch!r}, "
                         f"{steps_key}={steps!r}")
    if steps is not None:
        steps = _steps_setting(steps, steps_key)
    return per_epoch, steps, strategy


def _kind(cfg, kind, run, hf_total, epochs_given, enabled, notes):
    """(exact Schedule or None, FrameworkSchedule, request text) for kind "save" / "eval"."""
    per_epoch_key = f"{kind}s_per_epoch"
    per_epoch, steps, strategy = _settings(cfg, kind, notes)

    if not enabled:
        if per_epoch is not None or steps is not None or strategy not in (None, "no"):
            notes.append(f"{kind}: no val_set_size or test_datasets, so Axolotl never "
                         "evaluates; the eval settings are ignored")
        return None, _framework("no", None, None, run, hf_total), "no eval set"

    # What Axolotl passes to transformers (normalize_config, then the trainer builder).
    hf_steps = steps
    if per_epoch is not None:
        ratio = axolotl_save_steps(per_epoch, epochs_given)
        if ratio < 1.0:
            hf_steps = ratio
        else:
            notes.append(f"{kind}: {per_epoch_key}={per_epoch} with num_epochs={epochs_given!r} "
                         f"gives {kind}_steps = {ratio!r} >= 1, which Axolotl does not use")
    if hf_steps is None and strategy == "steps":
        # no save_steps / eval_steps: transformers' default save_steps of 500, and for
        # evaluations its fallback to logging_steps (Axolotl's default: see below)
        hf_steps = 500 if kind == "save" else _axolotl_logging_steps(cfg, hf_total)
        notes.append(f"{kind}_strategy=steps without {kind}_steps: transformers uses "
                     f"{kind}_steps={hf_steps}" + (" (logging_steps)" if kind == "eval" else ""))
    first = kind == "save" and _flag(cfg, "save_first_step")
    if hf_steps is not None:
        interval = (transformers_interval(hf_total, hf_steps) if hf_steps < 1 else hf_steps)
        theirs = _framework("steps", hf_steps, interval, run, hf_total, first)
    elif kind == "eval" and strategy is None:
        # Axolotl passes no eval_strategy: transformers' default "no" (never evaluates)
        theirs = _framework("no", None, None, run, hf_total)
        if per_epoch is not None:
            notes.append(f"eval: Axolotl drops evals_per_epoch={per_epoch} here and, without "
                         "eval_steps or eval_strategy, never evaluates")
    else:
        theirs = _framework(strategy or "epoch", None, None, run, hf_total, first)
    if kind == "eval" and theirs.strategy != "no":
        on_start = cfg.get("eval_on_start")
        theirs.on_start = True if on_start is None else to_bool(on_start,
                                                                 "config eval_on_start")

    request, rule = _exact_rule(kind, per_epoch, steps, strategy)
    if strategy == "best" and rule is None:
        notes.append(f"{kind}_strategy=best depends on eval metrics: no fixed steps")
    ours = None if rule is None else Schedule(run, **rule)
    return ours, theirs, request


def _exact_rule(kind, per_epoch, steps, strategy):
    """(request text, Schedule keyword arguments or None) of what the config asks for."""
    per_epoch_key, steps_key = f"{kind}s_per_epoch", f"{kind}_steps"
    if per_epoch is not None:
        return f"{per_epoch_key}={per_epoch}", {"saves_per_epoch": per_epoch}
    if steps is not None and steps < 1:
        return f"{steps_key}={steps!r} (a ratio of the run)", {"ratio": steps}
    if steps is not None:
        return f"{steps_key}={steps}", {"every": steps}
    if strategy in ("no", "best"):
        return f"{kind}_strategy={strategy}", None
    if kind == "eval" and strategy is None:
        return "no evals_per_epoch, eval_steps or eval_strategy", None
    request = f"{kind}_strategy={strategy or 'epoch'}" + ("" if strategy else " (the default)")
    return request, {"every": "1ep"}


def exact_rules(cfg_or_yaml_path) -> dict:
    """{"save": rule, "eval": rule}: the Schedule keyword arguments (e.g.
    {"saves_per_epoch": 3}) of what the config asks for exactly, independent of the dataset,
    or None where it asks for no fixed steps (strategy "no" or "best", or no eval set for
    "eval").  Raises ValueError / TypeError for the settings `schedules_from_config` rejects."""
    cfg = load_config(cfg_or_yaml_path)
    has_eval_set = bool(cfg.get("val_set_size")) or bool(cfg.get("test_datasets"))
    rules = {}
    for kind, enabled in (("save", True), ("eval", has_eval_set)):
        per_epoch, steps, strategy = _settings(cfg, kind, [])
        rules[kind] = _exact_rule(kind, per_epoch, steps, strategy)[1] if enabled else None
    return rules


def _framework(strategy, setting, interval, run, hf_total, first=False):
    """The FrameworkSchedule of one strategy; `first`: also step 1 (Axolotl's
    save_first_step callback, whatever the strategy)."""
    S = run.steps_per_epoch
    if strategy == "steps":
        engine = transformers_engine(hf_total, interval)
    elif strategy == "epoch":
        # on_epoch_end: each epoch end, and the last step when max_steps ends an epoch early
        engine = _backend.impl.Engine([(RULE_EVERY, S, S, hf_total)], [hf_total])
    else:  # "no", or "best": no steps known in advance
        engine = _backend.impl.Engine([], [])
    if first and not engine.contains(1):
        engine = _backend.impl.Engine(engine.rules, [1, *(s for s in engine.extra if s > 1)])
    return FrameworkSchedule(strategy, setting, interval, hf_total, engine, first=first)


def _axolotl_logging_steps(cfg, total_steps):
    """The logging_steps Axolotl passes: the config's, or max(min(int(0.005 * max_steps),
    10), 1)."""
    given = _cfg_int(cfg, "logging_steps", None)
    if given is not None:
        return given
    return max(min(int(0.005 * total_steps), 10), 1)


def _flag(cfg, key):
    value = cfg.get(key)
    return False if value is None else to_bool(value, f"config {key}")


# ---- config values -------------------------------------------------------------------

def _cfg_int(cfg, key, default):
    value = cfg.get(key)
    if value is None:
        return default
    return to_int(value, f"config {key}")


def _grad_accum(cfg, mbs, notes):
    accum = _cfg_int(cfg, "gradient_accumulation_steps", None)
    batch = _cfg_int(cfg, "batch_size", None)
    if accum is not None and batch is not None:
        raise ValueError(f"config gradient_accumulation_steps={accum} and batch_size={batch}: "
                         "set only one (Axolotl rejects both)")
    if batch is None:
        return 1 if accum is None else accum
    # Axolotl: gradient_accumulation_steps = batch_size // micro_batch_size
    accum, rest = divmod(batch, mbs)
    if accum < 1:
        raise ValueError(f"config batch_size={batch} is smaller than micro_batch_size={mbs}")
    if rest:
        notes.append(f"batch_size={batch} is not a multiple of micro_batch_size={mbs}: Axolotl "
                     f"uses gradient_accumulation_steps={accum}")
    return accum


# A number in exponent form without a dot (1e-3, 5E4): YAML 1.1 (PyYAML) reads it as a
# string; Axolotl's pydantic config turns such a string into the float it spells.
_EXPONENT_FORM = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")


def _yaml_float(value, key, notes):
    """The value of a float-typed config key (num_epochs, save_steps, eval_steps), with a
    string like '1e-3' read as the float Axolotl would make of it (and a note saying so)."""
    if isinstance(value, str) and len(value) <= 100 and _EXPONENT_FORM.fullmatch(value.strip()):
        number = float(value)
        notes.append(f"{key}: YAML read {value!r} as a string (a YAML 1.1 float needs a dot, "
                     f"as in 1.0e-3); Axolotl reads it as the number {number!r}, and so does "
                     "ckptsched")
        return number
    return value


def _strategy(value, key):
    """save_strategy / eval_strategy: one of STRATEGIES or None.  YAML 1.1 (PyYAML) reads an
    unquoted `no` or `off` as False: that is "no".  True (`yes`, `on`) means nothing."""
    if value is False:
        return "no"
    if value is None or (isinstance(value, str) and value in STRATEGIES):
        return value
    hint = ("; YAML reads an unquoted yes / on / true as True: write one of these words"
            if value is True else "")
    raise ValueError(f"config {key} must be one of {', '.join(STRATEGIES)}, got {value!r}{hint}")


def _steps_setting(value, key):
    """save_steps / eval_steps: an int >= 1, or a ratio 0 < r < 1 of the run (a float)."""
    if isinstance(value, float) and 0 < value < 1:
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # transformers accepts 50.0 as 50
    if isinstance(value, float):
        raise ValueError(f"config {key}={value!r} must be an integer number of steps, or a "
                         "ratio between 0 and 1 of the run")
    return to_int(value, f"config {key}")

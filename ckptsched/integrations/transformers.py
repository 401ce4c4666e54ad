"""transformers integration: `ScheduleCallback` takes the Trainer's save / evaluate / log
decisions from ckptsched rules.

    from ckptsched.integrations.transformers import ScheduleCallback

    trainer = Trainer(model, args, train_dataset=..., eval_dataset=...,
                      callbacks=[ScheduleCallback(save={"saves_per_epoch": 8},
                                                  eval={"count": 10},
                                                  log={"every": 10})])

Each rule is a dict of Schedule arguments, a factory `run -> Schedule`, a ready Schedule
(for the same run), or None to leave that decision to the Trainer.  At `on_train_begin`
the callback builds a `Run` from the Trainer's real geometry: optimizer steps per epoch
from `len(train_dataloader)` and `gradient_accumulation_steps` as the installed
transformers counts them, total steps from `state.max_steps`, epochs from the arguments.
It logs each schedule's diagnostics, and from then on sets `control.should_save` /
`should_evaluate` / `should_log` exactly on the scheduled steps: once per step, at the
final step when the schedule has it (final=True, the default) and not otherwise.  For the
decisions it owns it overrides what the Trainer's own strategies (`save_strategy`,
`save_steps`, ...) would decide, so those arguments do not matter; keep it after
`DefaultFlowCallback` (where `callbacks=[...]` puts it).  Stopping is left to the Trainer.

keep=Retention(keep_last=..., keep_every=..., keep_best=...) deletes checkpoints after each
completed save, decided from the checkpoint-* folders on disk (resume-safe), on the process
that saves; a save_total_limit becomes keep_last and transformers' own rotation is off.
With load_best_model_at_end=True the save schedule also has every eval step and the best
checkpoint is kept, so the Trainer loads it at the end.  The Plan of it all
(`callback.plan`) logs its diagnostics (BEST_NOT_SAVED, KEEP_NEVER, ...) at the start, and
each TrainingArguments value the schedules replace is reported once (OVERRIDDEN).

The schedule is a pure function of the global step, so resuming from a checkpoint
continues it.  Each checkpoint folder gets a small `ckptsched.json` recording the run and
schedules; a resumed run whose geometry differs logs RESUME_MISMATCH.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple, Union

import numpy as np
import transformers
from packaging.version import Version
from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, SaveStrategy

from ..diagnostics import WARNING, Diagnostic, logger, make, report
from ..plan import Plan
from ..retention import Retention
from ..run import Run
from ..schedule import Schedule
from . import (ScheduleSpec, build_schedule, check_spec, check_unbound_retention, describe,
               optimizer_steps_per_epoch, schedule_on_run)

if TYPE_CHECKING:
    from transformers import TrainerControl, TrainerState, TrainingArguments

__all__ = ["ScheduleCallback", "partial_accumulation", "trainer_run"]

#: (rule name, TrainerControl flag)
KINDS = (("save", "should_save"), ("eval", "should_evaluate"), ("log", "should_log"))
RECORD = "ckptsched.json"
#: The TrainingArguments each decision overrides when the callback owns it.
OVERRIDDEN_ARGUMENTS = {"save": ("save_strategy", "save_steps"),
                        "eval": ("eval_strategy", "eval_steps"),
                        "log": ("logging_strategy", "logging_steps", "logging_first_step")}
_CHECKPOINT = re.compile(rf"^{PREFIX_CHECKPOINT_DIR}-(\d+)$")


def partial_accumulation(version: str = transformers.__version__) -> str:
    """How transformers `version` counts a trailing partial gradient accumulation in its
    steps per epoch: "step" from 4.52 on (ceil), "drop" before (floor, at least 1)."""
    return "step" if Version(version).release >= (4, 52) else "drop"


def trainer_run(args: TrainingArguments, state: TrainerState,
                train_dataloader: Any) -> Tuple[Run, List[Diagnostic]]:
    """(Run, diagnostics) of a Trainer at `on_train_begin`: the geometry it will really run.

    Total steps are `state.max_steps` (the Trainer stops there).  Steps per epoch come from
    the (per-process) `len(train_dataloader)` and `args.gradient_accumulation_steps`;
    without a length (an IterableDataset) the run has no epochs.  `samples_per_step` is
    set when the dataset's size reproduces the same steps per epoch.
    """
    total = state.max_steps
    try:
        batches = len(train_dataloader)
    except TypeError:
        batches = 0
    if not batches:
        return Run(max_steps=total), []
    accum = args.gradient_accumulation_steps
    mode = partial_accumulation()
    try:
        per_epoch = optimizer_steps_per_epoch(batches, accum, mode)
    except ValueError:  # "drop" with fewer batches than accum: transformers takes 1
        per_epoch = 1
    epochs = None if args.max_steps > 0 else args.num_train_epochs
    samples = _samples_per_step(args, state, train_dataloader, per_epoch, mode)
    run = Run(per_epoch, epochs, max_steps=total, samples_per_step=samples)
    diagnostics: List[Diagnostic] = []
    if epochs is not None:
        exact = Run(per_epoch, epochs).total_steps
        if exact != total:
            diagnostics.append(make(
                "HF_MISMATCH",
                f"transformers computes max_steps = ceil({float(epochs)!r} * {per_epoch}) in "
                f"float = {total}, but {run.epochs} epochs of {per_epoch} steps are exactly "
                f"{exact} steps; the Trainer runs {total} steps and the schedules follow it; "
                "give an exact number of epochs or max_steps to avoid the difference",
                framework="transformers", hf_total_steps=total, total_steps=exact))
    return run, diagnostics


def _samples_per_step(args: TrainingArguments, state: TrainerState, train_dataloader: Any,
                      per_epoch: int, mode: str) -> Union[int, Fraction, None]:
    try:
        examples = len(train_dataloader.dataset)
        batch = state.train_batch_size or args.per_device_train_batch_size
        run = Run.from_dataset(examples, batch, args.gradient_accumulation_steps,
                               args.world_size, max_steps=1, drop_last=args.dataloader_drop_last,
                               partial_accumulation=mode)
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None
    if run.steps_per_epoch != per_epoch:
        return None
    samples = run.samples_per_step  # from_dataset always sets it
    assert samples is not None
    return int(samples) if samples.denominator == 1 else samples


def checkpoint_steps(output_dir: str) -> List[int]:
    """The steps of the `checkpoint-N` folders in `output_dir`, sorted (none when it is missing)."""
    try:
        names = os.listdir(output_dir)
    except OSError:
        return []
    steps = []
    for name in names:
        match = _CHECKPOINT.match(name)
        if match and os.path.isdir(os.path.join(output_dir, name)):
            steps.append(int(match.group(1)))
    return sorted(steps)


def _step_of(folder: Optional[str]) -> Optional[int]:
    """N of a `.../checkpoint-N` path, or None."""
    if not folder:
        return None
    match = _CHECKPOINT.match(os.path.basename(os.path.normpath(folder)))
    return int(match.group(1)) if match else None


def best_metric_key(args: TrainingArguments) -> Optional[str]:
    """The log key transformers compares for the best model ("eval_" + metric_for_best_model)."""
    metric = args.metric_for_best_model
    if metric is None:
        return None
    return metric if metric.startswith("eval_") else f"eval_{metric}"


def _metrics_by_step(state: TrainerState, key: str) -> Dict[int, float]:
    """{step: value} of `key` in the Trainer's log history (restored from the checkpoint on
    resume, so it covers the evaluations before the resume too); a later value wins.  An
    evaluation at step 0 (eval_on_start) is left out: no checkpoint is ever saved there."""
    metrics: Dict[int, float] = {}
    for entry in state.log_history:
        if key in entry and "step" in entry and int(entry["step"]) >= 1:
            metrics[int(entry["step"])] = entry[key]
    return metrics


def _default(args: TrainingArguments, name: str) -> Any:
    """The dataclass default of TrainingArguments field `name` (a sentinel when there is none)."""
    if not dataclasses.is_dataclass(args) or isinstance(args, type):
        return _NO_DEFAULT
    for field in dataclasses.fields(type(args)):
        if field.name == name:
            if field.default is not dataclasses.MISSING:
                return field.default
            if field.default_factory is not dataclasses.MISSING:
                return field.default_factory()
    return _NO_DEFAULT


_NO_DEFAULT = object()
_VERB = {"save": "save", "eval": "evaluate", "log": "log"}


def _plain(value: Any) -> Any:
    """An enum argument ('steps', 'epoch', ...) as its string value; anything else as is."""
    return getattr(value, "value", value)


def _union(save: Optional[Schedule], eval_: Schedule) -> Schedule:
    """A save schedule holding every save step and every eval step, for load_best_model_at_end."""
    steps = set(eval_.steps.tolist())
    if save is not None:
        steps.update(save.steps.tolist())
    return Schedule._build(eval_.run, {"at": sorted(steps), "final": False}, log=False)


class ScheduleCallback(TrainerCallback):
    """A TrainerCallback whose save / evaluate / log decisions come from ckptsched rules.

    save, eval, log: a dict of Schedule arguments, a factory `run -> Schedule`, a Schedule
    for the same run, or None (the Trainer decides).  After `on_train_begin`, `run`,
    `schedules` ({"save": Schedule, ...}) and `diagnostics` describe what was built.
    keep: a `Retention` (needs save=): after each completed save the process that saves
    deletes the checkpoint-* folders in output_dir that `keep.to_delete` lets go, decided from
    the folders on disk (so a resume continues it); never the newest one, never
    `state.best_model_checkpoint`.  A save_total_limit in the arguments becomes
    keep_last (keep= wins when both are given) and the Trainer's own rotation is off.
    With load_best_model_at_end=True and eval= the callback also saves at every eval step and
    keeps the best checkpoint (keep_best=1 by metric_for_best_model), so the Trainer can
    load it at the end.  `plan` is the Plan of the schedules and the retention (its
    diagnostics are logged and added to `diagnostics`); `deleted` lists the deleted steps.
    TrainingArguments the schedules replace (save_steps, eval_steps, logging_steps, their
    strategies, save_total_limit) are reported once each as OVERRIDDEN; logging_first_step
    is kept as the log schedule's first=True (a dict log= rule).
    record=True writes `ckptsched.json` into each checkpoint folder (rank 0) so that a
    resumed run can tell when its geometry changed.
    """

    run: Optional[Run]
    schedules: Dict[str, Schedule]
    diagnostics: Tuple[Diagnostic, ...]
    plan: Optional[Plan]

    def __init__(self, save: Optional[ScheduleSpec] = None, eval: Optional[ScheduleSpec] = None,
                 log: Optional[ScheduleSpec] = None, *, keep: Optional[Retention] = None,
                 record: bool = True) -> None:
        self._specs = {"save": check_spec(save, "save"), "eval": check_spec(eval, "eval"),
                       "log": check_spec(log, "log")}
        if all(spec is None for spec in self._specs.values()):
            raise ValueError("ScheduleCallback needs at least one of save=, eval=, log=")
        if not isinstance(record, bool):
            raise TypeError(f"record must be True or False, got {record!r}")
        if keep is not None:
            check_unbound_retention(keep)
            if self._specs["save"] is None:
                raise ValueError("keep= deletes the checkpoints the callback saves, but save= is "
                                 "None; pass save= as well (or use save_total_limit without "
                                 "the callback)")
        self._record = record
        self._keep_given = keep
        self.run = None
        self.schedules = {}
        self.diagnostics = ()
        self.plan = None
        self.deleted: List[int] = []
        self._keep: Optional[Retention] = None
        self._metric_key: Optional[str] = None
        self._restore: Dict[str, Any] = {}
        self._load_best = False
        self._last_step = 0
        self._fired: Dict[str, int] = {}
        # (TrainerControl flag, kind, the schedule's should_save) of each owned decision
        self._decisions: Tuple[Tuple[str, str, Any], ...] = ()
        self._warned_epoch = False
        self._training = False
        self._start_step = 0
        self._warned_foreign: Set[str] = set()

    # ---- events ---------------------------------------------------------------------

    def on_train_begin(self, args: TrainingArguments, state: TrainerState,
                       control: TrainerControl, train_dataloader: Any = None,
                       **kwargs: Any) -> TrainerControl:
        if self._specs["save"] is not None and _plain(args.save_strategy) == "best":
            raise ValueError(
                "ScheduleCallback(save=...) cannot be combined with save_strategy='best', "
                "which lets the Trainer overwrite the save decision after each evaluation; "
                "use save_strategy='steps' or 'no'")
        load_best = bool(getattr(args, "load_best_model_at_end", False))
        if load_best and self._specs["save"] is not None and self._specs["eval"] is None:
            raise ValueError(
                "ScheduleCallback(save=...) with load_best_model_at_end=True needs eval= too: "
                "the best model is chosen among the evaluations, and the callback saves at "
                "every eval step so that it is on disk; pass eval= (e.g. {'count': 10})")
        run, diagnostics = trainer_run(args, state, train_dataloader)
        report(diagnostics, strict=False)
        specs = dict(self._specs)
        log_spec = specs["log"]
        if getattr(args, "logging_first_step", False) and isinstance(log_spec, dict) and "first" not in log_spec:
            specs["log"] = {**log_spec, "first": True}  # logging_first_step=True is kept
        schedules = {kind: build_schedule(spec, run, kind)
                     for kind, spec in specs.items() if spec is not None}
        built = tuple(d for schedule in schedules.values() for d in schedule.diagnostics)
        if load_best and "eval" in schedules:
            schedules["save"] = self._saves_with_evals(schedules.get("save"), schedules["eval"])
        self.run, self.schedules = run, schedules
        self._decisions = tuple((flag, kind, schedules[kind].should_save)
                                for kind, flag in KINDS if kind in schedules)
        self.diagnostics = tuple(diagnostics) + built
        self._last_step = self._start_step = state.global_step
        self._fired = {}
        self._warned_epoch = False
        self._warned_foreign = set()
        self._training = True
        self.deleted = []
        self._load_best = load_best and "eval" in schedules
        keep = self._take_over_arguments(args, specs)
        self._build_plan(args, keep, load_best and "eval" in schedules)
        if state.is_world_process_zero:
            logger.info("run %r", run)
            for kind, schedule in schedules.items():
                logger.info("%s on %s", kind, describe(schedule))
        if state.global_step > 0:
            self._check_resume(args, state)
        return control

    def _saves_with_evals(self, save: Optional[Schedule], eval_: Schedule) -> Schedule:
        """The save schedule for load_best_model_at_end: every save and every eval step (the
        Trainer only keeps a best model whose step was saved)."""
        if save is not None and bool(np.isin(eval_.steps, save.steps).all()):
            return save
        return _union(save, eval_)

    def _take_over_arguments(self, args: TrainingArguments,
                             specs: Dict[str, Optional[ScheduleSpec]]) -> Optional[Retention]:
        """Report (OVERRIDDEN) each TrainingArguments value a schedule of this callback replaces,
        take save_total_limit over as keep_last, and return the Retention to run (or None)."""
        for kind in ("save", "eval", "log"):
            if kind not in self.schedules:
                continue
            for name in OVERRIDDEN_ARGUMENTS[kind]:
                if not hasattr(args, name):
                    continue
                value = _plain(getattr(args, name))
                if name == "logging_first_step":
                    if not value or 1 in self.schedules["log"]:
                        continue  # kept as first=True (or the schedule has step 1 anyway)
                elif value == _plain(_default(args, name)):
                    continue  # not set by the user
                self._add(make(
                    "OVERRIDDEN",
                    f"TrainingArguments {name}={value!r} is overridden: ScheduleCallback's "
                    f"{kind} schedule decides when to {_VERB[kind]} ({describe(self.schedules[kind])})",
                    kind=kind, argument=name, value=value))
        if (self._load_best and "save" in self.schedules
                and _plain(args.save_strategy) not in ("steps", "epoch")):
            # transformers records state.best_model_checkpoint only under these strategies
            self._restore.setdefault("save_strategy", args.save_strategy)
            args.save_strategy = SaveStrategy.STEPS
            logger.info("save_strategy=%r is run as 'steps' so that transformers records the best "
                        "checkpoint (load_best_model_at_end=True); the save schedule decides",
                        _plain(self._restore["save_strategy"]))
        keep = self._keep_given
        limit = args.save_total_limit
        if "save" in self.schedules and limit is not None and limit > 0:
            if keep is None:
                keep = Retention(keep_last=limit)
                what = (f"save_total_limit={limit} is run as keep=Retention(keep_last={limit}) "
                        "by ScheduleCallback")
            else:
                what = (f"save_total_limit={limit} is ignored: ScheduleCallback's keep={keep!r} "
                        "decides which checkpoints stay (keep= wins)")
            self._restore["save_total_limit"] = limit
            args.save_total_limit = None  # transformers' own rotation must not delete as well
            self._add(make("OVERRIDDEN",
                           f"{what}; transformers' own checkpoint rotation is off for this run",
                           kind="save", argument="save_total_limit", value=limit))
        return keep

    def _build_plan(self, args: TrainingArguments, keep: Optional[Retention],
                    load_best: bool) -> None:
        """The Plan of the schedules and the retention; logs its own diagnostics."""
        run = self.run
        assert run is not None
        save, eval_, log = (schedule_on_run(self.schedules.get(kind), run)
                            for kind in ("save", "eval", "log"))
        plan = Plan(run, save=save, eval=eval_, log=log, keep=keep,
                    load_best_model_at_end=load_best and save is not None)
        inherited = sum(len(s.diagnostics) for s in (plan.save, plan.eval, plan.log)
                        if s is not None)
        self.diagnostics += plan.diagnostics[inherited:]
        self.plan = plan
        self._keep = plan.keep if keep is not None else None
        self._metric_key = None
        if self._keep is not None and self._keep.keep_best is not None:
            self._metric_key = best_metric_key(args)
            if self._metric_key is None:
                raise ValueError(
                    f"keep={keep!r} keeps the best checkpoints by a metric, but "
                    "metric_for_best_model is None; set metric_for_best_model (e.g. 'loss')")

    def on_step_end(self, args: TrainingArguments, state: TrainerState,
                    control: TrainerControl, **kwargs: Any) -> TrainerControl:
        step = state.global_step
        if step == self._last_step + 1:
            # The usual case, one step further: each decision is one membership test
            # (steps fired earlier are all <= _last_step, so none is this one).
            for flag, kind, scheduled in self._decisions:
                if scheduled(step):
                    setattr(control, flag, True)
                    self._fired[kind] = step
                else:
                    setattr(control, flag, False)
            self._last_step = step
            return control
        for kind, flag in KINDS:
            schedule = self.schedules.get(kind)
            if schedule is None:
                continue
            fire = (step > self._last_step and self._fired.get(kind) != step
                    and schedule.due(self._last_step, step))
            setattr(control, flag, fire)
            if fire:
                self._fired[kind] = step
        self._last_step = max(self._last_step, step)
        return control

    def on_epoch_end(self, args: TrainingArguments, state: TrainerState,
                     control: TrainerControl, **kwargs: Any) -> TrainerControl:
        # The decisions for this step were taken at on_step_end; the Trainer's epoch
        # strategies must not add a second save / evaluation / log for the same step.
        for kind, flag in KINDS:
            if kind in self.schedules:
                setattr(control, flag, False)
        self._check_epoch_end(state, control)
        return control

    def on_train_end(self, args: TrainingArguments, state: TrainerState,
                     control: TrainerControl, **kwargs: Any) -> TrainerControl:
        self._training = False
        for name, value in self._restore.items():
            setattr(args, name, value)  # the arguments as the user gave them
        self._restore = {}
        return control

    def on_evaluate(self, args: TrainingArguments, state: TrainerState,
                    control: TrainerControl, **kwargs: Any) -> TrainerControl:
        self._check_foreign("eval", state)
        return control

    def on_save(self, args: TrainingArguments, state: TrainerState,
                control: TrainerControl, **kwargs: Any) -> TrainerControl:
        self._check_foreign("save", state)
        if self._record and self.run is not None and state.is_world_process_zero:
            folder = os.path.join(args.output_dir or "",
                                  f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
            if os.path.isdir(folder):
                with open(os.path.join(folder, RECORD), "w", encoding="utf-8") as f:
                    json.dump(self._fingerprint(), f, indent=1, sort_keys=True)
        self._retain(args, state)
        return control

    def _retain(self, args: TrainingArguments, state: TrainerState) -> None:
        """Delete the checkpoints `keep` lets go, after a completed save, on the process that
        saves (args.should_save): decided from the checkpoint-* folders on disk, so a resumed
        run deletes what the uninterrupted one would have.  The newest checkpoint and
        state.best_model_checkpoint are never deleted."""
        keep = self._keep
        if keep is None or not args.should_save:
            return
        output_dir = args.output_dir or ""
        saved = checkpoint_steps(output_dir)
        if not saved:
            return
        metrics = None if self._metric_key is None else _metrics_by_step(state, self._metric_key)
        doomed = keep.to_delete(saved, metrics=metrics,
                                greater_is_better=bool(args.greater_is_better))
        protected = {saved[-1], _step_of(state.best_model_checkpoint)}
        for step in doomed.tolist():
            if step in protected:
                continue
            folder = os.path.join(output_dir, f"{PREFIX_CHECKPOINT_DIR}-{step}")
            logger.info("deleting %s (not kept by %r)", folder, keep)
            shutil.rmtree(folder, ignore_errors=True)
            self.deleted.append(step)

    # ---- checks ---------------------------------------------------------------------

    def _fingerprint(self) -> Dict[str, Any]:
        return {"format": 1, "run": repr(self.run),
                "schedules": {kind: repr(s) for kind, s in self.schedules.items()}}

    def _check_resume(self, args: TrainingArguments, state: TrainerState) -> None:
        path = os.path.join(args.output_dir or "", f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}",
                            RECORD)
        try:
            with open(path, encoding="utf-8") as f:
                recorded = json.load(f)
        except (OSError, ValueError):
            return
        now = self._fingerprint()
        if recorded.get("run") == now["run"] and recorded.get("schedules") == now["schedules"]:
            return
        self._add(Diagnostic(
            "RESUME_MISMATCH", WARNING,
            f"resuming at step {state.global_step} with another geometry or rules than the "
            f"run that saved it: it had {recorded.get('run')} with "
            f"{recorded.get('schedules')}, this run has {now['run']} with {now['schedules']}; "
            "the steps after the resume follow the new schedule",
            {"recorded": recorded, "current": now, "step": state.global_step}))

    def _check_foreign(self, kind: str, state: TrainerState) -> None:
        """A save / evaluation during training that this callback did not decide."""
        step = state.global_step
        if (not self._training or kind not in self.schedules or step == self._start_step
                or self._fired.get(kind) == step or kind in self._warned_foreign):
            return
        self._warned_foreign.add(kind)
        what = "saved" if kind == "save" else "evaluated"
        self._add(Diagnostic(
            "OVERRIDDEN", WARNING,
            f"the Trainer {what} at step {step}, which the {kind} schedule does not have: "
            "a callback after ScheduleCallback (or save_strategy='best') decided it; add "
            "ScheduleCallback last so that its decisions stand",
            {"kind": kind, "step": step}))

    def _check_epoch_end(self, state: TrainerState, control: TrainerControl) -> None:
        run, step = self.run, state.global_step
        if (run is None or run.steps_per_epoch is None or self._warned_epoch or not step
                or control.should_training_stop or step >= run.total_steps):
            return
        if run.locate(step)[1] != run.steps_per_epoch:
            self._warned_epoch = True
            self._add(make(
                "EPOCH_END_MISSED",
                f"the Trainer ended an epoch at step {step}, but the schedules assume epochs "
                f"of {run.steps_per_epoch} optimizer steps (from len(train_dataloader) and "
                f"gradient_accumulation_steps, counted as transformers "
                f"{transformers.__version__} does); epoch-based rules are misaligned: use "
                "rules in steps (count=, every=) with this setup",
                step=step, steps_per_epoch=run.steps_per_epoch))

    def _add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics += (diagnostic,)
        report([diagnostic], strict=False)

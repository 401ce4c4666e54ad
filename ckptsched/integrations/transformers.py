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

The schedule is a pure function of the global step, so resuming from a checkpoint
continues it.  Each checkpoint folder gets a small `ckptsched.json` recording the run and
schedules; a resumed run whose geometry differs logs RESUME_MISMATCH.
"""
from __future__ import annotations

import json
import os
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set, Tuple, Union

import transformers
from packaging.version import Version
from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from ..diagnostics import WARNING, Diagnostic, logger, make, report
from ..run import Run
from ..schedule import Schedule
from . import ScheduleSpec, build_schedule, check_spec, describe, optimizer_steps_per_epoch

if TYPE_CHECKING:
    from transformers import TrainerControl, TrainerState, TrainingArguments

__all__ = ["ScheduleCallback", "partial_accumulation", "trainer_run"]

#: (rule name, TrainerControl flag)
KINDS = (("save", "should_save"), ("eval", "should_evaluate"), ("log", "should_log"))
RECORD = "ckptsched.json"


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


class ScheduleCallback(TrainerCallback):
    """A TrainerCallback whose save / evaluate / log decisions come from ckptsched rules.

    save, eval, log: a dict of Schedule arguments, a factory `run -> Schedule`, a Schedule
    for the same run, or None (the Trainer decides).  After `on_train_begin`, `run`,
    `schedules` ({"save": Schedule, ...}) and `diagnostics` describe what was built.
    record=True writes `ckptsched.json` into each checkpoint folder (rank 0) so that a
    resumed run can tell when its geometry changed.
    """

    run: Optional[Run]
    schedules: Dict[str, Schedule]
    diagnostics: Tuple[Diagnostic, ...]

    def __init__(self, save: Optional[ScheduleSpec] = None, eval: Optional[ScheduleSpec] = None,
                 log: Optional[ScheduleSpec] = None, *, record: bool = True) -> None:
        self._specs = {"save": check_spec(save, "save"), "eval": check_spec(eval, "eval"),
                       "log": check_spec(log, "log")}
        if all(spec is None for spec in self._specs.values()):
            raise ValueError("ScheduleCallback needs at least one of save=, eval=, log=")
        if not isinstance(record, bool):
            raise TypeError(f"record must be True or False, got {record!r}")
        self._record = record
        self.run = None
        self.schedules = {}
        self.diagnostics = ()
        self._last_step = 0
        self._fired: Dict[str, int] = {}
        self._warned_epoch = False
        self._training = False
        self._start_step = 0
        self._warned_foreign: Set[str] = set()

    # ---- events ---------------------------------------------------------------------

    def on_train_begin(self, args: TrainingArguments, state: TrainerState,
                       control: TrainerControl, train_dataloader: Any = None,
                       **kwargs: Any) -> TrainerControl:
        if self._specs["save"] is not None and str(getattr(args.save_strategy, "value",
                                                           args.save_strategy)) == "best":
            raise ValueError(
                "ScheduleCallback(save=...) cannot be combined with save_strategy='best', "
                "which lets the Trainer overwrite the save decision after each evaluation; "
                "use save_strategy='steps' or 'no'")
        run, diagnostics = trainer_run(args, state, train_dataloader)
        report(diagnostics, strict=False)
        schedules = {kind: build_schedule(spec, run, kind)
                     for kind, spec in self._specs.items() if spec is not None}
        self.run, self.schedules = run, schedules
        self.diagnostics = tuple(diagnostics) + tuple(
            d for schedule in schedules.values() for d in schedule.diagnostics)
        self._last_step = self._start_step = state.global_step
        self._fired = {}
        self._warned_epoch = False
        self._warned_foreign = set()
        self._training = True
        if state.is_world_process_zero:
            logger.info("run %r", run)
            for kind, schedule in schedules.items():
                logger.info("%s on %s", kind, describe(schedule))
        if state.global_step > 0:
            self._check_resume(args, state)
        return control

    def on_step_end(self, args: TrainingArguments, state: TrainerState,
                    control: TrainerControl, **kwargs: Any) -> TrainerControl:
        step = state.global_step
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
        return control

    def on_evaluate(self, args: TrainingArguments, state: TrainerState,
                    control: TrainerControl, **kwargs: Any) -> TrainerControl:
        self._check_foreign("eval", state)
        return control

    def on_save(self, args: TrainingArguments, state: TrainerState,
                control: TrainerControl, **kwargs: Any) -> TrainerControl:
        self._check_foreign("save", state)
        if not (self._record and self.run is not None and state.is_world_process_zero):
            return control
        folder = os.path.join(args.output_dir or "", f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
        if os.path.isdir(folder):
            with open(os.path.join(folder, RECORD), "w", encoding="utf-8") as f:
                json.dump(self._fingerprint(), f, indent=1, sort_keys=True)
        return control

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

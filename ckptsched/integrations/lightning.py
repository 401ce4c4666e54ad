"""Lightning integration: `ScheduleCheckpoint` saves on the scheduled optimizer steps.

    from ckptsched.integrations.lightning import ScheduleCheckpoint

    trainer = L.Trainer(max_epochs=4, accumulate_grad_batches=4,
                        callbacks=[ScheduleCheckpoint({"saves_per_epoch": 8})])

The rule is a dict of Schedule arguments, a factory `run -> Schedule`, or a Schedule for
the same run.  At `on_train_start` the callback builds a `Run` from the Trainer's
geometry: optimizer steps per epoch from `num_training_batches` and
`accumulate_grad_batches` (Lightning steps on an epoch's last batch even when the
accumulation is partial), total steps from `max_epochs` and `max_steps` (whichever ends
training first).  It then counts optimizer steps (`trainer.global_step`), not batches,
and saves `<dirpath>/<filename>.ckpt` after each scheduled step, once.  It is a
Lightning `Checkpoint`, so the Trainer adds no default ModelCheckpoint next to it.

Retention: `keep=Retention(keep_last=..., keep_every=..., keep_best=...)` deletes, after each
completed save and on global rank 0 only, the checkpoint files in dirpath that the policy
lets go, decided from the files on disk (so a resumed run deletes what the uninterrupted one
would have); never the newest.  keep_best ranks checkpoints by `monitor=` (a logged metric,
read from `trainer.callback_metrics` when the checkpoint is saved, as ModelCheckpoint does)
and `mode=`.  ModelCheckpoint's `save_top_k` is accepted where it means the same: -1 keeps
every checkpoint, 1 without monitor keeps the newest (keep_last=1), K with monitor keeps the
K best (keep_best=K) -- plus the newest, which is never deleted (as save_last=True would keep
it); other values, and `save_last`, are refused with what to pass instead.
`callback.plan` is the Plan of the schedule and the retention.

Uses `lightning.pytorch`, or `pytorch_lightning` when only that is installed.
"""
from __future__ import annotations

import os
import re
import string
from typing import Any, Dict, List, Optional, Pattern, Union

try:
    import lightning.pytorch as pl
except ImportError:  # the standalone package
    import pytorch_lightning as pl  # type: ignore[no-redef]

from ..diagnostics import WARNING, Diagnostic, logger, make, report
from ..plan import Plan
from ..retention import Retention
from ..run import Run
from ..schedule import Schedule
from . import (ScheduleSpec, build_schedule, check_spec, check_unbound_retention, describe,
               optimizer_steps_per_epoch, schedule_on_run)

__all__ = ["ScheduleCheckpoint", "lightning_run"]


def _limit(value: Optional[int]) -> Optional[int]:
    """A Lightning max_epochs / max_steps as an int, or None for 'no limit' (None, -1)."""
    return None if value is None or value == -1 else value


def lightning_run(trainer: pl.Trainer) -> Run:
    """The Run of a Lightning Trainer whose train dataloader is set up (on_train_start)."""
    batches = trainer.num_training_batches
    max_epochs, max_steps = _limit(trainer.max_epochs), _limit(trainer.max_steps)
    if batches == float("inf") or not batches:
        if max_steps is None:
            raise ValueError("ScheduleCheckpoint needs max_steps for a train dataloader "
                             "without a length (or use ckptsched.Tracker)")
        return Run(max_steps=max_steps)
    per_epoch = optimizer_steps_per_epoch(int(batches), trainer.accumulate_grad_batches, "step")
    if max_epochs is None and max_steps is None:
        raise ValueError("ScheduleCheckpoint needs a finite run: set max_epochs or max_steps "
                         "(or use ckptsched.Tracker)")
    if max_epochs is None:
        return Run(per_epoch, max_steps=max_steps)
    by_epochs = Run(per_epoch, max_epochs)
    if max_steps is None or by_epochs.total_steps <= max_steps:
        return by_epochs
    return Run(per_epoch, max_epochs, max_steps=max_steps)


def lightning_retention(keep: Optional[Retention], monitor: Optional[str], mode: str,
                        save_top_k: Optional[int], save_last: object) -> Optional[Retention]:
    """The Retention of ScheduleCheckpoint's arguments: `keep`, or ModelCheckpoint's
    `save_top_k` where it maps exactly; ValueError / TypeError naming the argument and what
    to pass instead otherwise.  None keeps every checkpoint."""
    if keep is not None:
        check_unbound_retention(keep)
    if monitor is not None and not isinstance(monitor, str):
        raise TypeError(f"monitor must be the name of a logged metric, got {monitor!r}")
    if mode not in ("min", "max"):
        raise ValueError(f"mode={mode!r} must be 'min' (lower is better, a loss) or 'max'")
    if save_last not in (None, False):
        raise ValueError(
            f"save_last={save_last!r} is not supported: a last.ckpt copy would be a checkpoint "
            "outside the schedule and the retention.  ScheduleCheckpoint never deletes its "
            "newest checkpoint, so the latest one is always on disk; drop save_last")
    if save_top_k is not None:
        keep = _from_save_top_k(save_top_k, monitor, keep)
    if keep is not None and keep.keep_best is not None and monitor is None:
        raise ValueError(f"keep={keep!r} keeps the best checkpoints by a metric: pass monitor= "
                         "(the name of a logged metric, e.g. 'val_loss') and mode=")
    if monitor is not None and (keep is None or keep.keep_best is None):
        raise ValueError(f"monitor={monitor!r} ranks checkpoints for keep_best, but nothing "
                         "keeps the best ones: pass save_top_k=K or keep=Retention(keep_best=K)")
    return keep


def _from_save_top_k(save_top_k: object, monitor: Optional[str],
                     keep: Optional[Retention]) -> Optional[Retention]:
    """ModelCheckpoint's save_top_k as a Retention (None: keep all), where it maps exactly."""
    if isinstance(save_top_k, bool) or not isinstance(save_top_k, int):
        raise TypeError(f"save_top_k must be an int (-1, or K >= 1), got {save_top_k!r}")
    if keep is not None:
        raise ValueError(f"save_top_k={save_top_k} and keep={keep!r} both say which "
                         "checkpoints stay: pass one of them")
    if save_top_k == -1:
        return None
    if save_top_k < -1:
        raise ValueError(f"save_top_k={save_top_k} must be -1 (keep all) or K >= 1")
    if save_top_k == 0:
        raise ValueError("save_top_k=0 would keep no checkpoint, but ScheduleCheckpoint always "
                         "keeps the newest one; to save nothing, do not add the callback")
    if monitor is not None:
        return Retention(keep_last=1, keep_best=save_top_k)
    if save_top_k == 1:
        return Retention(keep_last=1)
    raise ValueError(f"save_top_k={save_top_k} without monitor= has no metric to rank by (as "
                     "in ModelCheckpoint); for the K most recent checkpoints pass "
                     f"keep=Retention(keep_last={save_top_k}), for the K best pass monitor=")


def filename_pattern(filename: str) -> Pattern[str]:
    """A regex that matches the file names `filename` + ".ckpt" formats, with the step as
    group "step" (for filenames with {step}; a format spec such as {step:05d} pads only).
    ValueError when two fields touch ("{epoch}{step}"): the step could not be read back."""
    parts: List[str] = []
    named = after_field = False
    for literal, field, _spec, _conversion in string.Formatter().parse(filename):
        parts.append(re.escape(literal))
        if field is None:
            continue
        if after_field and not literal:
            raise ValueError(f"filename={filename!r} puts two fields side by side: separate "
                             "them with text (e.g. 'e{epoch}-s{step}') so that the step can "
                             "be read back from the file name")
        after_field = True
        if field == "step" and not named:
            parts.append(r"\s*(?P<step>\d+)\s*")
            named = True
        else:
            parts.append(r"\s*\d+\s*")
    return re.compile("".join(parts) + re.escape(".ckpt"))


class ScheduleCheckpoint(pl.callbacks.Checkpoint):
    """Save a Lightning checkpoint after each scheduled optimizer step.

    save        a dict of Schedule arguments, a factory `run -> Schedule`, or a Schedule
    dirpath     where to save (default: `<trainer.log_dir>/checkpoints`, as ModelCheckpoint)
    filename    a format string with {step} and {epoch}; ".ckpt" is appended
    save_weights_only  passed to `trainer.save_checkpoint`
    keep        a Retention: after each completed save, global rank 0 deletes the files in
                dirpath matching filename (with its {step}) that `keep.to_delete` lets go;
                never the newest.  None (the default) keeps every checkpoint.
    monitor, mode   keep_best's metric: the logged value `trainer.callback_metrics[monitor]`
                when a checkpoint is saved (a checkpoint saved before it is logged has
                none and is no keep_best candidate); mode "min" (lower is better) or "max"
    save_top_k  ModelCheckpoint's spelling, mapped exactly: -1 keeps all (keep=None),
                1 without monitor keeps the newest (keep_last=1), K with monitor keeps the
                K best and the newest (keep_best=K); 0, K > 1 without monitor and save_last
                are refused with what to pass instead

    After `on_train_start`, `run`, `schedule`, `plan` (the Plan of the schedule and the
    retention: `plan.survivors` is what stays on disk), `diagnostics` and `saved` (paths
    written by this process, in order) describe what happened; `deleted` lists the steps
    whose checkpoints rank 0 deleted.
    """

    dirpath: Optional[str]
    filename: str
    save_weights_only: bool
    run: Optional[Run]
    schedule: Optional[Schedule]
    diagnostics: tuple[Diagnostic, ...]
    saved: List[str]
    plan: Optional[Plan]
    deleted: List[int]

    def __init__(self, save: ScheduleSpec, *, dirpath: Union[str, os.PathLike[str], None] = None,
                 filename: str = "step={step}", save_weights_only: bool = False,
                 keep: Optional[Retention] = None, monitor: Optional[str] = None,
                 mode: str = "min", save_top_k: Optional[int] = None,
                 save_last: Optional[bool] = None) -> None:
        if save is None:
            raise TypeError("ScheduleCheckpoint needs a rule: a dict of Schedule arguments, a "
                            "factory run -> Schedule, or a Schedule")
        spec = check_spec(save, "save")
        assert spec is not None  # save is not None
        self._spec: ScheduleSpec = spec
        if dirpath is not None and not isinstance(dirpath, (str, os.PathLike)):
            raise TypeError(f"dirpath must be a path, got {dirpath!r}")
        if not isinstance(filename, str):
            raise TypeError(f"filename must be a format string, got {filename!r}")
        try:
            filename.format(step=1, epoch=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"filename={filename!r} may only use {{step}} and {{epoch}}: "
                             f"{exc}") from None
        if not isinstance(save_weights_only, bool):
            raise TypeError(f"save_weights_only must be True or False, got {save_weights_only!r}")
        self._keep_given = lightning_retention(keep, monitor, mode, save_top_k, save_last)
        if self._keep_given is not None:
            if "step" not in {field for _, field, _, _ in string.Formatter().parse(filename)}:
                raise ValueError(f"filename={filename!r} has no {{step}}: with keep= (or "
                                 "save_top_k=) the retention reads each checkpoint's step from "
                                 "its file name; add {step}")
            if "/" in filename or os.sep in filename:
                raise ValueError(f"filename={filename!r} holds a folder: with keep= (or "
                                 "save_top_k=) the checkpoints must lie in dirpath itself; put "
                                 "folders in dirpath")
        self._pattern = None if self._keep_given is None else filename_pattern(filename)
        self.monitor = monitor
        self.mode = mode
        self.dirpath = self._given_dirpath = None if dirpath is None else os.fspath(dirpath)
        self.filename = filename
        self.save_weights_only = save_weights_only
        self.run = None
        self.schedule = None
        self.diagnostics = ()
        self.saved = []
        self.plan = None
        self.deleted = []
        self._keep: Optional[Retention] = None
        self._metrics: Dict[int, float] = {}  # keep_best: monitor's value of each checkpoint
        self._told_no_metric = False
        self._last_step = 0
        self._last_saved: Optional[int] = None
        self._recorded: Optional[Dict[str, Any]] = None

    @property
    def state_key(self) -> str:
        # the dirpath as given (resolved only at on_train_start): the same key on resume
        return self._generate_state_key(dirpath=self._given_dirpath, filename=self.filename)

    # ---- hooks ----------------------------------------------------------------------

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        run = lightning_run(trainer)
        self.run, self.schedule = run, build_schedule(self._spec, run, "save")
        self.diagnostics = tuple(self.schedule.diagnostics)
        estimated = trainer.estimated_stepping_batches
        if estimated != float("inf") and estimated != run.total_steps:
            self._add(make(
                "HF_MISMATCH",
                f"Lightning estimates {estimated} optimizer steps, the schedule's run has "
                f"{run.total_steps}; the schedule follows {run!r}",
                framework="lightning", estimated=estimated, total_steps=run.total_steps))
        plan = Plan(run, save=schedule_on_run(self.schedule, run), keep=self._keep_given)
        self.plan = plan
        self.diagnostics += plan.diagnostics[len(plan.save.diagnostics) if plan.save else 0:]
        self._keep = plan.keep if self._keep_given is not None else None
        self.deleted = []
        if self.dirpath is None:
            root = trainer.log_dir or trainer.default_root_dir  # log_dir: call on all ranks
            self.dirpath = os.path.join(root, "checkpoints")
        self._last_step = trainer.global_step
        if trainer.is_global_zero:
            logger.info("run %r", run)
            logger.info("save on %s, into %s", describe(self.schedule), self.dirpath)
        if self._recorded is not None and trainer.global_step > 0:
            now = self._fingerprint()
            if self._recorded != now:
                self._add(Diagnostic(
                    "RESUME_MISMATCH", WARNING,
                    f"resuming at step {trainer.global_step} with another geometry or rule "
                    f"than the run that saved it: it had {self._recorded}, this run has "
                    f"{now}; the steps after the resume follow the new schedule",
                    {"recorded": self._recorded, "current": now, "step": trainer.global_step}))
        if trainer.global_step > 0:
            # resumed: finish the deletions a crash between a save and its retention left
            self._retain(trainer, trainer.global_step)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        step = trainer.global_step  # optimizer steps, not batches
        if self.schedule is None or step <= self._last_step:
            return
        due = self.schedule.due(self._last_step, step)
        self._last_step = step
        if due and step != self._last_saved and not self._skip(trainer):
            self._save(trainer, step)

    # ---- state ----------------------------------------------------------------------

    def state_dict(self) -> Dict[str, Any]:
        # metrics: keep_best's value of each checkpoint kept so far, as [step, value] pairs
        # (plain lists and floats: loadable with torch.load(weights_only=True))
        return {"run": None if self.run is None else repr(self.run),
                "schedule": None if self.schedule is None else repr(self.schedule),
                "last_saved": self._last_saved,
                "metrics": [[step, value] for step, value in sorted(self._metrics.items())]}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        self._recorded = {"run": state_dict.get("run"), "schedule": state_dict.get("schedule")}
        self._last_saved = state_dict.get("last_saved")
        # checkpoints written before retention existed have no metrics: {}
        self._metrics = {int(step): float(value)
                         for step, value in state_dict.get("metrics") or ()}

    # ---- helpers --------------------------------------------------------------------

    def _fingerprint(self) -> Dict[str, Any]:
        return {"run": repr(self.run), "schedule": repr(self.schedule)}

    @staticmethod
    def _skip(trainer: pl.Trainer) -> bool:
        return (bool(trainer.fast_dev_run) or trainer.sanity_checking
                or getattr(trainer.state.fn, "value", trainer.state.fn) != "fit")

    def _save(self, trainer: pl.Trainer, step: int) -> None:
        name = self.filename.format(step=step, epoch=trainer.current_epoch) + ".ckpt"
        assert self.dirpath is not None  # set at on_train_start
        path = os.path.join(self.dirpath, name)
        self._last_saved = step  # before saving, so the checkpoint records it
        self._note_metric(trainer, step)  # likewise its metric
        trainer.save_checkpoint(path, self.save_weights_only)  # every rank: it may be collective
        self.saved.append(path)
        self._retain(trainer, step)

    def _note_metric(self, trainer: pl.Trainer, step: int) -> None:
        """keep_best: record monitor's logged value as the metric of the checkpoint of `step`."""
        if self._keep is None or self._keep.keep_best is None or self.monitor is None:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            if not self._told_no_metric and trainer.is_global_zero:
                self._told_no_metric = True
                logger.info("the checkpoint of step %d has no %r yet (not logged so far: %s); "
                            "keep_best ranks only checkpoints saved after it is logged",
                            step, self.monitor, ", ".join(sorted(trainer.callback_metrics)) or
                            "no metric")
            return
        number = float(value.item() if hasattr(value, "item") else value)
        self._metrics[step] = number

    def _checkpoints_on_disk(self, up_to: int) -> Dict[int, List[str]]:
        """{step: paths} of the files in dirpath that `filename` names, for steps <= up_to
        (files of later steps belong to a run resumed from an earlier checkpoint: they are
        written again when the run gets there)."""
        found: Dict[int, List[str]] = {}
        folder = self.dirpath
        if folder is None:  # before on_train_start: nothing saved yet
            return found
        try:
            names = os.listdir(folder)
        except OSError:
            return found
        assert self._pattern is not None  # set whenever there is a retention
        for name in names:
            match = self._pattern.fullmatch(name)
            if match is not None and int(match.group("step")) <= up_to:
                found.setdefault(int(match.group("step")), []).append(os.path.join(folder, name))
        return found

    def _retain(self, trainer: pl.Trainer, step: int) -> None:
        """After the completed save of `step`: delete, on global rank 0 only, the checkpoints
        the retention lets go, decided from the files on disk (resume-safe, as
        Retention.to_delete is).  The newest is never deleted."""
        keep = self._keep
        if keep is None or not trainer.is_global_zero:
            return
        on_disk = self._checkpoints_on_disk(step)
        if not on_disk:
            return
        metrics = None
        if keep.keep_best is not None:
            metrics = {s: v for s, v in self._metrics.items() if s in on_disk}
        doomed = keep.to_delete(list(on_disk), metrics=metrics,
                                greater_is_better=self.mode == "max")
        for gone in doomed.tolist():
            for path in on_disk[gone]:
                logger.info("deleting %s (not kept by %r)", path, keep)
                trainer.strategy.remove_checkpoint(path)
            self._metrics.pop(gone, None)
            self.deleted.append(gone)

    def _add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics += (diagnostic,)
        report([diagnostic], strict=False)

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

Uses `lightning.pytorch`, or `pytorch_lightning` when only that is installed.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Union

try:
    import lightning.pytorch as pl
except ImportError:  # the standalone package
    import pytorch_lightning as pl  # type: ignore[no-redef]

from ..diagnostics import WARNING, Diagnostic, logger, make, report
from ..run import Run
from ..schedule import Schedule
from . import ScheduleSpec, build_schedule, check_spec, describe, optimizer_steps_per_epoch

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


class ScheduleCheckpoint(pl.callbacks.Checkpoint):
    """Save a Lightning checkpoint after each scheduled optimizer step.

    save        a dict of Schedule arguments, a factory `run -> Schedule`, or a Schedule
    dirpath     where to save (default: `<trainer.log_dir>/checkpoints`, as ModelCheckpoint)
    filename    a format string with {step} and {epoch}; ".ckpt" is appended
    save_weights_only  passed to `trainer.save_checkpoint`

    After `on_train_start`, `run`, `schedule`, `diagnostics` and `saved` (paths written by
    this process, in order) describe what happened.
    """

    dirpath: Optional[str]
    filename: str
    save_weights_only: bool
    run: Optional[Run]
    schedule: Optional[Schedule]
    diagnostics: tuple[Diagnostic, ...]
    saved: List[str]

    def __init__(self, save: ScheduleSpec, *, dirpath: Union[str, os.PathLike[str], None] = None,
                 filename: str = "step={step}", save_weights_only: bool = False) -> None:
        if save is None:
            raise TypeError("ScheduleCheckpoint needs a rule: a dict of Schedule arguments, a "
                            "factory run -> Schedule, or a Schedule")
        self._spec = check_spec(save, "save")
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
        self.dirpath = self._given_dirpath = None if dirpath is None else os.fspath(dirpath)
        self.filename = filename
        self.save_weights_only = save_weights_only
        self.run = None
        self.schedule = None
        self.diagnostics = ()
        self.saved = []
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
        return {"run": None if self.run is None else repr(self.run),
                "schedule": None if self.schedule is None else repr(self.schedule),
                "last_saved": self._last_saved}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        self._recorded = {"run": state_dict.get("run"), "schedule": state_dict.get("schedule")}
        self._last_saved = state_dict.get("last_saved")

    # ---- helpers --------------------------------------------------------------------

    def _fingerprint(self) -> Dict[str, Any]:
        return {"run": repr(self.run), "schedule": repr(self.schedule)}

    @staticmethod
    def _skip(trainer: pl.Trainer) -> bool:
        return (bool(trainer.fast_dev_run) or trainer.sanity_checking
                or getattr(trainer.state.fn, "value", trainer.state.fn) != "fit")

    def _save(self, trainer: pl.Trainer, step: int) -> None:
        name = self.filename.format(step=step, epoch=trainer.current_epoch) + ".ckpt"
        path = os.path.join(self.dirpath, name)
        self._last_saved = step  # before saving, so the checkpoint records it
        trainer.save_checkpoint(path, self.save_weights_only)  # every rank: it may be collective
        self.saved.append(path)

    def _add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics += (diagnostic,)
        report([diagnostic], strict=False)

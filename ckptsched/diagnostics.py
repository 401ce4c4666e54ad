"""Diagnostic records, the ScheduleError raised by strict schedules, and how they are reported.

Every schedule carries `diagnostics`: records with a stable `code`, a `severity`
("info" or "warning"), a `message` saying what happens and what to change (it starts with
the schedule it is about: "eval schedule: ..."), and `data` for programs (always with
data["schedule"], the schedule's name).  They are reported once, when the schedule (or plan)
is built, never on unpickling; with strict=True a warning raises ScheduleError instead, on
every rank.

How they are reported (`report`):
- warnings go through `warnings.warn(..., ScheduleWarning)` as
  "ckptsched: FEWER_THAN_REQUESTED: eval schedule: ...", attributed to the user's line that
  built the schedule.  A user who configured nothing sees them on stderr, and the standard
  means filter them: ``warnings.filterwarnings("ignore", category=ckptsched.ScheduleWarning)``,
  pytest's ``filterwarnings = ignore::ckptsched.ScheduleWarning``; on the command line
  (``-W`` / PYTHONWARNINGS resolve categories before ckptsched can be imported) by the
  message prefix: ``-W "ignore:ckptsched:UserWarning"``.
- warnings are NOT also logged on the "ckptsched" logger: a user who configured logging would
  otherwise see each one twice (once from the warnings machinery, once from their handler),
  and ``logging.captureWarnings(True)`` -- the standard way to send warnings to logging --
  would log it twice too.  Users who want them in their logs call captureWarnings: they then
  arrive once, on the "py.warnings" logger.
- info diagnostics go to the "ckptsched" logger at INFO only.  That logger has a
  `logging.NullHandler`, so Python's last-resort handler never prints bare "CODE: message"
  lines when logging is not configured; configure logging (or add a handler) to see them.
- in a distributed run only rank 0 reports (see `distributed_rank`); the other ranks compute
  the same diagnostics and keep them on the objects.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, Final, Iterable, Literal, Mapping

from ._numbers import show

logger = logging.getLogger("ckptsched")
logger.addHandler(logging.NullHandler())


class ScheduleWarning(UserWarning):
    """A ckptsched schedule (or plan, or tracker) cannot do exactly what was asked: the
    warning-severity diagnostics, emitted once when they are found.  Filter with
    ``warnings.filterwarnings("ignore", category=ckptsched.ScheduleWarning)``."""

#: How serious a diagnostic is: "info" (worth knowing) or "warning" (a request not honoured).
Severity = Literal["info", "warning"]
INFO: Final = "info"
WARNING: Final = "warning"

#: Every code a schedule can report, with its severity.
CODES: Final[Mapping[str, Severity]] = {
    "NO_SAVES": WARNING,              # the schedule saves nothing at all
    "FEWER_THAN_REQUESTED": WARNING,  # a rule asked for more saves than there are steps
    "FINAL_NOT_SAVED": WARNING,       # final=False leaves the last steps of work unsaved
    "HF_MISMATCH": INFO,              # transformers / Axolotl would save other steps
    "UNEVEN_TAIL": INFO,              # the interval does not divide the run
    "OUT_OF_RANGE": WARNING,          # requested steps outside [1, T] were dropped
    "MIN_INTERVAL_DROPPED": INFO,     # min_interval removed scheduled steps
    "LONG_GAP": WARNING,              # a stretch of unsaved work longer than max_gap
    "EPOCH_END_MISSED": WARNING,      # an epoch-based request misses epoch ends
}

#: Codes reported while training runs (Tracker, integrations), never by a Schedule.
RUNTIME_CODES: Final[Mapping[str, Severity]] = {
    "STEP_WENT_BACK": WARNING,        # the step counter went backwards
    "RESUME_MISMATCH": WARNING,       # a resume continues with other geometry or rules
    "OVERRIDDEN": WARNING,            # another callback changed a scheduled decision
    "FINAL_NOT_SAVED": WARNING,       # training ended without the final save
    "EPOCH_END_MISSED": WARNING,      # an epoch ended off the schedule's assumed grid
}

_LEVELS: Dict[str, int] = {INFO: logging.INFO, WARNING: logging.WARNING}


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a schedule: what happens, and what to change.

    `code` is one of CODES (or RUNTIME_CODES, for what integrations see while training),
    `severity` "info" or "warning", `message` a sentence for people, `data` the numbers
    behind it for programs (keys depend on the code).
    """

    code: str
    severity: Severity
    message: str
    data: Mapping[str, Any] = field(default_factory=dict, compare=True, hash=False)

    def __post_init__(self) -> None:
        if self.severity not in _LEVELS:
            raise ValueError(f"severity must be {INFO!r} or {WARNING!r}, got {self.severity!r}")

    def __str__(self) -> str:
        return f"{self.code} ({self.severity}): {self.message}"

    def __repr__(self) -> str:
        try:
            data = repr(self.data)
        except ValueError:  # an int too long for repr() (a dropped at= step of 10**5000)
            data = show(dict(self.data))
        return (f"Diagnostic(code={self.code!r}, severity={self.severity!r}, "
                f"message={self.message!r}, data={data})")


def make(code: str, message: str, **data: Any) -> Diagnostic:
    """A diagnostic with the severity registered for `code` (CODES or RUNTIME_CODES)."""
    return Diagnostic(code, CODES.get(code) or RUNTIME_CODES[code], message, data)


class ScheduleError(ValueError):
    """Raised by strict schedules when a request cannot be honoured exactly; `diagnostics`
    holds the warnings that made it fail."""

    diagnostics: tuple[Diagnostic, ...]

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        lines = "\n".join(f"  {d}" for d in self.diagnostics)
        super().__init__(f"the schedule cannot be honoured as requested (strict=True):\n{lines}")


def report(diagnostics: Iterable[Diagnostic], *, strict: bool) -> None:
    """Report each diagnostic once, as the module docstring says: warnings as ScheduleWarning,
    info on the "ckptsched" logger, on rank 0 only.  With strict=True, raise ScheduleError on
    warnings instead (on every rank)."""
    diagnostics = tuple(diagnostics)
    found = [d for d in diagnostics if d.severity == WARNING]
    if strict and found:
        raise ScheduleError(found)
    if not diagnostics or distributed_rank() != 0:
        return
    for d in diagnostics:
        if d.severity == WARNING:
            warnings.warn(f"ckptsched: {d.code}: {d.message}", ScheduleWarning,
                          stacklevel=_user_stacklevel())
        else:
            logger.info("%s: %s", d.code, d.message)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_stacklevel() -> int:
    """The `stacklevel` for warnings.warn called from `report` that names the first frame
    outside the ckptsched package: the user's line that built the schedule."""
    frame = sys._getframe(2)  # report's caller: stacklevel 2 (report itself is 1)
    level = 2
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            _PACKAGE_DIR + os.sep):
        frame = frame.f_back
        level += 1
    return level


def distributed_rank() -> int:
    """This process's rank in a distributed run: torch.distributed's when torch is already
    imported and its process group initialized (torch is never imported here), else the RANK
    environment variable (as torchrun and accelerate set it), else 0."""
    dist = sys.modules.get("torch.distributed")
    try:
        if dist is not None and dist.is_available() and dist.is_initialized():
            return int(dist.get_rank())
    except Exception:  # a half-initialized or stubbed torch: fall back to the environment
        pass
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


#: Codes a Plan reports about its schedules together (ckptsched.plan), never a single Schedule;
#: `plan_diagnostic` makes them.
PLAN_CODES: Final[Mapping[str, Severity]] = {
    "BEST_NOT_SAVED": WARNING,        # the best model (keep_best / load-best) may be an unsaved eval
    "DISK_BUDGET": WARNING,           # the most checkpoints on disk at once exceed disk_budget
    "KEEP_SHIFTED": INFO,             # a keep_every step is not a save: the next save is kept
    "KEEP_NEVER": WARNING,            # a keep_every step after the last save keeps nothing
    "HF_REFUSED": WARNING,            # transformers' TrainingArguments would refuse these settings
}


def plan_diagnostic(code: str, message: str, **data: Any) -> Diagnostic:
    """A Plan's diagnostic with the severity registered for `code` in PLAN_CODES."""
    return Diagnostic(code, PLAN_CODES[code], message, data)

"""ckptsched: exact checkpoint / eval / log schedules for training loops.

    from ckptsched import Run, Schedule
    sched = Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=8)
    sched.should_save(217)  # True

Every step is computed with integer / rational arithmetic (a C core, or its pure-Python
twin); requests that cannot be honoured are reported as diagnostics: warnings as
`ScheduleWarning`, information on the "ckptsched" logger (or raise, with strict=True).  `backend()` (and `ckptsched.BACKEND`) say which
twin is in use: "c" or "python".
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, List

from . import _backend
from ._version import __version__
from .diagnostics import CODES, Diagnostic, ScheduleError, ScheduleWarning
from .run import Run
from .plan import Plan
from .retention import Retention
from .schedule import Schedule
from .sweeps import SweepResult, sweep
from .tracker import Tracker

__all__ = ["BACKEND", "CODES", "Diagnostic", "Run", "Schedule", "ScheduleError", "ScheduleWarning",
           "SweepResult",
           "Tracker", "__version__", "backend", "sweep", "Plan", "Retention"]


def backend() -> str:
    """The backend the library uses right now: "c" (the extensions) or "python" (their
    pure-Python twins, when the extensions are not built or CKPTSCHED_NO_EXTENSIONS=1)."""
    return _backend.name()


if TYPE_CHECKING:
    #: Same as backend(), read when accessed (`from ckptsched import BACKEND` keeps the
    #: value of that moment).
    BACKEND: str
else:
    def __getattr__(name: str) -> Any:
        # PEP 562: BACKEND follows the backend in use, also inside _backend.use(...)
        if name == "BACKEND":
            return _backend.name()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | {"BACKEND"})

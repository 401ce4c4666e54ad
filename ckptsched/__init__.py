"""ckptsched: exact checkpoint / eval / log schedules for training loops.

    from ckptsched import Run, Schedule
    sched = Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=8)
    sched.should_save(217)  # True

Every step is computed with integer / rational arithmetic (a C core, or its pure-Python
twin); requests that cannot be honoured are reported as diagnostics on the "ckptsched"
logger (or raise, with strict=True).
"""
from ._backend import NAME as BACKEND
from ._version import __version__
from .diagnostics import CODES, Diagnostic, ScheduleError
from .run import Run
from .plan import Plan
from .retention import Retention
from .schedule import Schedule
from .tracker import Tracker
from .sweeps import SweepResult, sweep

__all__ = ["BACKEND", "CODES", "Diagnostic", "Run", "Schedule", "ScheduleError", "SweepResult",
           "Tracker", "__version__", "sweep"]
__all__ += ["Plan", "Retention"]

# expect: Property "diagnostics" defined in "Schedule" is read-only
"""Schedules are immutable: their diagnostics cannot be replaced."""
from ckptsched import Run, Schedule

sched = Schedule(Run(max_steps=100), every=10)
sched.diagnostics = ()

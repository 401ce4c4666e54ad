# expect: Argument "saves_per_epoch" to "Schedule" has incompatible type "str"
"""saves_per_epoch is a count: a string is rejected before the code runs."""
from ckptsched import Run, Schedule

Schedule(Run(steps_per_epoch=100, epochs=2), saves_per_epoch="five")

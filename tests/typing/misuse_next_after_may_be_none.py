# expect: Unsupported operand types for - ("None" and "int")
"""next_after returns None after the last step: using it as an int needs a check first."""
from ckptsched import Run, Schedule

sched = Schedule(Run(max_steps=100), every=10)
gap = sched.next_after(95) - 95

# expect: has incompatible type "list[float]"
"""at= lists integer steps; floats are rejected (also at run time, with a TypeError)."""
from ckptsched import Run, Schedule

steps = [1.5, 2.5]
Schedule(Run(max_steps=100), at=steps)

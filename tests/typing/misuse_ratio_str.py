# expect: Argument "ratio" to "Schedule" has incompatible type "str"
"""ratio= is a number (float, Fraction, Decimal), not a string."""
from ckptsched import Run, Schedule

Schedule(Run(max_steps=100), ratio="0.07")

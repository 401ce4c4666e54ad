# expect: Argument "every" to "sweep" has incompatible type "str"
"""A sweep takes every= as a whole number of steps; units ("2ep") are for Schedule."""
from ckptsched import sweep

sweep(steps_per_epoch=100, epochs=3, every="2ep")

# expect: Argument "keep_last" to "sweep" has incompatible type "str"
"""A sweep takes keep_last= as a number of checkpoints, not a string."""
from ckptsched import sweep

sweep(steps_per_epoch=100, epochs=3, every="2ep", keep_last="2")

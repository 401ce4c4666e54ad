# expect: Incompatible types in assignment
"""steps is an int64 array, not a float array."""
import numpy as np
import numpy.typing as npt

from ckptsched import Run, Schedule

steps: npt.NDArray[np.float64] = Schedule(Run(max_steps=100), every=10).steps

"""Type stubs for the C sweep backend; `_sweep_py.py` has the same API in Python."""
from typing import AbstractSet, Dict, Mapping, Optional, Sequence

import numpy as np
import numpy.typing as npt

from ._sweep_py import SweepArrays

NAME: str
ABSENT: int
OVERFLOW: int
FLAGS: Dict[str, int]
WHYS: Dict[str, int]

def sweep(n_runs: int, columns: Mapping[str, Optional[npt.NDArray[np.generic]]],
          counts_only: bool, *, general_only: bool = False,
          complete: AbstractSet[str] = ...) -> SweepArrays: ...
def rule_fill(rule: Sequence[int], n: int) -> npt.NDArray[np.int64]: ...

"""What transformers and Axolotl would do: their float arithmetic, reproduced on purpose.

These functions emulate other libraries' computations, float rounding included, so
that ckptsched can say what a user would get there instead (HF_MISMATCH, --compare-hf).
They are never used to compute a ckptsched schedule.

- transformers (Trainer, `TrainerState.compute_steps`): a `save_steps` / `eval_steps` /
  `logging_steps` below 1 is a ratio of `max_steps`, turned into an interval with
  `math.ceil(max_steps * ratio)` in float; `DefaultFlowCallback` then saves when
  `global_step % interval == 0`, and (save_strategy "steps") at the last step.
- Axolotl: `saves_per_epoch` becomes `save_steps = 1.0 / (saves_per_epoch * num_epochs)`
  when that is below 1, which transformers then treats as the ratio above.
"""
from __future__ import annotations

import math

from . import _backend
from ._common import RULE_EVERY

_impl = _backend.impl


def transformers_interval(total_steps: int, ratio: float) -> int:
    """transformers' interval for a ratio: math.ceil(total_steps * ratio) in float."""
    return max(1, math.ceil(total_steps * float(ratio)))


def axolotl_save_steps(saves_per_epoch: int, num_epochs: float) -> float:
    """Axolotl's ratio for `saves_per_epoch`: 1.0 / (saves_per_epoch * num_epochs) in float."""
    return 1.0 / (saves_per_epoch * float(num_epochs))


def transformers_engine(total_steps: int, interval: int):
    """A backend Engine for the steps transformers saves: multiples of `interval`, and the last."""
    return _impl.Engine([(RULE_EVERY, interval, interval, total_steps)], [total_steps])

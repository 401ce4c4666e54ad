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
from typing import TYPE_CHECKING, Optional, SupportsFloat, Tuple

from . import _backend
from ._common import RULE_EVERY

if TYPE_CHECKING:
    from ._schedule_py import Engine
    from .run import Run


def transformers_interval(total_steps: int, ratio: SupportsFloat) -> int:
    """transformers' interval for a ratio: math.ceil(total_steps * ratio) in float."""
    return max(1, math.ceil(total_steps * float(ratio)))


def transformers_total_steps(epochs: SupportsFloat, steps_per_epoch: int) -> int:
    """transformers' max_steps for num_train_epochs: math.ceil(float(epochs) * S) in float."""
    return max(1, math.ceil(float(epochs) * steps_per_epoch))


def axolotl_save_steps(saves_per_epoch: int, num_epochs: SupportsFloat) -> float:
    """Axolotl's ratio for `saves_per_epoch`: 1.0 / (saves_per_epoch * num_epochs) in float."""
    return 1.0 / (saves_per_epoch * float(num_epochs))


def transformers_engine(total_steps: int, interval: int) -> "Engine":
    """A backend Engine for the steps transformers saves: multiples of `interval`, and the last.

    An interval past the run (a float product can round up to 2**63) saves only the last step."""
    interval = min(interval, total_steps)
    engine: Engine = _backend.impl.Engine([(RULE_EVERY, interval, interval, total_steps)],
                                          [total_steps])
    return engine


def transformers_missed_epoch_ends(steps_per_epoch: int, total_steps: int, interval: int,
                                   limit: int) -> tuple[int, list[int]]:
    """The epoch ends S, 2S, ... before the last step that transformers, saving the steps
    of `transformers_engine(total_steps, interval)`, does not save: (how many, the first
    `limit` of them), in O(limit) whatever the number of epochs.

    Epoch end e*S is a multiple of the interval h iff e is a multiple of
    h / gcd(h, S); the last step is always saved."""
    S, T = steps_per_epoch, total_steps
    h = min(interval, T)
    period = h // math.gcd(h, S)  # every period-th epoch end is saved
    ends = (T - 1) // S           # epoch ends before T
    if period == 1:
        return 0, []
    missed = ends - ends // period
    # the first `limit` missed ends lie among the first limit * period / (period - 1) ends
    scan = min(ends, -(-limit * period // (period - 1)))
    return missed, [e * S for e in range(1, scan + 1) if e % period][:limit]


def transformers_equivalent(run: "Run", *, saves_per_epoch: Optional[int] = None,
                            count: Optional[int] = None, every: object = None,
                            ratio: Optional[SupportsFloat] = None) -> Optional[Tuple[str, int]]:
    """(description, interval) of the save_steps transformers would use for the first
    rule it can express, or None.  transformers has a single `save_steps`: an integer
    interval, or a ratio of max_steps below 1."""
    T = run.total_steps
    if saves_per_epoch is not None and run.epochs is not None:
        epochs = run._given.get("epochs", run.epochs)
        ratio_f = axolotl_save_steps(saves_per_epoch, epochs)
        if ratio_f < 1:
            interval = transformers_interval(T, ratio_f)
            return (f"Axolotl save_steps=1/({saves_per_epoch}*{epochs!r})={ratio_f!r} "
                    f"-> every {interval}", interval)
    if ratio is not None:
        interval = transformers_interval(T, float(ratio))
        return f"save_steps={float(ratio)!r} -> every {interval}", interval
    if count is not None:
        ratio_f = 1.0 / count
        interval = transformers_interval(T, ratio_f) if ratio_f < 1 else T
        return f"save_steps=1/{count}={ratio_f!r} -> every {interval}", interval
    if isinstance(every, int) and not isinstance(every, bool):
        return f"save_steps={every}", every
    return None

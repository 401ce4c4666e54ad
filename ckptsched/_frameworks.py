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
from fractions import Fraction
from typing import TYPE_CHECKING, Optional, SupportsFloat, Tuple

from . import _backend
from ._common import RULE_EVERY

if TYPE_CHECKING:
    from ._schedule_c import Engine  # the twins share its interface (declared in _schedule_c.pyi)
    from .run import Run


def readable(value: object) -> str:
    """A number as a person writes it: an exact rational as 5/2 (in parentheses, as it
    stands in a product), anything else (int, the user's float) as its repr."""
    if isinstance(value, Fraction) and type(value).__repr__ is Fraction.__repr__:
        return str(value.numerator) if value.denominator == 1 else f"({value})"
    return repr(value)


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
            return (f"Axolotl save_steps=1/({saves_per_epoch}*{readable(epochs)})={ratio_f!r} "
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


# ---- transformers' start-up checks (TrainingArguments.__post_init__) ---------------------------

from typing import TYPE_CHECKING, Optional, Union  # noqa: E402  (appended section)

if TYPE_CHECKING:
    from .run import Run

#: A transformers `save_steps` / `eval_steps` value: an int interval or a float ratio below 1.
StepsArgument = Union[int, float]


def transformers_steps_argument(run: Run, *, saves_per_epoch: Optional[int] = None,
                                count: Optional[int] = None, every: object = None,
                                ratio: Union[float, Fraction, None] = None
                                ) -> Optional[StepsArgument]:
    """The `save_steps` / `eval_steps` value a user of transformers would write for one rule, as
    `transformers_equivalent` reads it (Axolotl's ratio for saves_per_epoch, the float of a ratio,
    1/count, an integer every), or None when transformers has no such value.

    count=1 has none: 1/1 = 1.0 is not below 1, so transformers would read it as one step.
    """
    if saves_per_epoch is not None:
        if run.epochs is None:
            return None
        ratio_f = axolotl_save_steps(saves_per_epoch, run._given.get("epochs", run.epochs))
        return ratio_f if ratio_f < 1 else None
    if ratio is not None:
        return float(ratio)
    if count is not None:
        return 1.0 / count if count > 1 else None
    if isinstance(every, int) and not isinstance(every, bool):
        return every
    return None


def transformers_refusal(*, save_steps: StepsArgument, eval_steps: Optional[StepsArgument],
                         load_best_model_at_end: bool, save_strategy: str = "steps",
                         eval_strategy: str = "steps", logging_steps: StepsArgument = 500
                         ) -> Optional[str]:
    """The ValueError message transformers' `TrainingArguments` raises at start-up for these
    save / eval arguments, or None when it accepts them.

    `save_steps` / `eval_steps` are the values as a user gives them (an int interval, or a
    float ratio below 1); `eval_steps=None` falls back to `logging_steps` (transformers' default
    500) as transformers does.  The checks, in transformers' order (TrainingArguments.__post_init__
    / _validate_args of current releases), with their float arithmetic kept on purpose:
    - eval strategy "steps" without eval_steps or logging_steps;
    - a steps value above 1 that is not a whole number;
    - load_best_model_at_end (unless save_strategy="best"): the two strategies must match; with
      "steps", `save_steps % eval_steps` must be 0, and when it is not: a ratio mixed with
      absolute steps is refused, two ratios are refused when `(save * 1e6) % (eval * 1e6)` is not
      0 (older releases refuse any two ratios whose `%` is not 0), two absolute intervals are refused.
    """
    evals: StepsArgument = eval_steps or 0  # read only when eval_strategy is "steps"
    if eval_strategy == "steps" and not evals:
        if logging_steps > 0:
            evals = logging_steps
        else:
            return ("evaluation strategy steps requires either non-zero --eval_steps or "
                    "--logging_steps")
    for name, value, strategy in (("eval_steps", evals, eval_strategy),
                                  ("save_steps", save_steps, save_strategy)):
        if strategy == "steps" and value > 1 and value != int(value):
            return f"--{name} must be an integer if bigger than 1: {value}"
    if not load_best_model_at_end or save_strategy == "best":
        return None
    if eval_strategy != save_strategy:
        return ("--load_best_model_at_end requires the save and eval strategy to match, but found\n"
                f"- Evaluation strategy: {eval_strategy}\n- Save strategy: {save_strategy}")
    if eval_strategy != "steps" or save_steps % evals == 0:
        return None
    if evals < 1 or save_steps < 1:
        if not (evals < 1 and save_steps < 1):
            return ("--load_best_model_at_end requires the saving steps to be a multiple of the "
                    "evaluation steps, which cannot get guaranteed when mixing ratio and absolute "
                    f"steps for save_steps {save_steps} and eval_steps {evals}.")
        scale = 1_000_000
        if (save_steps * scale) % (evals * scale) != 0:
            return ("--load_best_model_at_end requires the saving steps to be a multiple of the "
                    f"evaluation steps, but found {save_steps}, which is not a multiple of "
                    f"{evals}.")
        return None
    return ("--load_best_model_at_end requires the saving steps to be a round multiple of the "
            f"evaluation steps, but found {save_steps}, which is not a round multiple of "
            f"{evals}.")

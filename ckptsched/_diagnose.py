"""The diagnostics a Schedule computes from its steps: what each code means, decided once.

`Schedule` calls these when it is built (the request-level ones, decided before any step
exists, are in `_rules.compile_request`).  A sweep run is a Schedule, so the pure-Python
sweep reads its flags from here too; only the C kernels (src_c/ckpt_sweep.c) compute the
same flags their own fast way, and the tests hold them equal run by run.  Where a
diagnostic compares with another library (HF_MISMATCH), that library's arithmetic is
emulated in `_frameworks`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from . import _backend
from . import schedule as _schedule  # Schedule's limits, read when a schedule is built
from ._common import RULE_EVEN
from ._frameworks import (axolotl_save_steps, transformers_engine, transformers_interval,
                          transformers_missed_epoch_ends)
from ._rules import Request, _preview
from .diagnostics import Diagnostic, make
from .run import Run

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._schedule_py import Engine


def _schedule_diagnostics(run: Run, req: Request, engine: "Engine") -> List[Diagnostic]:
    T = run.total_steps
    out: List[Diagnostic] = []
    last = engine.last()
    if last == 0:
        out.append(make("NO_SAVES", f"this schedule saves nothing: all {T} steps of work would "
                        "be lost; add a rule or keep final=True", total_steps=T))
    elif not req.final and last < T:
        lost = T - last  # a count for the message, not a schedule step
        out.append(make("FINAL_NOT_SAVED",
                        f"the last save is at step {last} of {T}: the final {lost} steps of work "
                        "are never saved; pass final=True or end the run on a scheduled step",
                        last_save=last, total_steps=T, steps_lost=lost))
    if req.saves_per_epoch is not None:
        out += _axolotl_diagnostics(run, req)
    return out


def _axolotl_diagnostics(run: Run, req: Request) -> List[Diagnostic]:
    """HF_MISMATCH: what Axolotl's save_steps = 1/(saves_per_epoch * num_epochs) does.

    O(1) in the number of epochs (plus the MAX_LISTED_EPOCH_ENDS missed ends it lists)."""
    k, T, S = req.saves_per_epoch, run.total_steps, run.steps_per_epoch
    if run.epochs is None or k is None:
        return []
    epochs = run._given.get("epochs", run.epochs)
    ratio = axolotl_save_steps(k, epochs)
    if ratio >= 1:
        return []
    interval = transformers_interval(T, ratio)
    hf = transformers_engine(T, interval)
    exact = _backend.impl.Engine([(RULE_EVEN, S, k, T)], [T] if req.final else [])
    n_missed, missed = transformers_missed_epoch_ends(S, T, interval, MAX_LISTED_EPOCH_ENDS)
    limit = _schedule.MAX_MATERIALIZED
    hf_count, count = hf.count(limit), exact.count(limit)
    if hf_count == count and not n_missed:
        return []
    return [make(
        "HF_MISMATCH",
        f"saves_per_epoch={k}: Axolotl sets save_steps = 1/({k}*{epochs!r}) = {ratio!r}, and "
        f"transformers saves every ceil({T} * {ratio!r}) = {interval} steps: "
        + (f"{hf_count} saves instead of {count}" if hf_count != count
           else f"{count} saves, but at other steps")
        + (f", missing epoch ends {_preview(missed[:8])}" if n_missed else "")
        + (f", ... ({n_missed} in all)" if n_missed > 8 else ""),
        framework="axolotl", hf_interval=interval, hf_count=hf_count, count=count,
        missed_epoch_ends=missed)]


#: The most epoch ends a diagnostic lists (runs may have billions of epochs).
MAX_LISTED_EPOCH_ENDS = 100_000


def _min_interval_diagnostics(run: Run, req: Request, full: "npt.NDArray[np.int64]",
                              kept: "npt.NDArray[np.int64]",
                              min_interval: int) -> List[Diagnostic]:
    out: List[Diagnostic] = []
    T = run.total_steps
    kept_set = set(kept.tolist())
    dropped = [int(s) for s in full if int(s) not in kept_set]
    # T survives only because it is forced when thinning without the force would drop it
    forced_closer = req.final and not _backend.impl.Engine(
        [], _backend.impl.min_interval(full, min_interval, 0)).contains(T)
    if dropped:
        out.append(make("MIN_INTERVAL_DROPPED",
                        f"min_interval={min_interval} dropped {len(dropped)} of {len(full)} "
                        f"scheduled steps: {_preview(dropped)}",
                        dropped=dropped, min_interval=min_interval))
    if forced_closer:
        before = int(kept[-2]) if len(kept) > 1 else None
        out.append(make("UNEVEN_TAIL",
                        f"the final save at {T} is kept although it comes less than "
                        f"min_interval={min_interval} steps after the save at {before} "
                        "(a forced final save is never dropped)",
                        min_interval=min_interval, previous_save=before, total_steps=T))
    epoch_based = req.saves_per_epoch is not None or (
        req.every is not None and req.every[1] == "epochs" and req.every[0].denominator == 1)
    if epoch_based and dropped and run.steps_per_epoch is not None:
        S = run.steps_per_epoch
        missed = [s for s in dropped if s % S == 0]  # scheduled epoch ends that were dropped
        if missed:
            out.append(make("EPOCH_END_MISSED",
                            f"min_interval={min_interval} drops the saves at epoch ends "
                            f"{_preview(missed)}; lower min_interval to keep every epoch end",
                            missed_epoch_ends=missed))
    return out


def _gap_diagnostics(run: Run, engine: "Engine", steps: "Optional[npt.NDArray[np.int64]]",
                     max_gap: int) -> List[Diagnostic]:
    if steps is None:
        steps = _schedule._materialize(engine, "max_gap", max_gap)
    gap, end = _backend.impl.longest_gap(steps, run.total_steps)
    if gap <= max_gap:
        return []
    return [make("LONG_GAP",
                 f"up to {gap} steps of work go unsaved (the stretch ending at step {end}), more "
                 f"than max_gap={max_gap}; add every={max_gap} or more saves",
                 longest_gap=gap, ends_at=end, max_gap=max_gap)]

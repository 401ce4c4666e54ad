"""The diagnostics a Schedule computes from its steps: what each code means, decided once.

`Schedule` calls these when it is built (the request-level ones, decided before any step
exists, are in `_rules.compile_request`).  A sweep run is a Schedule, so the pure-Python
sweep reads its flags from here too; only the C kernels (src_c/ckpt_sweep.c) compute the
same flags their own fast way, and the tests hold them equal run by run.  Where a
diagnostic compares with another library (HF_MISMATCH), that library's arithmetic is
emulated in `_frameworks`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from . import _backend
from . import schedule as _schedule  # Schedule's limits, read when a schedule is built
from ._frameworks import (axolotl_save_steps, readable, transformers_interval,
                          transformers_missed_epoch_ends)
from ._numbers import show
from ._rules import Request, _preview, count_rule, saves_per_epoch_rule
from .diagnostics import Diagnostic
from .run import Run

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._schedule_c import Engine  # the twins share its interface (declared in _schedule_c.pyi)


def _schedule_diagnostics(run: Run, req: Request, engine: "Engine") -> List[Diagnostic]:
    T = run.total_steps
    w = req.words
    out: List[Diagnostic] = []
    last = engine.last()
    if last == 0:
        out.append(w.diagnostic("NO_SAVES", f"this schedule {w.verb} nothing: all {T} steps "
                                f"{w.missing}; add a rule or keep final=True", total_steps=T))
    elif not req.final and last < T:
        lost = T - last  # a count for the message, not a schedule step
        out.append(w.diagnostic(
            "FINAL_NOT_SAVED",
            f"the last {w.step} is at step {last} of {T}: the final {lost} steps {w.missing}; "
            "pass final=True or end the run on a scheduled step",
            last_save=last, total_steps=T, steps_lost=lost))
    return out + _framework_diagnostics(run, req)


#: The most differing steps an HF_MISMATCH message lists (its count is exact).
MAX_LISTED_DIFFERENCES = 8
#: The most epoch ends a diagnostic lists (runs may have billions of epochs).
MAX_LISTED_EPOCH_ENDS = 100_000


def _framework_diagnostics(run: Run, req: Request) -> List[Diagnostic]:
    """HF_MISMATCH, once per rule that transformers (or Axolotl) can express, when they would
    act at other steps than the rule (with the final step when final=True) -- another count,
    or the same count elsewhere.  Each comparison is O(log T), whatever the number of epochs."""
    T, S, w = run.total_steps, run.steps_per_epoch, req.words
    out: List[Diagnostic] = []
    k = req.saves_per_epoch
    if k is not None and S is not None and run.epochs is not None and w.per_epoch is not None:
        epochs = run._given.get("epochs", run.epochs)
        ratio = axolotl_save_steps(k, epochs)
        if ratio < 1:
            h = transformers_interval(T, ratio)
            n_missed, missed = transformers_missed_epoch_ends(S, T, min(h, T),
                                                              MAX_LISTED_EPOCH_ENDS)
            label, (_, span, parts, _) = saves_per_epoch_rule(run, k)
            out += _compare(req, T, (span, parts), h, extra=(
                f"{w.per_epoch}={k}: Axolotl sets {w.hf_argument} = 1/({k}*{readable(epochs)}) "
                f"= {ratio!r}, and transformers {w.verb} every ceil({T} * {ratio!r}) = {h} steps"),
                missed=(n_missed, missed), framework="axolotl", rule=label)
    if req.count is not None and req.count > 1:
        n = req.count
        ratio = 1.0 / n
        h = transformers_interval(T, ratio)
        label, (_, span, parts, _) = count_rule(T, n)
        out += _compare(req, T, (span, parts), h, extra=(
            f"{label}: as {w.hf_argument}=1/{n}={ratio!r}, transformers {w.verb} every "
            f"ceil({T} * {ratio!r}) = {h} steps"), framework="transformers", rule=label)
    every = req.every
    if (every is not None and every[1] == "steps" and req.start is None
            and req.until is None):
        n = int(every[0])
        label = f"every={show(req.every_given)}"
        out += _compare(req, T, (n, 1), n, extra=(
            f"{label}: as {w.hf_argument}={n}, transformers {w.verb} every {n} steps"),
            framework="transformers", rule=label, interval=n)
    if req.ratio is not None:
        r = req.ratio
        interval = _backend.impl.ratio_interval(T, r.numerator, r.denominator)
        given = float(req.ratio_given)
        h = transformers_interval(T, given)
        label = f"ratio={show(req.ratio_given)}"
        out += _compare(req, T, (interval, 1), h, extra=(
            f"{label}: transformers computes ceil({T} * {given!r}) in float = {h} and "
            f"{w.verb} every {h} steps"
            + (f"; the exact interval ceil({T} * {r}) is {interval}" if h != interval else "")),
            framework="transformers", rule=label, interval=interval)
    return out


def _compare(req: Request, T: int, spacing: Tuple[int, int], h: int, *, extra: str,
             missed: Tuple[int, List[int]] = (0, []), **data: object) -> List[Diagnostic]:
    """[HF_MISMATCH] when the rule with boundaries every a/b steps (a, b = `spacing`; plus T
    when final=True) and transformers' steps (multiples of `h`, plus T when it acts at the
    last step) differ; [] when they are the same steps.  `extra` opens the message."""
    w = req.words
    a, b = spacing
    if b > a:  # boundaries closer than a step: every step (FEWER_THAN_REQUESTED)
        a, b = 1, 1
    cmp = _StepComparison(T, a, b, req.final, h, w.hf_at_last)
    differ = cmp.differing_count()
    n_missed, missed_ends = missed
    if not differ:
        return []
    exact_only, theirs_only = cmp.first_differences(MAX_LISTED_DIFFERENCES)
    count, hf_count = cmp.exact_count(), cmp.hf_count()
    message = (extra + ": "
               + (f"{hf_count} {w.steps} instead of {count}" if hf_count != count
                  else f"{count} {w.steps}, but at other steps")
               + f"; first differences: exact {_preview(exact_only) or '-'} vs transformers "
               f"{_preview(theirs_only) or '-'} ({show(differ)} "
               + ("step differs" if differ == 1 else "steps differ") + " in all)"
               + (f", missing epoch ends {_preview(missed_ends[:8])}" if n_missed else "")
               + (f", ... ({n_missed} in all)" if n_missed > 8 else ""))
    if data.get("framework") == "axolotl":
        data["missed_epoch_ends"] = missed_ends
    return [w.diagnostic("HF_MISMATCH", message, hf_interval=h, hf_count=hf_count,
                         count=count, differing_count=differ, exact_only=exact_only,
                         hf_only=theirs_only, **data)]


def _floor_sum(n: int, m: int, a: int, b: int) -> int:
    """sum(floor((a*i + b) / m) for i in range(n)) for n, a, b >= 0 and m >= 1, in
    O(log m) steps (the Euclid-like reduction of floor sums)."""
    total = 0
    while True:
        if a >= m:
            total += n * (n - 1) // 2 * (a // m)
            a %= m
        if b >= m:
            total += n * (b // m)
            b %= m
        y_max = a * n + b
        if y_max < m:
            return total
        n, b = divmod(y_max, m)
        m, a = a, m


class _StepComparison:
    """Two step sets of a T-step run, compared in closed form (never walked):

    exact   ceil(i*a/b) for i >= 1 (a >= b: boundaries every a/b >= 1 steps), up to T, and T
            when `final`;
    theirs  the multiples of h below T, and T when h divides it or `at_last` (transformers'
            `step % h == 0`, and its save at the last step).

    Below T, the number of steps in one set only among 1..x is
    D(x) = |exact <= x| + |theirs <= x| - 2 |both <= x|, where a step s is exact iff
    floor(s*b/a) > floor((s-1)*b/a); |both <= x| sums that over s = h, 2h, ... with floor sums."""

    #: Steps of each set merged directly before falling back to binary searches on D.
    MERGED = 256

    def __init__(self, T: int, a: int, b: int, final: bool, h: int, at_last: bool):
        self.T, self.a, self.b, self.h = T, a, b, h
        self.exact_at_T = final or self._is_exact(T)
        self.theirs_at_T = at_last or T % h == 0

    def _is_exact(self, s: int) -> bool:
        return (s * self.b) // self.a > ((s - 1) * self.b) // self.a

    def _differing_below(self, x: int) -> int:
        """D(x) for 0 <= x < T."""
        a, b, h = self.a, self.b, self.h
        multiples = x // h
        hb = h * b
        both = _floor_sum(multiples, a, hb, hb) - _floor_sum(multiples, a, hb, hb - b)
        return x * b // a + multiples - 2 * both

    def differing_count(self) -> int:
        """How many steps are in one set only."""
        return self._differing_below(self.T - 1) + (self.exact_at_T != self.theirs_at_T)

    def exact_count(self) -> int:
        return self.T * self.b // self.a + (self.exact_at_T and not self._is_exact(self.T))

    def hf_count(self) -> int:
        return self.T // self.h + (self.theirs_at_T and self.T % self.h != 0)

    def first_differences(self, limit: int) -> Tuple[List[int], List[int]]:
        """The first `limit` steps in one set only, split into (exact only, theirs only)."""
        found = self._merged(limit)
        below_T = self._differing_below(self.T - 1)
        covered = found[-1] if found else 0
        while len(found) < limit and len(found) < below_T:
            found.append(self._nth_difference(len(found) + 1, covered))
            covered = found[-1]
        if len(found) < limit and self.exact_at_T != self.theirs_at_T:
            found.append(self.T)
        exact = [s for s in found if (self.exact_at_T if s == self.T else self._is_exact(s))]
        return exact, [s for s in found if s not in exact]

    def _merged(self, limit: int) -> List[int]:
        """The differing steps below T among the first MERGED steps of both sets (a bounded
        merge: cheap for the usual early difference)."""
        a, b, h, T = self.a, self.b, self.h, self.T
        exact = {-(-i * a // b) for i in range(1, self.MERGED + 1)}
        theirs = {i * h for i in range(1, self.MERGED + 1)}
        horizon = min(max(exact), max(theirs), T)  # both sets are complete below it
        return sorted(s for s in exact ^ theirs if s < horizon)[:limit]

    def _nth_difference(self, n: int, after: int) -> int:
        """The n-th differing step below T (it exists and lies after `after`): a binary search
        on D."""
        lo, hi = after + 1, self.T - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self._differing_below(mid) >= n:
                hi = mid
            else:
                lo = mid + 1
        return lo


def _min_interval_diagnostics(run: Run, req: Request, full: "npt.NDArray[np.int64]",
                              kept: "npt.NDArray[np.int64]",
                              min_interval: int) -> List[Diagnostic]:
    out: List[Diagnostic] = []
    T, w = run.total_steps, req.words
    kept_set = set(kept.tolist())
    dropped = [int(s) for s in full if int(s) not in kept_set]
    # T survives only because it is forced when thinning without the force would drop it
    forced_closer = req.final and not _backend.impl.Engine(
        [], _backend.impl.min_interval(full, min_interval, 0)).contains(T)
    if dropped:
        out.append(w.diagnostic("MIN_INTERVAL_DROPPED",
                        f"min_interval={min_interval} dropped {len(dropped)} of {len(full)} "
                        f"scheduled steps: {_preview(dropped)}",
                        dropped=dropped, min_interval=min_interval))
    if forced_closer:
        before = int(kept[-2]) if len(kept) > 1 else None
        out.append(w.diagnostic("UNEVEN_TAIL",
                        f"the final {w.step} at {T} is kept although it comes less than "
                        f"min_interval={min_interval} steps after the {w.step} at {before} "
                        f"(a forced final {w.step} is never dropped)",
                        min_interval=min_interval, previous_save=before, total_steps=T))
    epoch_based = req.saves_per_epoch is not None or (
        req.every is not None and req.every[1] == "epochs" and req.every[0].denominator == 1)
    if epoch_based and dropped and run.steps_per_epoch is not None:
        S = run.steps_per_epoch
        missed = [s for s in dropped if s % S == 0]  # scheduled epoch ends that were dropped
        if missed:
            out.append(w.diagnostic("EPOCH_END_MISSED",
                            f"min_interval={min_interval} drops the {w.steps} at epoch ends "
                            f"{_preview(missed)}; lower min_interval to keep every epoch end",
                            missed_epoch_ends=missed))
    return out


def _gap_diagnostics(run: Run, req: Request, engine: "Engine",
                     steps: "Optional[npt.NDArray[np.int64]]", max_gap: int) -> List[Diagnostic]:
    w = req.words
    if steps is None:
        steps = _schedule._materialize(engine, "max_gap", max_gap)
    gap, end = _backend.impl.longest_gap(steps, run.total_steps)
    if gap <= max_gap:
        return []
    return [w.diagnostic("LONG_GAP",
                         f"up to {gap} steps {w.missing} (the stretch ending at step {end}), "
                         f"more than max_gap={max_gap}; add every={max_gap} or more {w.steps}",
                         longest_gap=gap, ends_at=end, max_gap=max_gap)]

"""`Retention`: which saved checkpoints stay on disk (keep_last, keep_every, keep_best).

    keep = Retention(keep_last=2, keep_every="1ep", keep_best=1).bind(run)
    for path in keep.to_delete(steps_on_disk, metrics={step: eval_loss}):   # after each save
        ...

The policy (docs/semantics.md, "Plans"): the union of
- keep_last=N: the N most recent checkpoints (None: keep all);
- keep_every=...: for each step k of that Schedule rule, forever, the first save at or after k
  (a boundary crossing: a keep step that is not a save keeps the next save);
- keep_best=K: the K best-scoring checkpoints among those with a metric;
- the newest checkpoint, always.
Deletion only ever follows a completed save, so the disk briefly holds one more than the policy.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from ._numbers import INT64_MAX, parse_every, to_bool, to_int
from .diagnostics import Diagnostic, make
from .run import Run
from .schedule import Schedule

Steps = npt.NDArray[np.int64]

#: What keep_every accepts: an int (every n steps), a unit string ("1ep", "10000sp"), or a dict
#: of Schedule rule arguments (dict(every=1000, start=500), dict(saves_per_epoch=1), ...).
KeepEvery = Union[int, str, Mapping[str, Any], None]

#: The Schedule arguments a keep_every dict may use: the rules (not final / strict / ...).
KEEP_EVERY_RULES = ("saves_per_epoch", "count", "every", "start", "until", "ratio", "at", "first")


def _rebuild(keep_last: Optional[int], keep_every: KeepEvery, keep_best: Optional[int],
             run: Optional[Run]) -> Retention:
    retention = Retention(keep_last=keep_last, keep_every=keep_every, keep_best=keep_best)
    return retention if run is None else retention.bind(run)


def _freeze(value: object) -> object:
    """A hashable stand-in for a keep_every value (lists and arrays become tuples)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return tuple(int(v) if isinstance(v, numbers.Integral) else v for v in items)
    return value


def _keep_every_rules(keep_every: KeepEvery) -> Optional[dict[str, Any]]:
    """keep_every as Schedule rule arguments, with the checks that need no run."""
    if keep_every is None:
        return None
    if isinstance(keep_every, str):
        parse_every(keep_every, "keep_every")
        return {"every": keep_every}
    if isinstance(keep_every, Mapping):
        unknown = [k for k in keep_every if k not in KEEP_EVERY_RULES]
        if unknown:
            raise ValueError(f"keep_every={dict(keep_every)!r}: {unknown[0]!r} is not a keep rule; "
                             f"use the Schedule rule arguments {', '.join(KEEP_EVERY_RULES)}")
        if not keep_every:
            raise ValueError("keep_every={} has no rule; pass e.g. dict(every=1000) or None")
        return dict(keep_every)
    if isinstance(keep_every, bool) or not isinstance(keep_every, numbers.Integral):
        raise TypeError(f"keep_every must be an int (every n steps), a string such as '1ep' or "
                        f"'10000sp', a dict of Schedule rule arguments, or None; got "
                        f"{keep_every!r} ({type(keep_every).__name__})")
    return {"every": to_int(keep_every, "keep_every")}


def _first_at_or_after(steps: Steps, boundaries: Steps) -> npt.NDArray[np.bool_]:
    """For sorted distinct `steps`: is steps[i] the first of `steps` at or after some boundary?

    That is: does a boundary lie in (steps[i-1], steps[i]] (with steps[-1] read as 0)?
    Vectorized: one binary search of each step's predecessor among the sorted boundaries."""
    found = np.zeros(len(steps), dtype=bool)
    if len(steps) == 0 or len(boundaries) == 0:
        return found
    previous = np.concatenate((np.zeros(1, dtype=np.int64), steps[:-1]))
    following = np.searchsorted(boundaries, previous, side="right")  # first boundary > previous
    inside = following < len(boundaries)
    found[inside] = boundaries[following[inside]] <= steps[inside]
    return found


def steps_array(values: object, name: str) -> Steps:
    """Checkpoint steps as a sorted array of distinct int64 >= 1 (any order, repeats merged).

    Accepts a 1-D integer numpy array or any iterable of integers; bools, floats, strings,
    steps < 1 and steps past int64 raise TypeError / ValueError / OverflowError naming the
    argument and the value."""
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of steps, got shape {values.shape}")
        if values.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an array of integer steps, got dtype {values.dtype}")
        if values.dtype == np.uint64 and len(values) and int(values.max()) > INT64_MAX:
            raise OverflowError(f"{name} holds {int(values.max())}, past the int64 range")
        array = values.astype(np.int64)
        if len(array) and array.min() < 1:
            at = int(np.argmax(array < 1))
            raise ValueError(f"{name}[{at}] must be a step >= 1, got {int(array[at])}")
    elif isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be an iterable of integer steps (list, set, 1-D integer "
                        f"array, ...), got {values!r} ({type(values).__name__})")
    else:
        array = np.array([to_int(v, f"{name}[{i}]") for i, v in enumerate(values)],
                         dtype=np.int64)
    return _sorted_distinct(array)


def _sorted_distinct(array: Steps) -> Steps:
    """`array` sorted, repeats dropped (a sort and a comparison: no hashing)."""
    if len(array) > 1 and not bool(np.all(array[1:] > array[:-1])):
        array = np.sort(array)
        array = array[np.concatenate(([True], array[1:] != array[:-1]))]
    return array


def _metric(value: object, step: int) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"metrics[{step}] must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    return float(value)


class Retention:
    """Which checkpoints stay on disk: the union of keep_last, keep_every, keep_best and the newest.

    keep_last=N      the N most recent checkpoints (None: keep every checkpoint)
    keep_every=...   forever, for each step k of a Schedule rule -- every=n as an int, a unit
                     string ("1ep", "10000sp", "1e9tok") or a dict of rule arguments
                     (dict(every=1000), dict(saves_per_epoch=1), dict(at=[...])) -- the first
                     save at or after k.  A keep step that is not a save keeps the next save
                     (Orbax's and Levanter's `step % n == 0` keep nothing then).
    keep_best=K      the K best checkpoints by a metric given at run time (to_delete(metrics=))

    The newest checkpoint is always kept.  keep_every needs the run's geometry: use the
    Retention a Plan holds (`plan.keep`) or `retention.bind(run)`.  Immutable, hashable,
    picklable.
    """

    __slots__ = ("keep_last", "keep_every", "keep_best", "run", "keep_schedule", "_rules", "_key")

    keep_last: Optional[int]
    keep_every: KeepEvery
    keep_best: Optional[int]
    run: Optional[Run]
    keep_schedule: Optional[Schedule]
    _rules: Optional[dict[str, Any]]
    _key: tuple[object, ...]

    def __init__(self, keep_last: Optional[int] = None, keep_every: KeepEvery = None,
                 keep_best: Optional[int] = None) -> None:
        last = None if keep_last is None else to_int(keep_last, "keep_last")
        best = None if keep_best is None else to_int(keep_best, "keep_best")
        rules = _keep_every_rules(keep_every)
        # a dict is copied into a read-only view: the policy cannot change behind its back
        given = MappingProxyType(dict(keep_every)) if isinstance(keep_every, Mapping) else keep_every
        self._set(last, given, best, None, None, rules)

    def _set(self, keep_last: Optional[int], keep_every: KeepEvery, keep_best: Optional[int],
             run: Optional[Run], keep_schedule: Optional[Schedule],
             rules: Optional[dict[str, Any]]) -> None:
        key = (keep_last, _freeze(keep_every), keep_best, run)
        for name, value in (("keep_last", keep_last), ("keep_every", keep_every),
                            ("keep_best", keep_best), ("run", run),
                            ("keep_schedule", keep_schedule), ("_rules", rules), ("_key", key)):
            object.__setattr__(self, name, value)

    # ---- binding ----------------------------------------------------------------------

    def bind(self, run: Run) -> Retention:
        """This policy on `run`: keep_every resolved to the run's steps (`keep_schedule`).

        Errors in keep_every that need the run (e.g. "1ep" on a Run without steps_per_epoch)
        are raised here, naming keep_every."""
        if not isinstance(run, Run):
            raise TypeError(f"run must be a ckptsched.Run, got {type(run).__name__}")
        if run == self.run:
            return self
        schedule = None
        if self._rules is not None:
            try:
                schedule = Schedule._build(run, {**self._rules, "final": False}, log=False)
            except (TypeError, ValueError, OverflowError) as exc:
                raise type(exc)(f"keep_every={self._keep_every_given()!r}: {exc}") from None
        bound = Retention.__new__(Retention)
        bound._set(self.keep_last, self.keep_every, self.keep_best, run, schedule, self._rules)
        return bound

    def with_keep_best(self, keep_best: Optional[int]) -> Retention:
        """The same policy (bound to the same run) with another keep_best."""
        bound = Retention(keep_last=self.keep_last, keep_every=self.keep_every,
                          keep_best=keep_best)
        return bound if self.run is None else bound.bind(self.run)

    @property
    def keep_steps(self) -> Steps:
        """The keep_every steps on the bound run (sorted int64, read-only; empty without keep_every).

        ValueError when unbound with keep_every, or when there are more than the 2**27 steps a
        schedule may hold in memory (keep forever that many checkpoints?  use a coarser rule)."""
        if self._rules is None:
            return np.zeros(0, dtype=np.int64)
        if self.keep_schedule is None:
            raise ValueError(
                f"keep_every={self._keep_every_given()!r} needs the run's steps: use plan.keep (the "
                "Retention of a Plan) or retention.bind(run) before to_delete")
        try:
            steps: Steps = self.keep_schedule.steps
        except ValueError as exc:
            raise ValueError(f"keep_every={self._keep_every_given()!r}: {exc}") from None
        return steps

    def keep_diagnostics(self) -> tuple[Diagnostic, ...]:
        """The keep_every schedule's own diagnostics that apply to keeping (a rule that never
        fires in the run: OUT_OF_RANGE), or () when unbound or without keep_every."""
        if self.keep_schedule is None:
            return ()
        return tuple(make(d.code, f"keep_every={self._keep_every_given()!r}: {d.message}",
                          **{**d.data, "schedule": "keep"})
                     for d in self.keep_schedule.diagnostics if d.code == "OUT_OF_RANGE")

    # ---- the decision -----------------------------------------------------------------------

    def kept(self, saved_steps: object, *, metrics: Optional[Mapping[int, object]] = None,
             greater_is_better: bool = False) -> Steps:
        """The checkpoints the policy keeps among `saved_steps` (sorted int64): see to_delete."""
        steps = steps_array(saved_steps, "saved_steps")
        return steps[self._kept_mask(steps, metrics, greater_is_better)]

    def to_delete(self, saved_steps: object, *, metrics: Optional[Mapping[int, object]] = None,
                  greater_is_better: bool = False) -> Steps:
        """The checkpoints to delete now, given the steps of the checkpoints on disk (any order,
        the save just completed included): a sorted int64 array, never the newest.

        A pure function of `saved_steps`, the policy and `metrics`: identical on every rank,
        and resume-safe -- called on what is on disk after a crash (even one in the middle of a
        deletion) it gives what the uninterrupted run would have deleted.  Why keep_every can be
        read from the disk alone: for a keep step k, the first save at or after k, f(k), is never
        deleted once made (this rule keeps it, and by induction it is on disk at every later
        call), so f(k) is on disk whenever any save >= k is; and no save lies in [k, f(k)).
        Hence f(k) is exactly the smallest step on disk that is >= k, i.e. the step d on disk
        with a keep step in (the step on disk before d, d].  keep_last keeps the N
        largest steps on disk, which are the N most recent saves; keep_best keeps the K best of
        the steps on disk that have a metric, which are the K best saved so far (a checkpoint
        once out of the K best never comes back).  Every rule is thus decided by the steps on
        disk, and a superset of them left by an interrupted deletion decides the same.

        metrics={step: value} (keep_best): give the metric of every checkpoint on disk (after a
        resume, read them back, e.g. from each checkpoint's saved state): a checkpoint without
        one is no candidate and may be deleted.  Metrics of steps not on disk are ignored; lower
        is better unless greater_is_better=True; NaN ranks worst (a diverged evaluation); among
        equal values the earlier step wins.
        """
        steps = steps_array(saved_steps, "saved_steps")
        return steps[~self._kept_mask(steps, metrics, greater_is_better)]

    def _kept_mask(self, steps: Steps, metrics: Optional[Mapping[int, object]],
                   greater_is_better: object) -> npt.NDArray[np.bool_]:
        higher = to_bool(greater_is_better, "greater_is_better")
        kept = np.zeros(len(steps), dtype=bool)
        if self.keep_best is not None and metrics is None:
            raise ValueError(f"keep_best={self.keep_best} needs the metric of the checkpoints: "
                             "pass metrics={step: value} (e.g. the eval loss at each save)")
        if metrics is not None and not isinstance(metrics, Mapping):
            raise TypeError(f"metrics must be a mapping {{step: value}}, got {metrics!r} "
                            f"({type(metrics).__name__})")
        if len(steps) == 0:
            return kept
        kept[-1] = True  # the newest
        if self.keep_last is None:
            kept[:] = True
        else:
            kept[-self.keep_last:] = True
        if self._rules is not None:
            kept |= _first_at_or_after(steps, self.keep_steps)
        if self.keep_best is not None and metrics is not None:
            kept[self._best_positions(steps, metrics, higher)] = True
        return kept

    def _best_positions(self, steps: Steps, metrics: Mapping[int, object],
                        higher: bool) -> list[int]:
        """Positions in `steps` of the keep_best best steps that have a metric."""
        assert self.keep_best is not None
        scored = []
        for step, value in metrics.items():
            step = to_int(step, "metrics key")
            score = _metric(value, step)
            position = int(np.searchsorted(steps, step))
            if position < len(steps) and steps[position] == step:
                worst = math.isnan(score)
                order = 0.0 if worst else (-score if higher else score)
                scored.append((worst, order, step, position))
        scored.sort()
        return [position for *_, position in scored[:self.keep_best]]

    # ---- identity ---------------------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Retention is immutable; build a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Retention is immutable; build a new one")

    def _keep_every_given(self) -> KeepEvery:
        """keep_every as given (a dict again, for repr and pickle)."""
        return dict(self.keep_every) if isinstance(self.keep_every, Mapping) else self.keep_every

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.keep_last, self._keep_every_given(), self.keep_best, self.run))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Retention) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in (
            ("keep_last", self.keep_last), ("keep_every", self._keep_every_given()),
            ("keep_best", self.keep_best)) if value is not None)
        text = f"Retention({args})"
        return text if self.run is None else f"{text}.bind({self.run!r})"

"""The pure-Python sweep backend: a loop over Schedule, one run at a time.

Run i of a sweep *is* `Schedule(Run(...row i...), ...)`: its count is that schedule's
length, its steps are that schedule's steps, and its flags are the codes of that
schedule's diagnostics.  Nothing here decides what a diagnostic means; this module reads
the kernel columns, checks each row against the kernel's domains in the kernel's order (so
that a bad row raises the same `RowError` as the C kernels, src_c/ckpt_sweep.c), builds the
row's Schedule and reads it.  It is the fallback when the `_sweep_c` extension is missing
(or CKPTSCHED_NO_EXTENSIONS=1) and the oracle the C kernels are tested against.  Both
backends expose `sweep(n_runs, columns, counts_only)` with the same columns, results and
errors; the facade (`ckptsched.sweep`) turns a RowError into a message naming the
argument, the run and the value.

Columns (what `ckptsched.sweep` prepares; see src_c/ckpt_sweep.h for their domains):
a name of COLUMNS -> None (absent in every run) or a 1-D C-contiguous numpy array of
length 1 (one value for every run) or n_runs.  int64 columns hold ABSENT where a run
does not give that argument; "final" is uint8; "epochs_float" / "ratio_float" are float64:
the values as the user gave them, which transformers' and Axolotl's float arithmetic
(HF_MISMATCH) starts from.
"""
from __future__ import annotations

import os
from fractions import Fraction
from typing import AbstractSet, Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import numpy.typing as npt

from . import schedule as _schedule
from ._common import INT64_MAX, STATUS_CAPACITY, STATUS_DOMAIN, STATUS_OVERFLOW
from .diagnostics import CODES
from .plan import Plan
from .retention import Retention
from .run import Run

NAME = "python"

#: "Not given in this run" in an int64 column (CKPT_SWEEP_ABSENT).
ABSENT = -(2**63)
#: every_span: the unit spacing's terms leave int64 (CKPT_SWEEP_OVERFLOW).
OVERFLOW = -(2**63) + 1

#: The kernel's columns, as in ckpt_sweep_in.
COLUMNS = ("steps_per_epoch", "epochs_num", "epochs_den", "epochs_float", "max_steps",
           "saves_per_epoch", "every", "count", "ratio_num", "ratio_den", "ratio_float",
           "final", "min_interval", "checkpoint_bytes", "keep_last",
           "every_span", "every_parts", "every_first", "every_whole_epochs",
           # read by this twin only (the C kernels get the steps_per_epoch and every_*
           # columns the facade computed from them): the run as Run.from_dataset and
           # Schedule(every="<amount><unit>") take it
           "num_examples", "micro_batch_size", "grad_accum", "world_size", "drop_last",
           "step_partial", "every_num", "every_den", "every_unit",
           "samples_num", "samples_den", "tokens_num", "tokens_den")

#: every_unit codes -> the unit suffix Schedule's every= parses.
UNITS = {1: "ep", 2: "sp", 3: "tok"}

#: The arguments a row error can be about (ckpt_sweep_arg: index in this tuple, -1 none).
ARGS = ("steps_per_epoch", "epochs", "max_steps", "saves_per_epoch", "every", "count",
        "ratio", "final", "min_interval", "checkpoint_bytes", "keep_last")

#: The columns a caller may leave to the sweep to check (`complete=`): the kernels' fast
#: paths take only values >= 1 in them, so ABSENT there reaches the row checks.
COMPLETE_COLUMNS = ("steps_per_epoch", "saves_per_epoch")


def complete_bits(complete: AbstractSet[str]) -> int:
    """ckpt_sweep_in.complete of column names (bit i: ARGS[i]); ValueError for another."""
    if not set(complete) <= set(COMPLETE_COLUMNS):
        raise ValueError(f"complete= takes {COMPLETE_COLUMNS}, not {sorted(complete)}")
    return sum(1 << ARGS.index(name) for name in complete)


# Why a row stopped the sweep (ckpt_sweep_why).
WHY_VALUE = 1      # the argument's value is outside its domain
WHY_MISSING = 2    # no max_steps, and the argument (steps_per_epoch or epochs) is missing
WHY_NEEDS_SPE = 3  # saves_per_epoch without steps_per_epoch
WHY_OVERFLOW = 4   # epochs * steps_per_epoch, or count * checkpoint_bytes, leaves int64
WHY_TOTAL = 5      # the running total of saves leaves int64 at this run
WHY_INTERNAL = 6   # a run's slice does not match its count (a bug)
WHY_WALK = 7       # the run's union must be walked (several rules, or min_interval > 1)
                   # and has more steps than a Schedule walks (schedule.MAX_MATERIALIZED)

#: Diagnostic flag bits: bit i is the i-th code of ckptsched.CODES.
FLAGS: Dict[str, int] = {code: 1 << i for i, code in enumerate(CODES)}

Int64Array = npt.NDArray[np.int64]
#: (counts, offsets, steps, flags, bytes, peak, peak_bytes, survivors)
SweepArrays = Tuple[Int64Array, Optional[Int64Array], Optional[Int64Array],
                    npt.NDArray[np.uint32], Optional[Int64Array], Int64Array,
                    Optional[Int64Array], Int64Array]


class RowError(Exception):
    """Run `row` stopped the sweep: `arg` (an index into ARGS, -1 for none) and `why`."""

    def __init__(self, status: int, row: int, arg: int, why: int):
        super().__init__(status, row, arg, why)
        self.status, self.row, self.arg, self.why = status, row, arg, why


class _AsGiven(Fraction):
    """A run's epochs or ratio: exactly the rational num/den, and, as a float, the value
    the user gave (the kernel's epochs_float / ratio_float column).

    Run and Schedule compute steps from the exact rational and emulate transformers and
    Axolotl from float(value), as they do for a user's float; a sweep column carries the
    two apart, and this puts them back together."""

    _as_float: float

    def __new__(cls, num: int, den: int, as_float: float) -> "_AsGiven":
        self = super().__new__(cls, num, den)
        self._as_float = as_float
        return self

    def __float__(self) -> float:
        return self._as_float

    def __repr__(self) -> str:
        return repr(self._as_float)


class _Columns:
    """The kernel columns, read run by run as Python ints and floats."""

    def __init__(self, columns: Mapping[str, Optional[npt.NDArray[np.generic]]], n_runs: int,
                 complete: AbstractSet[str] = frozenset()):
        complete_bits(complete)  # only the columns it may name
        self.complete = complete
        self._lists: Dict[str, Tuple[List[Any], int]] = {}
        for name in COLUMNS:
            col = columns.get(name)
            if col is not None:
                if len(col) not in (1, n_runs):
                    raise ValueError(f"column {name} has {len(col)} values for {n_runs} runs")
                self._lists[name] = (col.tolist(), 0 if len(col) == 1 else 1)

    def given(self, name: str) -> bool:
        """Is the column there (for some runs at least)?"""
        return name in self._lists

    def _value(self, name: str, i: int) -> Any:
        values, step = self._lists[name]
        return values[i * step]

    def integer(self, name: str, i: int, default: int) -> int:
        """Run i's value of an integer column (`default` when the column is absent)."""
        return int(self._value(name, i)) if name in self._lists else default

    def integer_column(self, name: str) -> Int64Array:
        """A given integer column as int64 (length 1 or n_runs: it broadcasts)."""
        return np.array(self._lists[name][0], dtype=np.int64)

    def real(self, name: str, i: int) -> Optional[float]:
        """Run i's value of a float64 column, None when the column is absent."""
        return float(self._value(name, i)) if name in self._lists else None


def _fail(i: int, arg: Optional[str], why: int, status: int = STATUS_DOMAIN) -> RowError:
    return RowError(status, i, -1 if arg is None else ARGS.index(arg), why)


def _as_given(num: int, den: int, given: Optional[float]) -> _AsGiven:
    """epochs / ratio of a run; without a float column, the kernel's (double)num / (double)den."""
    return _AsGiven(num, den, float(num) / float(den) if given is None else given)


def _fraction(cols: _Columns, name: str, i: int) -> Optional[Fraction]:
    """Run i's exact rational of the columns name_num / name_den, None when absent."""
    num = cols.integer(f"{name}_num", i, ABSENT)
    return None if num == ABSENT else Fraction(num, cols.integer(f"{name}_den", i, 1))


def _geometry(cols: _Columns, i: int, S: int) -> Tuple[int, Optional[Fraction]]:
    """Run i's steps per epoch and samples per step: Run.from_dataset's when the row gives
    num_examples, else the steps_per_epoch and samples_per_step columns."""
    n = cols.integer("num_examples", i, ABSENT)
    if n == ABSENT:
        return S, _fraction(cols, "samples", i)
    run = Run.from_dataset(n, cols.integer("micro_batch_size", i, ABSENT),
                           cols.integer("grad_accum", i, 1), cols.integer("world_size", i, 1),
                           max_steps=1, drop_last=bool(cols.integer("drop_last", i, 0)),
                           partial_accumulation="step" if cols.integer("step_partial", i, 1)
                           else "drop")
    assert run.steps_per_epoch is not None
    return run.steps_per_epoch, run.samples_per_step


def _row(cols: _Columns, i: int) -> Tuple[Run, Dict[str, object], int, Optional[int]]:
    """Run i's Run, its Schedule arguments, its checkpoint bytes (0: none) and keep_last
    (None: keep all); RowError for a bad row, checked in the order of the kernel
    (read_row, run_total, build_rules)."""
    A = ABSENT
    S, max_steps = cols.integer("steps_per_epoch", i, A), cols.integer("max_steps", i, A)
    e_num, e_den = cols.integer("epochs_num", i, A), cols.integer("epochs_den", i, 1)
    k, every = cols.integer("saves_per_epoch", i, A), cols.integer("every", i, A)
    count = cols.integer("count", i, A)
    r_num, r_den = cols.integer("ratio_num", i, A), cols.integer("ratio_den", i, 1)
    final, min_interval = bool(cols.integer("final", i, 1)), cols.integer("min_interval", i, 0)
    bytes_each = cols.integer("checkpoint_bytes", i, 0)
    keep_last = cols.integer("keep_last", i, A)
    unit = cols.integer("every_unit", i, 0) if cols.integer("every_num", i, A) != A else 0
    S, samples = _geometry(cols, i, S)

    if (S < 1) if S != A else "steps_per_epoch" in cols.complete:
        raise _fail(i, "steps_per_epoch", WHY_VALUE)
    if e_num != A and (e_num < 1 or e_den < 1):
        raise _fail(i, "epochs", WHY_VALUE)
    for name, value in (("max_steps", max_steps), ("saves_per_epoch", k), ("every", every),
                        ("count", count)):
        if (value < 1) if value != A else name in cols.complete:
            raise _fail(i, name, WHY_VALUE)
    if r_num != A and not 0 < r_num < r_den:
        raise _fail(i, "ratio", WHY_VALUE)
    if min_interval < 0:
        raise _fail(i, "min_interval", WHY_VALUE)
    if cols.given("checkpoint_bytes") and bytes_each < 1:
        raise _fail(i, "checkpoint_bytes", WHY_VALUE)
    if keep_last != A and keep_last < 1:
        raise _fail(i, "keep_last", WHY_VALUE)

    if max_steps == A and S == A:
        raise _fail(i, "steps_per_epoch", WHY_MISSING)
    if max_steps == A and e_num == A:
        raise _fail(i, "epochs", WHY_MISSING)
    epochs = None if e_num == A else _as_given(e_num, e_den, cols.real("epochs_float", i))
    try:
        run = Run(None if S == A else S, epochs, max_steps=None if max_steps == A else max_steps,
                  samples_per_step=samples, tokens_per_step=_fraction(cols, "tokens", i))
    except OverflowError:
        raise _fail(i, "epochs", WHY_OVERFLOW, STATUS_OVERFLOW) from None
    if k != A and S == A:
        raise _fail(i, "saves_per_epoch", WHY_NEEDS_SPE)

    kwargs: Dict[str, object] = dict(final=final, min_interval=min_interval)
    for name, value in (("saves_per_epoch", k), ("count", count), ("every", every)):
        if value != A:
            kwargs[name] = value
    if unit:
        amount = Fraction(cols.integer("every_num", i, A), cols.integer("every_den", i, 1))
        kwargs["every"] = f"{amount}{UNITS[unit]}"
        try:
            _schedule.Schedule._build(run, {"every": kwargs["every"]}, log=False)
        except OverflowError:
            raise _fail(i, "every", WHY_OVERFLOW, STATUS_OVERFLOW) from None
    if r_num != A:
        kwargs["ratio"] = _as_given(r_num, r_den, cols.real("ratio_float", i))
    return run, kwargs, bytes_each, None if keep_last == A else keep_last


def _schedule_of(run: Run, kwargs: Dict[str, object], i: int) -> Tuple[_schedule.Schedule, int]:
    """Run i's Schedule (built without logging its diagnostics) and its number of steps.

    A Schedule walks at most MAX_MATERIALIZED steps to count several rules or to thin them
    with min_interval; a run that needs more is refused (RowError WHY_WALK), never walked."""
    m = kwargs.pop("min_interval")
    assert isinstance(m, int)
    unthinned = _schedule.Schedule._build(run, kwargs, log=False)
    walk_error = _fail(i, "min_interval" if m > 1 else None, WHY_WALK, STATUS_CAPACITY)
    try:
        n = len(unthinned)  # O(1) for one rule; several are walked, up to the limit
    except ValueError:
        raise walk_error from None
    if m <= 1:  # thinning distinct steps by 1 keeps them all: the same steps and diagnostics
        return unthinned, n
    if n > _schedule.MAX_MATERIALIZED:
        raise walk_error
    thinned = _schedule.Schedule._build(run, {**kwargs, "min_interval": m}, log=False)
    return thinned, len(thinned)


def read_columns(columns: Mapping[str, Optional[npt.NDArray[np.generic]]],
                 n_runs: int) -> _Columns:
    """The kernel columns, ready for row_schedule (read once: O(R))."""
    return _Columns(columns, n_runs)


def row_schedule(cols: _Columns, i: int) -> _schedule.Schedule:
    """Run i's Schedule, built (without logging its diagnostics) as this backend builds it:
    the source of a sweep's flags, and of their messages."""
    run, kwargs, _, _ = _row(cols, i)
    return _schedule_of(run, kwargs, i)[0]


def _flags_of(sched: _schedule.Schedule) -> int:
    """The flag bits of the schedule's diagnostic codes."""
    flags = 0
    for diagnostic in sched.diagnostics:
        flags |= FLAGS[diagnostic.code]
    return flags


def _disk_of(run: Run, sched: _schedule.Schedule, n: int, keep_last: Optional[int],
             bytes_each: int) -> Tuple[int, int]:
    """(peak, survivors): the most checkpoints on disk at once and those left at the end,
    as the run's Plan with Retention(keep_last) computes them.  A schedule too long for
    a Plan to hold (more than MAX_MATERIALIZED saves) gets the Plan's closed form for
    keep_last alone: min(n, N + 1) and min(n, N)."""
    if n > _schedule.MAX_MATERIALIZED:
        return ((n, n) if keep_last is None
                else (min(n, keep_last + 1), min(n, keep_last)))
    plan = Plan._build(run, dict(save=sched, eval=None, log=None,
                                 keep=Retention(keep_last=keep_last),
                                 checkpoint_bytes=bytes_each or None, disk_budget=None,
                                 load_best_model_at_end=False, strict=False), log=False)
    return plan.peak.count, len(plan.survivors)


def _steps_of(sched: _schedule.Schedule, n: int) -> Int64Array:
    """The schedule's n steps; one too long to hold as Schedule.steps is iterated."""
    if n <= _schedule.MAX_MATERIALIZED:
        return np.asarray(sched.steps, dtype=np.int64)
    return np.fromiter(sched, dtype=np.int64, count=n)


def _physical_memory() -> Optional[int]:
    """This machine's memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def allocate_steps(total: int) -> Int64Array:
    """An uninitialized int64 array for a sweep's `total` steps; a ValueError with the
    numbers and what to do instead when they cannot fit in memory, checked before
    allocating (both backends use this)."""
    need, memory = 8 * total, _physical_memory()
    if memory is None or need <= memory:
        try:
            return np.empty(total, dtype=np.int64)
        except MemoryError:
            pass
    where = f"more than this machine's {memory} bytes of memory" if memory is not None and \
        need > memory else "more than can be allocated now"
    raise ValueError(f"the sweep has {total} checkpoints in all: their steps need {need} bytes "
                     f"({need / 2**30:.1f} GiB), {where}; pass counts_only=True for the counts, "
                     "flags and bytes without the steps, or split the sweep")


def sweep(n_runs: int, columns: Mapping[str, Optional[npt.NDArray[np.generic]]],
          counts_only: bool, *, complete: AbstractSet[str] = frozenset()) -> SweepArrays:
    """(counts, offsets, steps, flags, bytes, peak, peak_bytes, survivors) of every run;
    offsets and steps are None with counts_only, bytes and peak_bytes None without a
    checkpoint_bytes column.  Raises RowError, and ValueError when the steps would not
    fit in memory.  complete: the names of columns (of COMPLETE_COLUMNS) that give a
    value in every run, unchecked: ABSENT in them is a bad value, not absence."""
    cols = _Columns(columns, n_runs, complete)
    with_bytes = cols.given("checkpoint_bytes")
    counts = np.zeros(n_runs, dtype=np.int64)
    peak = np.zeros(n_runs, dtype=np.int64)
    survivors = np.zeros(n_runs, dtype=np.int64)
    flags = np.zeros(n_runs, dtype=np.uint32)
    nbytes = np.zeros(n_runs, dtype=np.int64) if with_bytes else None
    schedules: List[_schedule.Schedule] = []
    total = 0
    # pass 1, as ckpt_sweep_count: every run's count, flags and bytes; stop at a bad run
    for i in range(n_runs):
        run, kwargs, bytes_each, keep_last = _row(cols, i)
        sched, n = _schedule_of(run, kwargs, i)
        if nbytes is not None:
            if n * bytes_each > INT64_MAX:
                raise _fail(i, "checkpoint_bytes", WHY_OVERFLOW, STATUS_OVERFLOW)
            nbytes[i] = n * bytes_each
        peak[i], survivors[i] = _disk_of(run, sched, n, keep_last, bytes_each)
        if not counts_only:
            total += n
            if total > INT64_MAX:
                raise _fail(i, None, WHY_TOTAL, STATUS_OVERFLOW)
            schedules.append(sched)
        counts[i], flags[i] = n, _flags_of(sched)
    peak_bytes = None if nbytes is None else peak * cols.integer_column("checkpoint_bytes")
    if counts_only:
        return counts, None, None, flags, nbytes, peak, peak_bytes, survivors
    # pass 2, as ckpt_sweep_fill
    offsets = np.zeros(n_runs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    steps = allocate_steps(total)
    for i, sched in enumerate(schedules):
        run_steps = _steps_of(sched, int(counts[i]))
        if len(run_steps) != counts[i]:
            raise _fail(i, None, WHY_INTERNAL, STATUS_CAPACITY)
        steps[offsets[i]:offsets[i + 1]] = run_steps
    return counts, offsets, steps, flags, nbytes, peak, peak_bytes, survivors

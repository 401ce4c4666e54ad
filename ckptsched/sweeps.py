"""`sweep`: the exact schedules of many runs at once (a hyper-parameter sweep), as arrays.

    import numpy as np, ckptsched
    res = ckptsched.sweep(steps_per_epoch=np.array([217, 400, 31]), epochs=3,
                          saves_per_epoch=[8, 4, 40], checkpoint_bytes=14 * 2**30,
                          keep_last=2)
    res.counts                  # saves per run            int64[R]
    res[1]                      # run 1's steps (a view)   int64[counts[1]]
    res.runs_with("FEWER_THAN_REQUESTED")   # -> array([2])
    res.peak_bytes.max()        # the most disk one run needs at once (keep_last=2: 3 saves)
    res.bytes.sum()             # bytes written by the whole sweep (not on disk at once)
    res.messages(2)             # run 2's diagnostic messages (from its Schedule)

Run i of a sweep is `Schedule(Run(...row i...), ...)` exactly: same steps, and its flags
are the codes of that schedule's diagnostics.  This module only validates and converts
the arguments; the backend (`_backend.sweep_impl`: the C kernels of src_c/ckpt_sweep.c,
or `_sweep_py`) computes every count, flag and step.
"""
from __future__ import annotations

import math
import numbers
from decimal import Decimal
from fractions import Fraction
from typing import AbstractSet, Any, Dict, Iterable, Iterator, List, Optional, Sequence, \
    SupportsIndex, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt

from . import _backend
from . import schedule as _schedule
from ._numbers import INT64_MAX, parse_every, to_bool, to_int, to_rational
from ._sweep_py import OVERFLOW, ABSENT, ARGS, COMPLETE_COLUMNS, FLAGS, WHY_MISSING, \
    WHY_NEEDS_SPE, WHY_OVERFLOW, WHY_TOTAL, WHY_VALUE, WHY_WALK, RowError, read_columns, \
    row_schedule
from .run import Run
from .sizes import parse_size
from .diagnostics import CODES

__all__ = ["sweep", "SweepResult", "SweepSummary", "FLAGS", "Integers", "Numbers", "Flags",
           "Every"]

#: An integer argument: one value for every run, or one per run (a list, tuple, range or
#: 1-D array of any integer dtype or integral floats; None or a masked entry leaves it out).
Integers = Union[int, np.integer[Any], range,
                 Sequence[Union[int, float, np.integer[Any], np.floating[Any], None]],
                 npt.NDArray[np.integer[Any]], npt.NDArray[np.floating[Any]]]
#: epochs / ratio: as Integers, and any floats, Fractions or Decimals (exact rationals).
Number = Union[int, float, Fraction, Decimal, np.integer[Any], np.floating[Any]]
Numbers = Union[Number, range, Sequence[Optional[Number]],
                npt.NDArray[np.integer[Any]], npt.NDArray[np.floating[Any]]]
#: every: Integers (steps), or a unit string ("2ep", "10000sp", "1e9tok"), or one per run.
Every = Union[Integers, str, Sequence[Optional[str]], npt.NDArray[np.str_]]
#: final: True / False for every run, or one per run (None: True).
Flags = Union[bool, np.bool_, Sequence[Union[bool, np.bool_, None]], npt.NDArray[np.bool_]]

Int64Array = npt.NDArray[np.int64]
Column = Optional[npt.NDArray[Any]]

# Integer arguments: (smallest value, may a run leave it out (None / masked)?).
_INTEGERS = {
    "steps_per_epoch": (1, True),
    "max_steps": (1, True),
    "saves_per_epoch": (1, True),
    "every": (1, True),
    "count": (1, True),
    "min_interval": (0, True),     # left out: 0
    "checkpoint_bytes": (1, False),
    "keep_last": (1, True),        # left out: keep every checkpoint
    "num_examples": (1, True),
    "micro_batch_size": (1, True),
    "grad_accum": (1, True),       # left out: 1
    "world_size": (1, True),       # left out: 1
}
_RATIONALS = ("epochs", "ratio", "samples_per_step", "tokens_per_step")
#: What the every_unit column holds for each unit of parse_every.
_UNIT_CODES = {"epochs": 1, "samples": 2, "tokens": 3}
_UNIT_NEEDS = {"epochs": "steps_per_epoch", "samples": "samples_per_step",
               "tokens": "tokens_per_step"}


def sweep(steps_per_epoch: Optional[Integers] = None, epochs: Optional[Numbers] = None, *,
          max_steps: Optional[Integers] = None, saves_per_epoch: Optional[Integers] = None,
          every: Optional[Every] = None, count: Optional[Integers] = None,
          ratio: Optional[Numbers] = None, final: Flags = True, min_interval: Integers = 0,
          checkpoint_bytes: Optional[Integers] = None, keep_last: Optional[Integers] = None,
          num_examples: Optional[Integers] = None, micro_batch_size: Optional[Integers] = None,
          grad_accum: Optional[Integers] = None, world_size: Optional[Integers] = None,
          drop_last: Flags = False, partial_accumulation: Union[str, Sequence[str]] = "step",
          samples_per_step: Optional[Numbers] = None, tokens_per_step: Optional[Numbers] = None,
          counts_only: bool = False) -> SweepResult:
    """The schedules of R runs: run i is Schedule(Run(steps_per_epoch[i], epochs[i],
    max_steps=max_steps[i]), saves_per_epoch=saves_per_epoch[i], every=every[i], ...).

    Each argument is a scalar (the same for every run), or one value per run: a list,
    tuple, range or 1-D numpy array of any integer dtype, integral floats, or (for
    `epochs` and `ratio`) any floats, which mean their simplest rational as in `Run`.
    `None` (or a masked entry) leaves the argument out of that run; `min_interval` left
    out is 0 and `final` left out is True.  `every` is a whole number of steps, or a unit
    string as Schedule takes it ("2ep", "10000sp", "1e9tok"; one string for every run or
    one per run), which needs steps_per_epoch, samples_per_step or tokens_per_step.

    Dataset geometry (as Run.from_dataset): num_examples with micro_batch_size,
    grad_accum (1), world_size (1), drop_last (False) and partial_accumulation ("step" or
    "drop") give a run its steps_per_epoch and its samples_per_step, instead of those
    columns; a run with 0 steps per epoch is a ValueError naming its inputs.

    checkpoint_bytes: the size of one checkpoint (scalar or per run; an int, a whole float
    such as 7e9, or a size such as "16GB" or "500MiB"): `bytes` (bytes
    written) is then counts * checkpoint_bytes, `peak_bytes` peak * checkpoint_bytes.
    keep_last: the checkpoints kept on disk (retention.Retention(keep_last=N)); `peak` is
    the most on disk at once (a save in flight included: min(counts, N + 1)) and
    `survivors` those left at the end (min(counts, N)); left out, every checkpoint stays.

    counts_only=True: counts, flags, bytes and the disk without the steps (O(1) per run,
    unless a run combines rules or has min_interval > 1, which walks its schedule, as
    Schedule does: a run that would walk more than schedule.MAX_MATERIALIZED steps is
    refused with a ValueError, never walked).

    Errors name the argument, the run and the value: TypeError for non-integers, bools,
    strings, object, complex and datetime arrays and numpy longdouble epochs / ratios;
    ValueError for values out of range, missing arguments, mismatched lengths, runs too
    long to walk and steps that would not fit in memory; OverflowError when a run's total
    steps, its bytes or the sweep's number of checkpoints would leave int64.  Integers are
    never rounded (a longdouble or uint64 array is converted exactly or refused).  Nothing
    is returned half-done.
    """
    given: Dict[str, Any] = dict(
        steps_per_epoch=steps_per_epoch, epochs=epochs, max_steps=max_steps,
        saves_per_epoch=saves_per_epoch, every=every, count=count, ratio=ratio, final=final,
        min_interval=min_interval, checkpoint_bytes=checkpoint_bytes, keep_last=keep_last,
        num_examples=num_examples, micro_batch_size=micro_batch_size, grad_accum=grad_accum,
        world_size=world_size, samples_per_step=samples_per_step,
        tokens_per_step=tokens_per_step)
    given["checkpoint_bytes"] = _sizes_as_bytes(checkpoint_bytes)
    counts_only = to_bool(counts_only, "counts_only")
    n_runs = _n_runs(dict(given, drop_last=drop_last,
                          partial_accumulation=None if isinstance(partial_accumulation, str)
                          else partial_accumulation))
    units = _unit_every(every, n_runs)
    if units is not None:  # a row in steps ("500", "500st") goes to the every column
        in_steps = [int(u[0]) if u is not None and u[1] == "steps" else None for u in units]
        units = [None if u is not None and u[1] == "steps" else u for u in units]
        given["every"] = None if all(v is None for v in in_steps) else (
            in_steps[0] if len(in_steps) == 1 else in_steps)
    columns: Dict[str, Column] = {}
    # plain integer arrays of these go to the kernels unread (they check every value, and
    # errors are then worded here as ever), unless dataset geometry or units read them first
    complete = set() if units is not None or given["num_examples"] is not None else {
        name for name in COMPLETE_COLUMNS if _is_plain_int_array(given[name])}
    for name, (minimum, optional) in _INTEGERS.items():
        columns[name] = (np.ascontiguousarray(given[name], dtype=np.int64) if name in complete
                         else _int_column(given[name], name, minimum, optional))
    for name in _RATIONALS:
        num, den, flt = _rational_column(given[name], name)
        columns[f"{name}_num"], columns[f"{name}_den"], columns[f"{name}_float"] = num, den, flt
    columns["final"] = _final_column(final)
    if units is not None:
        given["every"] = every
    _geometry_columns(columns, given, n_runs, drop_last, partial_accumulation)
    if units is not None:
        _unit_columns(columns, given, units, n_runs)
    impl = _backend.sweep_impl
    try:
        arrays = impl.sweep(n_runs, columns, counts_only, complete=complete)
    except RowError as exc:
        raise _row_error(exc, given, complete) from None
    counts, offsets, steps, flags, nbytes, peak, peak_bytes, survivors = arrays
    result = SweepResult(counts, offsets, steps, flags, nbytes, peak=peak,
                         peak_bytes=peak_bytes, survivors=survivors, backend=impl.NAME)
    result._columns = (n_runs, columns)
    return result


class SweepSummary(TypedDict):
    """What `SweepResult.summary()` returns."""

    runs: int
    total_checkpoints: int
    total_bytes: Optional[int]     # bytes written by all runs; None without checkpoint_bytes
    max_peak: int                  # the most checkpoints one run holds on disk at once
    max_peak_bytes: Optional[int]  # the most disk one run needs at once; None without bytes
    total_survivors: int           # checkpoints left on disk by all runs
    runs_per_code: Dict[str, int]  # every code of CODES -> the runs that have it


class SweepResult:
    """The schedules of a sweep, in CSR layout (read-only arrays).

    counts   int64[R]    saves of each run
    offsets  int64[R+1]  run i's steps are steps[offsets[i]:offsets[i+1]]  (None: counts_only)
    steps    int64[sum]  every run's sorted steps, run after run               (None: counts_only)
    flags    uint32[R]   bit FLAGS[code] is set when run i's Schedule has a diagnostic `code`
    bytes    int64[R]    bytes written: counts * checkpoint_bytes (None without checkpoint_bytes)
    peak     int64[R]    most checkpoints on disk at once (a save in flight included), as
                         Plan(..., keep=Retention(keep_last=N)).peak.count: min(counts, N + 1)
    peak_bytes int64[R]  peak disk: peak * checkpoint_bytes (None without checkpoint_bytes)
    survivors int64[R]   checkpoints on disk when the run ends: min(counts, N)
    res[i] is run i's steps (a view); len(res) is R.
    """

    __slots__ = ("counts", "offsets", "steps", "flags", "bytes", "peak", "peak_bytes",
                 "survivors", "backend", "_columns", "_rows")

    counts: Int64Array
    offsets: Optional[Int64Array]
    steps: Optional[Int64Array]
    flags: npt.NDArray[np.uint32]
    bytes: Optional[Int64Array]
    peak: Int64Array
    peak_bytes: Optional[Int64Array]
    survivors: Int64Array
    backend: str

    def __init__(self, counts: Int64Array, offsets: Optional[Int64Array],
                 steps: Optional[Int64Array], flags: npt.NDArray[np.uint32],
                 nbytes: Optional[Int64Array], *, peak: Int64Array,
                 peak_bytes: Optional[Int64Array], survivors: Int64Array,
                 backend: str) -> None:
        for array in (counts, offsets, steps, flags, nbytes, peak, peak_bytes, survivors):
            if array is not None:
                array.setflags(write=False)  # (cheaper than array.flags.writeable = False)
        self.counts, self.offsets, self.steps = counts, offsets, steps
        self.flags, self.bytes, self.backend = flags, nbytes, backend
        self.peak, self.peak_bytes, self.survivors = peak, peak_bytes, survivors
        self._columns: Optional[Tuple[int, Dict[str, Column]]] = None  # set by sweep()
        self._rows: Any = None

    def __len__(self) -> int:
        return len(self.counts)

    def __getitem__(self, i: SupportsIndex) -> Int64Array:
        if self.steps is None or self.offsets is None:
            raise ValueError("this sweep was computed with counts_only=True: it has no steps")
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"runs are indexed by integers, got {type(i).__name__}")
        n = len(self.counts)
        j = int(i) + n if i < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"run {int(i)} is out of range for a sweep of {n} runs")
        return self.steps[self.offsets[j]:self.offsets[j + 1]]

    def __iter__(self) -> Iterator[Int64Array]:
        for i in range(len(self)):
            yield self[i]

    @property
    def total(self) -> int:
        """The number of checkpoints of all runs."""
        if self.offsets is not None:
            return int(self.offsets[-1])
        return _exact_sum(self.counts)

    @property
    def total_bytes(self) -> Optional[int]:
        """The bytes of all runs' checkpoints (an exact int), or None without checkpoint_bytes."""
        return None if self.bytes is None else _exact_sum(self.bytes)

    def runs_with(self, *codes: Union[str, Iterable[str]]) -> npt.NDArray[np.intp]:
        """Indices of the runs whose schedules have any of the diagnostic `codes`
        (given as arguments, or as one list)."""
        return np.flatnonzero(self.flags & _mask(codes))

    def schedule(self, i: SupportsIndex) -> _schedule.Schedule:
        """Run i's Schedule (built on demand, its diagnostics not logged): its
        `diagnostics` give the messages behind `codes(i)`."""
        if self._columns is None:
            raise ValueError("this SweepResult was not made by ckptsched.sweep(): it has no runs "
                             "to rebuild")
        n = len(self)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"runs are indexed by integers, got {type(i).__name__}")
        j = int(i) + n if int(i) < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"run {int(i)} is out of range for a sweep of {n} runs")
        if self._rows is None:
            self._rows = read_columns(self._columns[1], self._columns[0])
        return row_schedule(self._rows, j)

    def messages(self, i: SupportsIndex) -> Tuple[str, ...]:
        """The diagnostic messages of run i (those of its Schedule; empty for a clean run,
        which is not rebuilt)."""
        if not int(self.flags[i]):
            return ()
        return tuple(d.message for d in self.schedule(i).diagnostics)

    def codes(self, i: SupportsIndex) -> Tuple[str, ...]:
        """The diagnostic codes of run i, in CODES order."""
        f = int(self.flags[i])
        return tuple(code for code, bit in FLAGS.items() if f & bit)

    def summary(self) -> SweepSummary:
        """Runs, total checkpoints, total bytes written (None without checkpoint_bytes),
        the largest peak on disk of one run (count and bytes), the checkpoints left at the
        end and, for every code in CODES, how many runs have it."""
        return {"runs": len(self), "total_checkpoints": self.total,
                "total_bytes": self.total_bytes,
                "max_peak": int(self.peak.max()) if len(self) else 0,
                "max_peak_bytes": None if self.peak_bytes is None else
                (int(self.peak_bytes.max()) if len(self) else 0),
                "total_survivors": _exact_sum(self.survivors),
                "runs_per_code": {code: int(np.count_nonzero(self.flags & bit))
                                  for code, bit in FLAGS.items()}}

    def __repr__(self) -> str:
        what = "counts only" if self.steps is None else f"{self.total} steps"
        return f"<SweepResult of {len(self)} runs, {what}, backend {self.backend!r}>"


def _mask(codes: Tuple[Union[str, Iterable[str]], ...]) -> int:
    names: List[Any] = []
    for code in codes:
        names += list(code) if isinstance(code, (list, tuple, set, frozenset)) else [code]
    mask = 0
    for code in names:
        if code not in FLAGS:
            raise ValueError(f"unknown diagnostic code {code!r}; the codes are {', '.join(CODES)}")
        mask |= FLAGS[code]
    return mask


def _exact_sum(values: Int64Array) -> int:
    """Sum of an int64 array as a Python int, without int64 wraparound."""
    n = len(values)
    if n == 0:
        return 0
    if int(values.max()) <= INT64_MAX // n:
        return int(values.sum())
    return int(values.astype(object).sum())  # Python ints: no wraparound


# ---- arguments -> kernel columns ----------------------------------------------------

#: Types that are never one value per run (exact types: subclasses take the long way).
_PLAIN_SCALARS = frozenset({int, float, bool, str, Fraction})

def _per_run(value: object) -> bool:
    """Is `value` one value per run (rather than a scalar for every run)?"""
    if value is None or type(value) in _PLAIN_SCALARS:  # the common case, at once
        return False
    if isinstance(value, (list, tuple, range)):
        return True
    if isinstance(value, (str, bytes, set, frozenset, dict)):
        return False
    return hasattr(value, "__array__") and np.ndim(value) != 0


def _length(value: Any, name: str) -> int:
    if isinstance(value, (list, tuple, range)):
        return len(value)
    shape = np.shape(value)
    if len(shape) != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D sequence of values per run, "
                         f"got shape {shape}")
    return int(shape[0])


def _n_runs(given: Dict[str, Any]) -> int:
    lengths = {name: _length(v, name) for name, v in given.items()
               if v is not None and _per_run(v)}
    if not lengths:
        return 1
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"the per-run arguments must have one value per run, but {shown}; "
                         "pass a scalar to use one value for every run")
    return next(iter(lengths.values()))


def _show(value: object) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    try:
        return repr(value)
    except ValueError:
        return f"<{type(value).__name__} too large to print>"


def _label(name: str, row: int, value: Any) -> str:
    """How a message names argument `name` of run `row`: "count[3]=0" or "count=0"."""
    if value is not None and _per_run(value):
        plain = isinstance(value, (list, tuple, range, np.ma.MaskedArray))
        item = value[row] if plain else np.asarray(value)[row]
        if np.ma.is_masked(item):
            item = None
        return f"{name}[{row}]={_show(item)}"
    return f"{name}={_show(value)}"


def _words(minimum: int) -> str:
    return "a positive integer" if minimum == 1 else "a non-negative integer"


def _as_array(value: Any) -> Tuple[npt.NDArray[Any], Optional[npt.NDArray[np.bool_]]]:
    """(data, mask or None) of an array-like argument."""
    if isinstance(value, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(value)
        return np.ma.getdata(value), (mask if mask.any() else None)
    return np.asarray(value), None


def _first(bad: npt.NDArray[np.bool_]) -> int:
    return int(np.argmax(bad))


def _is_plain_int_array(value: Any) -> bool:
    """Is `value` a 1-D numpy array of a signed integer dtype (not masked): one whose values
    go to int64 exactly, with nothing to read but their range?"""
    return type(value) is np.ndarray and value.ndim == 1 and value.dtype.kind == "i"


def _int_column(value: Any, name: str, minimum: int, optional: bool) -> Column:
    """An int64 column of length 1 (a scalar) or R, ABSENT where a run leaves the argument
    out; None when it is absent everywhere.  Exact: a value is never rounded."""
    if value is None:
        return None
    if type(value) is int and minimum <= value <= INT64_MAX:  # valid as it is: to_int's answer
        return np.array([value], dtype=np.int64)
    if not _per_run(value):
        if isinstance(value, str) and name == "every":
            raise TypeError(f"every={value!r}: a sweep takes every= as a whole number of steps; "
                            "units (ep, sp, tok) are for Schedule")
        return np.array([_int_scalar(value, name, minimum)], dtype=np.int64)
    if isinstance(value, (list, tuple)) and not all(type(v) is int for v in value):
        items = [_int_item(v, f"{name}[{i}]", minimum, optional) for i, v in enumerate(value)]
        return _absent_as_default(np.array(items, dtype=np.int64), name)
    if isinstance(value, (list, tuple, range)):
        arr, mask = _python_ints_array(value, name, minimum, optional), None
    else:
        arr, mask = _as_array(value)
    if mask is not None and not optional:
        i = _first(mask)
        raise TypeError(f"{name}[{i}] is missing (masked): every run needs a {name}")
    kind = arr.dtype.kind
    if kind in "iu":
        out = _from_integer_array(arr, mask, name, minimum)
    elif kind == "f":
        out = _from_float_array(arr, mask, name, minimum)
    elif kind == "b":
        raise TypeError(f"{name} must be integers, got a bool array (bools are not counts)")
    else:
        raise TypeError(f"{name} must be an integer array (or integral floats), got dtype "
                        f"{arr.dtype}"
                        + ("; object arrays are not accepted" if kind == "O" else ""))
    return _absent_as_default(out, name)


def _sizes_as_bytes(value: Any) -> Any:
    """checkpoint_bytes with sizes as people write them ("16GB", "500MiB": one for every run,
    or among the per-run values) turned into integers (ckptsched.sizes); other values as given."""
    if isinstance(value, str):
        return parse_size(value, "checkpoint_bytes")
    if isinstance(value, np.ndarray) and value.dtype.kind in "US":
        value = value.tolist()
    if isinstance(value, (list, tuple)) and any(isinstance(v, str) for v in value):
        return [parse_size(v, f"checkpoint_bytes[{i}]") if isinstance(v, str) else v
                for i, v in enumerate(value)]
    return value


def _int_scalar(value: Any, name: str, minimum: int) -> int:
    """One integer for every run (checkpoint_bytes may be an integral float: 7e9 bytes)."""
    if name == "checkpoint_bytes" and isinstance(value, (float, np.floating)) \
            and math.isfinite(value) and _is_whole(value):
        return _int_item(value, name, minimum, optional=False)
    return to_int(value, name, minimum=minimum)


def _int_item(value: Any, label: str, minimum: int, optional: bool) -> int:
    """One run's integer from a list (None: ABSENT when optional); integral floats of
    any precision are taken exactly."""
    if value is None or np.ma.is_masked(value):
        if optional:
            return ABSENT
        raise TypeError(f"{label} must be an integer, got None")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError(f"{label} must be a finite number, got {_show(value)}")
        if not _is_whole(value):
            raise TypeError(f"{label} must be an integer, got {_show(value)}")
        whole = int(value)  # exact for every float type
        if abs(whole) > INT64_MAX:
            raise OverflowError(f"{label}={_show(value)} exceeds the int64 range (max {INT64_MAX})")
        value = whole
    return to_int(value, label, minimum=minimum)


def _is_whole(value: Any) -> bool:
    """Is the finite float `value` a whole number, judged in its own precision
    (a numpy longdouble is never rounded to float64 first)?"""
    return bool(np.floor(value) == value)


def _python_ints_array(values: Sequence[int] | range, name: str, minimum: int,
                       optional: bool) -> npt.NDArray[np.int64]:
    """A list, tuple or range of Python ints as int64; OverflowError naming the first
    one past int64."""
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:  # a Python int past int64: find it and name it
        for i, v in enumerate(values):
            _int_item(v, f"{name}[{i}]", minimum, optional)
        raise


def _from_integer_array(arr: npt.NDArray[Any], mask: Optional[npt.NDArray[np.bool_]],
                        name: str, minimum: int) -> npt.NDArray[np.int64]:
    """An array of any integer dtype as int64 (uint64 values past int64: OverflowError)."""
    given = arr if mask is None else np.where(mask, 0, arr)  # masked values do not count
    if arr.dtype.kind == "u" and given.size and arr.itemsize == 8 and int(given.max()) > INT64_MAX:
        i = _first(given > INT64_MAX)
        raise OverflowError(f"{name}[{i}]={int(arr[i])} exceeds the int64 range (max {INT64_MAX})")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if mask is not None:
        out = out.copy() if out is arr or np.shares_memory(out, arr) else out
        out[mask] = ABSENT
    check = out if mask is None else out[~mask]
    if check.size and int(check.min()) < minimum:
        i = _first((out < minimum) & (out != ABSENT) if mask is not None else out < minimum)
        raise ValueError(f"{name}[{i}] must be {_words(minimum)}, got {_show(arr[i])}")
    return out


def _from_float_array(arr: npt.NDArray[Any], mask: Optional[npt.NDArray[np.bool_]],
                      name: str, minimum: int) -> npt.NDArray[np.int64]:
    """Integral floats as int64, checked in the array's own precision (float16 to
    longdouble: never through float64, which would round a longdouble)."""
    data = arr if mask is None else np.where(mask, arr.dtype.type(minimum), arr)
    bad = ~np.isfinite(data)
    if bad.any():
        i = _first(bad)
        raise ValueError(f"{name}[{i}] must be a finite number, got {_show(arr[i])}")
    bad = data != np.floor(data)
    if bad.any():
        i = _first(bad)
        raise TypeError(f"{name}[{i}] must be an integer, got {_show(arr[i])}")
    bad = data < minimum
    if bad.any():
        i = _first(bad)
        raise ValueError(f"{name}[{i}] must be {_words(minimum)}, got {_show(arr[i])}")
    reaches_2_63 = float(np.finfo(arr.dtype).max) >= 2.0**63  # float16 never does
    bad = (data >= arr.dtype.type(2.0**63)) if reaches_2_63 else np.zeros(data.shape, bool)
    if bad.any():
        i = _first(bad)
        raise OverflowError(f"{name}[{i}]={_show(arr[i])} exceeds the int64 range (max {INT64_MAX})")
    out = data.astype(np.int64)  # whole numbers below 2**63: exact
    if mask is not None:
        out[mask] = ABSENT
    return out


def _absent_as_default(out: npt.NDArray[np.int64], name: str) -> npt.NDArray[np.int64]:
    if name == "min_interval" and out.size and int(out.min()) == ABSENT:
        out = np.where(out == ABSENT, 0, out)
    return out


def _rational_column(value: Any, name: str) -> Tuple[Column, Column, Column]:
    """(num, den, float) columns of epochs / ratio: exact fractions, and the values as
    given in double (the float arithmetic of HF_MISMATCH starts from them)."""
    if value is None:
        return None, None, None
    if type(value) is int and name == "epochs" and 1 <= value <= INT64_MAX:
        # a whole number of epochs is its own simplest rational
        return (np.array([value], dtype=np.int64), np.array([1], dtype=np.int64),
                np.array([float(value)], dtype=np.float64))
    if not _per_run(value):
        exact = _rational_scalar(value, name)
        return (np.array([exact.numerator], dtype=np.int64),
                np.array([exact.denominator], dtype=np.int64),
                np.array([float(value)], dtype=np.float64))
    if isinstance(value, (list, tuple)):
        types = set(map(type, value))
        if types <= {int}:
            value = _int_column(value, name, 1, True)
            return value, None, None
        if types <= {float}:
            value = np.array(value, dtype=np.float64)
        else:
            return _rational_items(value, name)
    if isinstance(value, range):
        return _int_column(value, name, 1, True), None, None
    arr, mask = _as_array(value)
    kind = arr.dtype.kind
    if kind in "iu":
        return _int_column(value, name, 1, True), None, None
    if kind != "f" or arr.dtype not in (np.float64, np.float32, np.float16):
        raise TypeError(f"{name} must be numbers: an integer or float array (float16/32/64), "
                        f"got dtype {arr.dtype}"
                        + ("; object arrays are not accepted" if kind == "O" else "")
                        + ("; a longdouble would be rounded: pass float64 or Fractions"
                           if kind == "f" else ""))
    filler = arr.dtype.type(0.5 if name == "ratio" else 1)
    data = arr if mask is None else np.where(mask, filler, arr)
    bad = ~np.isfinite(data)
    if bad.any():
        i = _first(bad)
        raise ValueError(f"{name}[{i}] must be a finite number, got {_show(arr[i])}")
    bad = data <= 0
    if bad.any():
        i = _first(bad)
        raise ValueError(f"{name}[{i}] must be > 0, got {_show(arr[i])}")
    floats = data.astype(np.float64, copy=False)
    if name == "epochs" and bool(np.all(data == np.floor(data))) and float(data.max()) < 2.0**63:
        num, den = data.astype(np.int64), None  # integral epochs: no fractions to find
    else:
        unique, first, inverse = np.unique(data, return_index=True, return_inverse=True)
        num_u = np.empty(len(unique), dtype=np.int64)
        den_u = np.empty(len(unique), dtype=np.int64)
        for j, u in enumerate(unique):  # judged in its own format: float32 0.07 is 7/100
            exact = to_rational(u, f"{name}[{int(first[j])}]")
            num_u[j], den_u[j] = exact.numerator, exact.denominator
        num, den = num_u[inverse.ravel()], den_u[inverse.ravel()]
    if mask is not None:
        num[mask] = ABSENT
    if name == "ratio" and data.size and float(data.max()) >= 1:
        i = _first(data >= 1)
        raise _ratio_error(f"ratio[{i}]", arr[i])
    return num, den, np.ascontiguousarray(floats)


def _rational_scalar(value: Any, name: str) -> Fraction:
    if isinstance(value, str):
        raise TypeError(f"{name} must be a number, not a string: got {value!r}")
    exact = to_rational(value, name)
    if name == "ratio" and exact >= 1:
        raise _ratio_error(name, value)
    return exact


def _rational_items(values: Sequence[Any], name: str) -> Tuple[Column, Column, Column]:
    n = len(values)
    num = np.empty(n, dtype=np.int64)
    den = np.ones(n, dtype=np.int64)
    flt = np.ones(n, dtype=np.float64)
    for i, v in enumerate(values):
        if v is None:
            num[i] = ABSENT
            continue
        exact = _rational_scalar(v, f"{name}[{i}]")
        num[i], den[i], flt[i] = exact.numerator, exact.denominator, float(v)
    return num, den, flt


def _ratio_error(label: str, value: object) -> ValueError:
    return ValueError(f"{label} must be a fraction of the run between 0 and 1 (exclusive), "
                      f"got {_show(value)}; use every= for an interval in steps")


def _final_column(value: Any) -> npt.NDArray[np.uint8]:
    if type(value) is bool:
        return np.array([value], dtype=np.uint8)
    if not _per_run(value):
        return np.array([to_bool(value, "final")], dtype=np.uint8)
    if isinstance(value, (list, tuple)):
        return np.array([True if v is None else to_bool(v, f"final[{i}]")
                         for i, v in enumerate(value)], dtype=np.uint8)
    arr, mask = _as_array(value)
    if arr.dtype.kind != "b":
        raise TypeError(f"final must be True or False for each run: a bool array, got dtype "
                        f"{arr.dtype}")
    if mask is not None:
        arr = np.where(mask, True, arr)
    return np.ascontiguousarray(arr).view(np.uint8)


def _unit_every(every: Any, n_runs: int) -> Optional[List[Optional[Tuple[Fraction, str]]]]:
    """every= as strings: (amount, unit) per run (one entry: every run; None: left out;
    unit "steps" for "500" or "500st"), or None when every= is not given as strings."""
    if isinstance(every, str):
        values: List[Any] = [every]
    elif isinstance(every, (list, tuple)) and any(isinstance(v, str) for v in every):
        values = list(every)
    elif isinstance(every, np.ndarray) and every.dtype.kind in "UO" and every.size and \
            any(isinstance(v, str) for v in every.tolist()):
        values = every.tolist()
    else:
        return None
    if any(v is not None and not isinstance(v, str) for v in values):
        j = next(j for j, v in enumerate(values) if isinstance(v, str))
        raise TypeError(f"every[{j}]={values[j]!r}: this every= column mixes numbers of steps "
                        "and strings; give every run a unit string (\"2ep\", \"10000sp\", "
                        "\"1e9tok\"), or every run an integer number of steps")
    parsed: List[Optional[Tuple[Fraction, str]]] = []
    for i, value in enumerate(values):
        label = "every" if len(values) == 1 and isinstance(every, str) else f"every[{i}]"
        if value is None:
            parsed.append(None)
            continue
        amount, unit = parse_every(value, label)
        if max(amount.numerator, amount.denominator) > INT64_MAX:
            raise OverflowError(f"{label}={value!r}: a sweep takes amounts whose numerator and "
                                "denominator fit in int64")
        parsed.append((amount, unit))
    return parsed


def _broadcast(column: Column, n_runs: int, default: int) -> npt.NDArray[np.int64]:
    if column is None:
        return np.full(n_runs, default, dtype=np.int64)
    return np.broadcast_to(column, (n_runs,)) if len(column) == 1 else column


def _flag_column(value: Any, name: str) -> npt.NDArray[np.uint8]:
    if not _per_run(value):
        return np.array([to_bool(value, name)], dtype=np.uint8)
    return np.array([to_bool(v, f"{name}[{i}]") for i, v in enumerate(value)], dtype=np.uint8)


def _geometry_columns(columns: Dict[str, Column], given: Dict[str, Any], n_runs: int,
                      drop_last: Any, partial_accumulation: Any) -> None:
    """steps_per_epoch and samples_per_step of the runs given by num_examples, computed as
    Run.from_dataset does (and its errors); the raw geometry columns for the Python twin."""
    for name in ("samples_per_step", "tokens_per_step"):
        short = name.split("_")[0]
        num = columns.pop(f"{name}_num")
        den = columns.pop(f"{name}_den")
        columns.pop(f"{name}_float")
        columns[f"{short}_num"] = num
        columns[f"{short}_den"] = den if den is not None or num is None else \
            np.ones(1, dtype=np.int64)
    geometry = ("micro_batch_size", "grad_accum", "world_size")
    if columns["num_examples"] is None:
        for name in geometry:
            if columns[name] is not None:
                raise ValueError(f"{name} is dataset geometry: it needs num_examples")
            del columns[name]
        del columns["num_examples"]
        return
    drop = _flag_column(drop_last, "drop_last")
    modes = [partial_accumulation] if isinstance(partial_accumulation, str) \
        else list(partial_accumulation)
    for i, mode in enumerate(modes):
        if mode not in ("step", "drop"):
            label = "partial_accumulation" if len(modes) == 1 else f"partial_accumulation[{i}]"
            raise ValueError(f"{label} must be 'step' or 'drop', got {_show(mode)}")
    step_partial = np.array([m == "step" for m in modes], dtype=np.uint8)
    columns["drop_last"], columns["step_partial"] = drop, step_partial
    n = _broadcast(columns["num_examples"], n_runs, ABSENT)
    b = _broadcast(columns["micro_batch_size"], n_runs, ABSENT)
    g = _broadcast(columns["grad_accum"], n_runs, 1)
    w = _broadcast(columns["world_size"], n_runs, 1)
    g, w = np.where(g == ABSENT, 1, g), np.where(w == ABSENT, 1, w)  # left out: 1
    columns["grad_accum"], columns["world_size"] = g, w
    spe = _broadcast(columns["steps_per_epoch"], n_runs, ABSENT)
    sps = _broadcast(columns["samples_num"], n_runs, ABSENT)
    has = n != ABSENT
    for what, bad in (("steps_per_epoch", has & (spe != ABSENT)),
                      ("samples_per_step", has & (sps != ABSENT))):
        if bad.any():
            i = _first(bad)
            raise ValueError(f"run {i} gives num_examples and {what}: the dataset geometry "
                             f"decides {what}; leave one of them out")
    if (has & (b == ABSENT)).any():
        i = _first(has & (b == ABSENT))
        raise ValueError(f"run {i} gives num_examples without micro_batch_size")
    dl = np.broadcast_to(drop, (n_runs,)).astype(bool)
    sp = np.broadcast_to(step_partial, (n_runs,)).astype(bool)
    nn, bb, gg, ww = (np.where(has, x, 1) for x in (n, b, g, w))
    per_rank = np.where(dl, nn // ww, -(-nn // ww))
    batches = np.where(dl, per_rank // bb, -(-per_rank // bb))
    S = np.where(sp, -(-batches // gg), batches // gg)
    samples = bb.astype(object) * gg * ww
    bad = has & ((S == 0) | (samples > INT64_MAX))
    if bad.any():
        i = _first(bad)
        try:
            Run.from_dataset(int(n[i]), int(b[i]), int(g[i]), int(w[i]), max_steps=1,
                             drop_last=bool(dl[i]),
                             partial_accumulation="step" if sp[i] else "drop")
        except (ValueError, OverflowError) as exc:
            raise type(exc)(f"run {i}: {exc}") from None
    columns["steps_per_epoch"] = np.where(has, S, spe).astype(np.int64)
    columns["samples_num"] = np.where(has, samples, sps).astype(np.int64)
    den = columns["samples_den"]
    columns["samples_den"] = np.where(has, 1, _broadcast(den, n_runs, 1)).astype(np.int64)


def _unit_columns(columns: Dict[str, Column], given: Dict[str, Any],
                  units: List[Optional[Tuple[Fraction, str]]], n_runs: int) -> None:
    """every_span / every_parts / every_first (the spacing in steps the kernels take) and
    every_num / every_den / every_unit (the amounts, for the Python twin)."""
    rows = n_runs if len(units) != 1 else 1
    per_step = {"steps_per_epoch": (columns.get("steps_per_epoch"), None),
                "samples_per_step": (columns.get("samples_num"), columns.get("samples_den")),
                "tokens_per_step": (columns.get("tokens_num"), columns.get("tokens_den"))}
    if any(c is not None and len(c) == n_runs and n_runs != 1 for c, _ in per_step.values()):
        rows = n_runs
    out = {name: np.empty(rows, dtype=np.int64) for name in
           ("every_span", "every_parts", "every_first", "every_num", "every_den")}
    unit_codes = np.zeros(rows, dtype=np.uint8)
    cache: Dict[Tuple[Fraction, str, Fraction], Tuple[int, int, int]] = {}
    for i in range(rows):
        entry = units[i if len(units) != 1 else 0]
        if entry is None:
            out["every_span"][i] = out["every_num"][i] = ABSENT
            out["every_parts"][i] = out["every_first"][i] = out["every_den"][i] = 1
            continue
        amount, unit = entry
        need = _UNIT_NEEDS[unit]
        num_col, den_col = per_step[need]
        num = ABSENT if num_col is None else int(num_col[i if len(num_col) != 1 else 0])
        if num == ABSENT:
            label = f"every[{i}]" if len(units) != 1 else "every"
            value = given["every"] if len(units) == 1 else given["every"][i]
            raise ValueError(f"run {i}: {label}={_show(value)} needs {need}"
                             + (" (or num_examples and micro_batch_size)"
                                if need != "tokens_per_step" else ""))
        den = 1 if den_col is None else int(den_col[i if len(den_col) != 1 else 0])
        key = (amount, unit, Fraction(num, den))
        if key not in cache:
            spacing = amount * key[2] if unit == "epochs" else amount / key[2]
            if spacing < 1:
                cache[key] = (1, 2, 1)
            else:
                first = -(-spacing.numerator // spacing.denominator)
                fits = max(spacing.numerator, spacing.denominator) <= INT64_MAX
                cache[key] = (spacing.numerator if fits else OVERFLOW,
                              spacing.denominator if fits else 1,
                              first if first <= INT64_MAX else ABSENT)
        out["every_span"][i], out["every_parts"][i], out["every_first"][i] = cache[key]
        out["every_num"][i], out["every_den"][i] = amount.numerator, amount.denominator
        unit_codes[i] = _UNIT_CODES[unit]
    columns.update(out)
    columns["every_unit"] = unit_codes
    columns["every_whole_epochs"] = ((unit_codes == _UNIT_CODES["epochs"])
                                     & (out["every_den"] == 1)).view(np.uint8)


def _row_error(exc: RowError, given: Dict[str, Any],
               complete: AbstractSet[str]) -> Exception:
    """The user's exception for a row the kernel stopped at (for a value of a column it
    left to the kernel to check, the error its own check gives)."""
    i = exc.row
    name = ARGS[exc.arg] if exc.arg >= 0 else None
    if exc.why == WHY_VALUE and name is not None and name in complete:
        try:
            _int_column(given[name], name, *_INTEGERS[name])
        except (TypeError, ValueError, OverflowError) as checked:
            return checked

    def show(n: str) -> str:
        return _label(n, i, given[n])

    if exc.why == WHY_VALUE:
        if name == "ratio":
            return _ratio_error(f"ratio[{i}]" if _per_run(given["ratio"]) else "ratio",
                                given["ratio"][i] if _per_run(given["ratio"]) else given["ratio"])
        need = "> 0" if name == "epochs" else (
            "a non-negative integer" if name == "min_interval" else "a positive integer")
        return ValueError(f"{show(str(name))}: {name} must be {need}")
    if exc.why == WHY_MISSING:
        return ValueError(f"run {i} needs max_steps, or both steps_per_epoch and epochs; "
                          f"it has {show('steps_per_epoch')}, {show('epochs')}, "
                          f"{show('max_steps')}")
    if exc.why == WHY_NEEDS_SPE:
        return ValueError(f"{show('saves_per_epoch')} needs steps_per_epoch, which run {i} "
                          f"does not have ({show('steps_per_epoch')})")
    if exc.why == WHY_OVERFLOW and name == "epochs":
        return OverflowError(f"run {i}: {show('epochs')} * {show('steps_per_epoch')} total "
                             "steps exceed the int64 range (2**63 - 1)")
    if exc.why == WHY_OVERFLOW and name == "every":
        return OverflowError(f"run {i}: {show('every')} gives a spacing in steps whose terms "
                             "exceed the int64 range (2**63 - 1); give a rounder amount")
    if exc.why == WHY_OVERFLOW:
        return OverflowError(f"run {i}: {show('checkpoint_bytes')} times its number of "
                             "checkpoints exceeds the int64 range (2**63 - 1)")
    if exc.why == WHY_TOTAL:
        return OverflowError(f"the sweep's total number of checkpoints exceeds the int64 range "
                             f"(2**63 - 1) at run {i}; split the sweep, or pass "
                             "counts_only=True")
    if exc.why == WHY_WALK:
        limit = _schedule.MAX_MATERIALIZED
        what = (f"thin its steps with {show('min_interval')}" if name == "min_interval"
                else "count the union of its rules")
        return ValueError(f"run {i} has more than {limit} scheduled steps, and to {what} a "
                          f"sweep would have to walk them all (Schedule walks at most {limit}); "
                          "give that run fewer steps, a single rule or no min_interval, or "
                          "query its Schedule with should_save / next_after, which never walk")
    return RuntimeError(f"sweep kernel error at run {i} (status {exc.status}, "
                        f"argument {name}, reason {exc.why}): please report this")

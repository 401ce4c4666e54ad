# cython: language_level=3, embedsignature=True
"""The C sweep backend: bindings over src_c/ckpt_sweep.c (declared in _ckpt_sweep.pxd).

Same `sweep(n_runs, columns, counts_only)` and same `RowError`s as `_sweep_py.py`
(the pure-Python twin it is tested against).  The columns are read in place (typed
memoryviews, no copies); the kernels run without the GIL, a bounded amount of work at a
time (WORK_BUDGET), so that Ctrl-C is noticed between calls.  Outputs are allocated once,
at their exact size, after checking that they fit.
"""
cimport cython
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport int64_t, uint8_t, uint32_t

import numpy as np

from ._ckpt cimport ckpt_rule, ckpt_rule_count, ckpt_rule_from_fields, ckpt_status, CKPT_OK
from ._ckpt_sweep cimport (
    CKPT_FLAG_EPOCH_END_MISSED, CKPT_FLAG_FEWER_THAN_REQUESTED, CKPT_FLAG_FINAL_NOT_SAVED,
    CKPT_FLAG_HF_MISMATCH, CKPT_FLAG_LONG_GAP, CKPT_FLAG_MIN_INTERVAL_DROPPED, CKPT_FLAG_NO_SAVES,
    CKPT_FLAG_OUT_OF_RANGE, CKPT_FLAG_UNEVEN_TAIL, CKPT_SWEEP_ABSENT, CKPT_WHY_INTERNAL,
    CKPT_WHY_MISSING, CKPT_WHY_NEEDS_SPE, CKPT_WHY_OVERFLOW, CKPT_WHY_TOTAL, CKPT_WHY_VALUE,
    CKPT_WHY_WALK, CKPT_SWEEP_OVERFLOW, ckpt_col_f64, ckpt_sweep_disk, ckpt_col_i64, ckpt_col_u8, ckpt_sweep_count, ckpt_sweep_error,
    ckpt_sweep_fill, ckpt_sweep_in, ckpt_sweep_rule_fill,
)
from . import schedule as _schedule
from ._common import check_rule
from ._sweep_py import COLUMNS, RowError, allocate_steps, complete_bits

NAME = "c"

#: The C header's constants, for the tests that hold them equal to the Python twin's.
ABSENT = CKPT_SWEEP_ABSENT
OVERFLOW = CKPT_SWEEP_OVERFLOW
FLAGS = {
    "NO_SAVES": CKPT_FLAG_NO_SAVES,
    "FEWER_THAN_REQUESTED": CKPT_FLAG_FEWER_THAN_REQUESTED,
    "FINAL_NOT_SAVED": CKPT_FLAG_FINAL_NOT_SAVED,
    "HF_MISMATCH": CKPT_FLAG_HF_MISMATCH,
    "UNEVEN_TAIL": CKPT_FLAG_UNEVEN_TAIL,
    "OUT_OF_RANGE": CKPT_FLAG_OUT_OF_RANGE,
    "MIN_INTERVAL_DROPPED": CKPT_FLAG_MIN_INTERVAL_DROPPED,
    "LONG_GAP": CKPT_FLAG_LONG_GAP,
    "EPOCH_END_MISSED": CKPT_FLAG_EPOCH_END_MISSED,
}
WHYS = {
    "WHY_VALUE": CKPT_WHY_VALUE,
    "WHY_MISSING": CKPT_WHY_MISSING,
    "WHY_NEEDS_SPE": CKPT_WHY_NEEDS_SPE,
    "WHY_OVERFLOW": CKPT_WHY_OVERFLOW,
    "WHY_TOTAL": CKPT_WHY_TOTAL,
    "WHY_INTERNAL": CKPT_WHY_INTERNAL,
    "WHY_WALK": CKPT_WHY_WALK,
}

# Work per nogil call (rows, plus steps walked or written): large enough that the GIL
# round trip is noise, small enough that Ctrl-C is answered within milliseconds.
cdef int64_t WORK_BUDGET = 1 << 22
# Sweeps of at most this many steps (8 MiB) are allocated without asking the OS for its memory.
cdef int64_t _SMALL_STEPS = 1 << 20
_COLUMN_SET = frozenset(COLUMNS)


cdef Py_ssize_t _column_length(object array, int64_t n_runs) except -1:
    """Values in a column (1 broadcasts, 0 when absent or when there are no runs)."""
    if array is None:
        return 0
    length = len(array)
    if length != 1 and length != n_runs:
        raise ValueError(f"a column has {length} values for {n_runs} runs")
    return length if n_runs else 0


# Point a kernel column at an array's data (no copy): step 0 broadcasts its one value.
cdef int _bind_int64_column(ckpt_col_i64 *col, object array, int64_t n_runs) except -1:
    cdef const int64_t[::1] view
    col.data, col.step = NULL, 0
    if _column_length(array, n_runs):
        view = array
        col.data, col.step = &view[0], view.shape[0] != 1
    return 0


cdef int _bind_float64_column(ckpt_col_f64 *col, object array, int64_t n_runs) except -1:
    cdef const double[::1] view
    col.data, col.step = NULL, 0
    if _column_length(array, n_runs):
        view = array
        col.data, col.step = &view[0], view.shape[0] != 1
    return 0


cdef int _bind_uint8_column(ckpt_col_u8 *col, object array, int64_t n_runs) except -1:
    cdef const uint8_t[::1] view
    col.data, col.step = NULL, 0
    if _column_length(array, n_runs):
        view = array
        col.data, col.step = &view[0], view.shape[0] != 1
    return 0


cdef int _check(ckpt_status status, ckpt_sweep_error *err) except -1:
    if status != CKPT_OK:
        raise RowError(<int>status, err.row, err.arg, err.why)
    return 0


cdef inline int64_t *_ptr(object array):
    """The data of an int64 numpy array we just allocated (NULL when empty)."""
    cdef int64_t[::1] view
    if array is None or len(array) == 0:
        return NULL
    view = array
    return &view[0]


def sweep(int64_t n_runs, dict columns, bint counts_only, *, bint general_only=False,
          complete=frozenset()):
    """(counts, offsets, steps, flags, bytes, peak, peak_bytes, survivors) of every run;
    offsets and steps are None with counts_only, bytes and peak_bytes None without a
    checkpoint_bytes column.  Raises RowError, and ValueError when the steps would not
    fit in memory.

    Without a keep_last column every checkpoint stays: peak and survivors are then counts
    itself, and peak_bytes is bytes (one array each, not copies).  general_only (for
    tests): every run takes the kernels' general path, not their closed forms.  complete:
    the names of columns (of COMPLETE_COLUMNS) that give a value in every run, unchecked:
    ABSENT in them is a bad value (RowError WHY_VALUE), not absence."""
    cdef ckpt_sweep_in sw
    cdef ckpt_sweep_error err
    cdef ckpt_status status = CKPT_OK
    cdef int64_t begin, done = 0
    cdef int64_t *counts_p
    cdef int64_t *offsets_p = NULL
    cdef int64_t *bytes_p = NULL
    cdef int64_t *steps_p
    cdef uint32_t[::1] flags_v
    cdef uint32_t *flags_p = NULL
    cdef ckpt_sweep_disk disk

    unknown = columns.keys() - _COLUMN_SET
    if unknown or n_runs < 0:
        raise ValueError(f"bad sweep columns {sorted(unknown)} or n_runs {n_runs}")
    sw.n_runs = n_runs
    _bind_int64_column(&sw.steps_per_epoch, columns.get("steps_per_epoch"), n_runs)
    _bind_int64_column(&sw.epochs_num, columns.get("epochs_num"), n_runs)
    _bind_int64_column(&sw.epochs_den, columns.get("epochs_den"), n_runs)
    _bind_float64_column(&sw.epochs_float, columns.get("epochs_float"), n_runs)
    _bind_int64_column(&sw.max_steps, columns.get("max_steps"), n_runs)
    _bind_int64_column(&sw.saves_per_epoch, columns.get("saves_per_epoch"), n_runs)
    _bind_int64_column(&sw.every, columns.get("every"), n_runs)
    _bind_int64_column(&sw.count, columns.get("count"), n_runs)
    _bind_int64_column(&sw.ratio_num, columns.get("ratio_num"), n_runs)
    _bind_int64_column(&sw.ratio_den, columns.get("ratio_den"), n_runs)
    _bind_float64_column(&sw.ratio_float, columns.get("ratio_float"), n_runs)
    _bind_uint8_column(&sw.final, columns.get("final"), n_runs)
    _bind_int64_column(&sw.min_interval, columns.get("min_interval"), n_runs)
    _bind_int64_column(&sw.checkpoint_bytes, columns.get("checkpoint_bytes"), n_runs)
    _bind_int64_column(&sw.keep_last, columns.get("keep_last"), n_runs)
    _bind_int64_column(&sw.every_span, columns.get("every_span"), n_runs)
    _bind_int64_column(&sw.every_parts, columns.get("every_parts"), n_runs)
    _bind_int64_column(&sw.every_first, columns.get("every_first"), n_runs)
    _bind_uint8_column(&sw.every_whole_epochs, columns.get("every_whole_epochs"), n_runs)
    # a run is Schedule(...) exactly: it walks no more steps than a Schedule holds
    sw.walk_limit = _schedule.MAX_MATERIALIZED
    sw.work_budget = WORK_BUDGET
    sw.general_only = general_only
    sw.complete = complete_bits(complete)

    counts = np.empty(n_runs, dtype=np.int64)
    flags = np.empty(n_runs, dtype=np.uint32)
    nbytes = None if columns.get("checkpoint_bytes") is None else np.empty(n_runs, dtype=np.int64)
    offsets = None if counts_only else np.empty(n_runs + 1, dtype=np.int64)
    if columns.get("keep_last") is None:  # every checkpoint stays: the disk is the counts
        peak, survivors, peak_bytes = counts, counts, nbytes
        disk.peak = disk.survivors = disk.peak_bytes = NULL
    else:
        peak = np.empty(n_runs, dtype=np.int64)
        survivors = np.empty(n_runs, dtype=np.int64)
        peak_bytes = None if nbytes is None else np.empty(n_runs, dtype=np.int64)
        disk.peak, disk.survivors, disk.peak_bytes = _ptr(peak), _ptr(survivors), _ptr(peak_bytes)
    counts_p, bytes_p = _ptr(counts), _ptr(nbytes)
    if n_runs:
        flags_v = flags
        flags_p = &flags_v[0]
    if offsets is not None:
        offsets_p = _ptr(offsets)
        offsets_p[0] = 0

    begin = 0
    while begin < n_runs:
        with nogil:
            status = ckpt_sweep_count(&sw, begin, n_runs, counts_p, flags_p, bytes_p, offsets_p,
                                      &disk, &done, &err)
        _check(status, &err)
        PyErr_CheckSignals()
        begin = done
    if counts_only:
        return counts, None, None, flags, nbytes, peak, peak_bytes, survivors

    # a few steps always fit: only a large sweep needs allocate_steps' check of the memory
    steps = (np.empty(offsets_p[n_runs], dtype=np.int64) if offsets_p[n_runs] <= _SMALL_STEPS
             else allocate_steps(offsets_p[n_runs]))
    steps_p = _ptr(steps)
    begin = 0
    while begin < n_runs:
        with nogil:
            status = ckpt_sweep_fill(&sw, begin, n_runs, offsets_p, steps_p, &done, &err)
        _check(status, &err)
        PyErr_CheckSignals()
        begin = done
    return counts, offsets, steps, flags, nbytes, peak, peak_bytes, survivors


def rule_fill(rule, int64_t n):
    """The first n steps of a validated rule tuple (as _common.check_rule takes), as int64 (for tests)."""
    cdef ckpt_rule r
    cdef int64_t[::1] view
    kind, first, second, stop = check_rule(rule)
    r = ckpt_rule_from_fields(kind, first, second, stop)
    if not 0 <= n <= ckpt_rule_count(&r, r.stop):
        raise ValueError(f"the rule {rule!r} has {ckpt_rule_count(&r, r.stop)} steps, not {n}")
    out = np.empty(n, dtype=np.int64)
    if n > 0:
        view = out
        with nogil:
            ckpt_sweep_rule_fill(&r, &view[0], n)
    return out

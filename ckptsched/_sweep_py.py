"""The pure-Python sweep backend: one run at a time, exact integers, no C.

It is the fallback when the `_sweep_c` extension is missing (or CKPTSCHED_NO_EXTENSIONS=1)
and the oracle the C kernels (src_c/ckpt_sweep.c) are tested against.  Both backends
expose `sweep(n_runs, columns, counts_only)` with the same columns, results and
`RowError`s; the facade (`ckptsched.sweep`) turns a RowError into a message naming the
argument, the row and the value.

Columns (what `ckptsched.sweep` prepares; see src_c/ckpt_sweep.h for their domains):
a name of COLUMNS -> None (absent in every run) or a 1-D C-contiguous numpy array of
length 1 (one value for every run) or n_runs.  int64 columns hold ABSENT where a run
does not give that argument; "final" is uint8; "epochs_float" / "ratio_float" are float64.
"""
from __future__ import annotations

import numpy as np

from . import _schedule_py
from ._common import INT64_MAX, RULE_EVEN, RULE_EVERY, STATUS_CAPACITY, STATUS_DOMAIN, STATUS_OVERFLOW
from ._frameworks import axolotl_save_steps, transformers_interval
from .diagnostics import CODES

NAME = "python"

#: "Not given in this run" in an int64 column (CKPT_SWEEP_ABSENT).
ABSENT = -(2**63)

#: The kernel's columns, as in ckpt_sweep_in.
COLUMNS = ("steps_per_epoch", "epochs_num", "epochs_den", "epochs_float", "max_steps",
           "saves_per_epoch", "every", "count", "ratio_num", "ratio_den", "ratio_float",
           "final", "min_interval", "checkpoint_bytes")

#: The arguments a row error can be about (ckpt_sweep_arg: index in this tuple, -1 none).
ARGS = ("steps_per_epoch", "epochs", "max_steps", "saves_per_epoch", "every", "count",
        "ratio", "final", "min_interval", "checkpoint_bytes")

# Why a row stopped the sweep (ckpt_sweep_why).
WHY_VALUE = 1      # the argument's value is outside its domain
WHY_MISSING = 2    # no max_steps, and the argument (steps_per_epoch or epochs) is missing
WHY_NEEDS_SPE = 3  # saves_per_epoch without steps_per_epoch
WHY_OVERFLOW = 4   # epochs * steps_per_epoch, or count * checkpoint_bytes, leaves int64
WHY_TOTAL = 5      # the running total of saves leaves int64 at this run
WHY_INTERNAL = 6   # a run's slice does not match its count (a bug)

#: Diagnostic flag bits: bit i is the i-th code of ckptsched.CODES.
FLAGS = {code: 1 << i for i, code in enumerate(CODES)}


class RowError(Exception):
    """Run `row` stopped the sweep: `arg` (an index into ARGS, -1 for none) and `why`."""

    def __init__(self, status: int, row: int, arg: int, why: int):
        super().__init__(status, row, arg, why)
        self.status, self.row, self.arg, self.why = status, row, arg, why


def _getter(columns, n_runs):
    lists = {}
    for name in COLUMNS:
        col = columns.get(name)
        if col is not None:
            if len(col) not in (1, n_runs):
                raise ValueError(f"column {name} has {len(col)} values for {n_runs} runs")
            lists[name] = (col.tolist(), 0 if len(col) == 1 else 1)

    def get(name, i, default):
        if name not in lists:
            return default
        values, step = lists[name]
        return values[i * step]
    return get


def _row(get, i):
    """Validate run i and return (T, S, k, final, min_interval, bytes_each, rules, flags),
    checking in the order of row_setup in ckpt_sweep.c."""
    A = ABSENT
    S, max_steps = get("steps_per_epoch", i, A), get("max_steps", i, A)
    e_num, e_den = get("epochs_num", i, A), get("epochs_den", i, 1)
    k, every, count = get("saves_per_epoch", i, A), get("every", i, A), get("count", i, A)
    r_num, r_den = get("ratio_num", i, A), get("ratio_den", i, 1)

    def fail(arg, why, status=STATUS_DOMAIN):
        raise RowError(status, i, ARGS.index(arg), why)

    if S != A and S < 1:
        fail("steps_per_epoch", WHY_VALUE)
    if e_num != A and (e_num < 1 or e_den < 1):
        fail("epochs", WHY_VALUE)
    for name, value in (("max_steps", max_steps), ("saves_per_epoch", k), ("every", every),
                        ("count", count)):
        if value != A and value < 1:
            fail(name, WHY_VALUE)
    if r_num != A and not 0 < r_num < r_den:
        fail("ratio", WHY_VALUE)
    final = bool(get("final", i, 1))
    min_interval = get("min_interval", i, 0)
    if min_interval < 0:
        fail("min_interval", WHY_VALUE)
    bytes_each = get("checkpoint_bytes", i, None)
    if bytes_each is not None and bytes_each < 1:
        fail("checkpoint_bytes", WHY_VALUE)

    if max_steps != A:
        T = max_steps
    elif S == A:
        fail("steps_per_epoch", WHY_MISSING)
    elif e_num == A:
        fail("epochs", WHY_MISSING)
    else:
        T = -(-e_num * S // e_den)
        if T > INT64_MAX:
            fail("epochs", WHY_OVERFLOW, STATUS_OVERFLOW)

    rules, flags = [], 0
    if k != A:
        if S == A:
            fail("saves_per_epoch", WHY_NEEDS_SPE)
        rules.append((RULE_EVEN, S, k, T))
        if k > S:
            flags |= FLAGS["FEWER_THAN_REQUESTED"]
    if count != A:
        rules.append((RULE_EVEN, T, count, T))
        if count > T:
            flags |= FLAGS["FEWER_THAN_REQUESTED"]
    if every != A:
        rules.append((RULE_EVERY, every, every, T))
        if every > T:
            flags |= FLAGS["OUT_OF_RANGE"]
        elif final and T % every:
            flags |= FLAGS["UNEVEN_TAIL"]
    if r_num != A:
        interval = -(-T * r_num // r_den)
        rules.append((RULE_EVERY, interval, interval, T))
        given = get("ratio_float", i, None)
        if transformers_interval(T, r_num / r_den if given is None else given) != interval:
            flags |= FLAGS["HF_MISMATCH"]
        if final and T % interval:
            flags |= FLAGS["UNEVEN_TAIL"]
    if any(_schedule_py.rule_count(rule, T) == 0 for rule in rules):
        flags |= FLAGS["OUT_OF_RANGE"]  # a rule that never fires
    if k != A and e_num != A:
        epochs = get("epochs_float", i, None)
        ratio = axolotl_save_steps(k, e_num / e_den if epochs is None else epochs)
        if ratio < 1:
            hf_interval = transformers_interval(T, ratio)
            exact = _schedule_py.Engine(rules[:1], [T] if final else [])
            hf = _schedule_py.Engine([(RULE_EVERY, hf_interval, hf_interval, T)], [T])
            missed = any(not hf.contains(e) for e in range(S, T + 1, S))
            if hf.count(INT64_MAX) != exact.count(INT64_MAX) or missed:
                flags |= FLAGS["HF_MISMATCH"]
    return T, S, k, final, min_interval, bytes_each, rules, flags


def sweep(n_runs: int, columns: dict, counts_only: bool):
    """(counts, offsets, steps, flags, bytes) of every run; offsets and steps are None with
    counts_only, bytes None without a checkpoint_bytes column.  Raises RowError."""
    get = _getter(columns, n_runs)
    with_bytes = columns.get("checkpoint_bytes") is not None
    counts = np.zeros(n_runs, dtype=np.int64)
    flags = np.zeros(n_runs, dtype=np.uint32)
    nbytes = np.zeros(n_runs, dtype=np.int64) if with_bytes else None
    engines, total = [], 0
    # pass 1, as ckpt_sweep_count: every run's count, flags and bytes; stop at a bad run
    for i in range(n_runs):
        T, S, k, final, m, bytes_each, rules, f = _row(get, i)
        engine = _schedule_py.Engine(rules, [T] if final else [])
        if m > 1:
            full = engine.fill(INT64_MAX)
            kept = _schedule_py.min_interval(full, m, T if final else 0)
            n, last = len(kept), int(kept[-1]) if len(kept) else 0
            kept_set = set(kept.tolist())
            dropped = [s for s in full.tolist() if s not in kept_set]
            if dropped:
                f |= FLAGS["MIN_INTERVAL_DROPPED"]
            # the forced final step, kept although thinning would drop it
            if final and T not in _schedule_py.min_interval(full, m, 0).tolist():
                f |= FLAGS["UNEVEN_TAIL"]
            if dropped and k != ABSENT and any(s % S == 0 for s in dropped):
                f |= FLAGS["EPOCH_END_MISSED"]
            engine = _schedule_py.Engine([], kept)
        else:
            n, last = engine.count(INT64_MAX), engine.last()
        if last == 0:
            f |= FLAGS["NO_SAVES"]
        elif not final and last < T:
            f |= FLAGS["FINAL_NOT_SAVED"]
        if with_bytes:
            if n * bytes_each > INT64_MAX:
                raise RowError(STATUS_OVERFLOW, i, ARGS.index("checkpoint_bytes"), WHY_OVERFLOW)
            nbytes[i] = n * bytes_each
        if not counts_only:
            total += n
            if total > INT64_MAX:
                raise RowError(STATUS_OVERFLOW, i, -1, WHY_TOTAL)
            engines.append(engine)
        counts[i], flags[i] = n, f
    if counts_only:
        return counts, None, None, flags, nbytes
    # pass 2, as ckpt_sweep_fill
    parts = []
    for i, engine in enumerate(engines):
        steps = engine.fill(INT64_MAX)
        if len(steps) != counts[i]:
            raise RowError(STATUS_CAPACITY, i, -1, WHY_INTERNAL)
        parts.append(steps)
    offsets = np.zeros(n_runs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    steps = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return counts, offsets, steps.astype(np.int64, copy=False), flags, nbytes

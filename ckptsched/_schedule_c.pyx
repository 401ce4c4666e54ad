# cython: language_level=3, embedsignature=True
"""The C backend: thin bindings over src_c/ckpt.c.

Same functions, same `Engine` class and same errors as `_schedule_py.py` (the pure-Python
twin this module is tested against).  Status codes from C become exceptions through
`_common.status_error`, so both backends word them identically.
"""
cimport cython
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

import numpy as np

from ._ckpt cimport *
from ._common import check_rules, check_step, status_error

NAME = "c"

# Engine.fill releases the GIL for schedules of at least this many steps (128 MiB).
cdef int64_t RELEASE_GIL_FROM = 2**24


cdef inline int _check(ckpt_status status, str what) except -1:
    if status != CKPT_OK:
        raise status_error(<int>status, what)
    return 0


# ---- run geometry -------------------------------------------------------------

def total_steps(int64_t steps_per_epoch, int64_t e_num, int64_t e_den):
    """T = ceil(e_num / e_den * steps_per_epoch); OverflowError when T leaves int64."""
    cdef int64_t total = 0
    cdef ckpt_status status = ckpt_total_steps(steps_per_epoch, e_num, e_den, &total)
    if status == CKPT_DOMAIN:
        _check(status, "total steps")
    _check(status, "epochs * steps_per_epoch")
    return total


def steps_per_epoch(int64_t num_examples, int64_t micro_batch_size, int64_t grad_accum,
                    int64_t world_size, bint drop_last, bint step_partial):
    """Optimizer steps per epoch of a (distributed) dataloader, as in docs/semantics.md; may be 0."""
    cdef int64_t steps = 0
    _check(ckpt_steps_per_epoch(num_examples, micro_batch_size, grad_accum, world_size,
                                drop_last, step_partial, &steps), "steps per epoch")
    return steps


def ratio_interval(int64_t total, int64_t num, int64_t den):
    """ceil(total * num / den): transformers' interval for a ratio, computed exactly."""
    cdef int64_t interval = 0
    if total < 1 or num < 1 or den < 1:
        _check(CKPT_DOMAIN, "ratio interval")
    _check(ckpt_muldiv_ceil(total, num, den, &interval), "total_steps * ratio")
    return interval


def locate(int64_t step, int64_t steps_per_epoch):
    """(1-based epoch, 1-based position within it) of a step >= 1."""
    cdef int64_t epoch = 0, position = 0
    _check(ckpt_locate(step, steps_per_epoch, &epoch, &position), "locate")
    return epoch, position


# ---- schedules ------------------------------------------------------------------

cdef class Engine:
    """A union of rules and sorted extra steps, answering schedule queries in C.

    `rules` is a sequence of rule tuples (kind, start, interval, stop) for RULE_EVERY
    and (kind, span, parts, stop) for RULE_EVEN (see `_common`), `extra` strictly increasing
    steps >= 1.  Queries take a step >= 0 (an int or numpy integer); a step past
    int64 is past every schedule.
    """

    cdef ckpt_rule *_rules
    cdef ckpt_sched _sched
    cdef object _extra_array  # owns the memory _sched.extra points into
    cdef readonly tuple rules
    cdef readonly list extra

    def __cinit__(self, rules, extra):
        cdef int64_t[::1] view
        self._rules = NULL
        self.rules = check_rules(rules)
        self.extra = [int(s) for s in extra]
        if any(s < 1 or s > 2**63 - 1 for s in self.extra) or any(
                x >= y for x, y in zip(self.extra, self.extra[1:])):
            raise ValueError("extra steps must be strictly increasing int64 values >= 1")
        self._rules = <ckpt_rule *>malloc((len(self.rules) + 1) * sizeof(ckpt_rule))
        if self._rules == NULL:
            raise MemoryError()
        for i, (kind, first, second, stop) in enumerate(self.rules):
            self._rules[i] = ckpt_rule_from_fields(kind, first, second, stop)
        self._extra_array = np.array(self.extra, dtype=np.int64)
        self._sched.rules = self._rules
        self._sched.n_rules = len(self.rules)
        self._sched.n_extra = len(self.extra)
        self._sched.extra = NULL
        if self.extra:
            view = self._extra_array
            self._sched.extra = &view[0]

    def __dealloc__(self):
        free(self._rules)

    def __reduce__(self):
        return (Engine, (self.rules, self.extra))

    def contains(self, step):
        """Is `step` a scheduled step?"""
        cdef int64_t s
        if type(step) is not int:
            step = check_step(step)
        try:
            s = step
        except OverflowError:
            check_step(step)  # raises for a huge negative value
            return False      # past int64: past every schedule
        if s < 0:
            check_step(step)
        return ckpt_sched_contains(&self._sched, s) != 0

    def next_after(self, step):
        """The first scheduled step > `step`, or None."""
        cdef int64_t s, found
        if type(step) is not int:
            step = check_step(step)
        try:
            s = step
        except OverflowError:
            check_step(step)
            return None
        if s < 0:
            check_step(step)
        found = ckpt_sched_next_after(&self._sched, s)
        return found if found != 0 else None

    def last(self):
        """The last scheduled step, or 0 when there is none."""
        cdef int64_t best = self.extra[-1] if self.extra else 0, n
        for i in range(self._sched.n_rules):
            n = ckpt_rule_count(&self._rules[i], self._rules[i].stop)
            if n:
                best = max(best, ckpt_rule_nth(&self._rules[i], n))
        return best

    def count_bound(self):
        """The sum of the parts' counts: an upper bound on the number of steps."""
        cdef int64_t bound = 0
        _check(ckpt_sched_count_bound(&self._sched, &bound), "the number of scheduled steps")
        return bound

    def count(self, int64_t walk_limit):
        """The exact number of steps; ValueError if the union must be walked past walk_limit."""
        cdef int64_t n = 0
        cdef ckpt_status status
        with nogil:
            status = ckpt_sched_count(&self._sched, walk_limit, &n)
        _check(status, "schedule")
        return n

    def fill(self, int64_t limit):
        """The sorted distinct steps as int64; ValueError when there are more than `limit`."""
        cdef int64_t size = 0, n = 0
        cdef int64_t[::1] view
        cdef ckpt_status status = ckpt_sched_count_bound(&self._sched, &size)
        if status != CKPT_OK or size > limit or self._sched.n_rules <= 1:
            size = self.count(limit)  # exact; O(extra steps) for at most one rule
            if size > limit:
                _check(CKPT_CAPACITY, "schedule")
        out = np.empty(size, dtype=np.int64)
        if size == 0:
            return out
        view = out
        # Releasing the GIL around the loop measurably slows it (about 1.3-1.5x here, for
        # stores at memory bandwidth), so it is released only for fills long enough that
        # other threads should run meanwhile.
        if size >= RELEASE_GIL_FROM:
            with nogil:
                status = ckpt_sched_fill(&self._sched, &view[0], size, &n)
        else:
            status = ckpt_sched_fill(&self._sched, &view[0], size, &n)
        _check(status, "schedule")
        if n != size:  # overlapping rules: give back the unused tail in place
            out.resize((n,), refcheck=False)
        return out


# ---- post-processing ----------------------------------------------------------------

def min_interval(steps, int64_t min_interval, int64_t forced):
    """Greedy thinning: keep a step when it is the first or >= min_interval after the
    last kept one; `forced` (0: none) is always kept."""
    cdef const int64_t[::1] src = np.ascontiguousarray(steps, dtype=np.int64)
    cdef int64_t n = src.shape[0], kept = 0
    cdef int64_t[::1] dst
    cdef ckpt_status status
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    dst = out
    with nogil:
        status = ckpt_min_interval(&src[0], n, min_interval, forced, &dst[0], &kept)
    _check(status, "min_interval")
    return out if kept == n else out[:kept].copy()


def longest_gap(steps, int64_t total):
    """(length, closing step) of the longest unsaved stretch over 0 -> steps -> total."""
    cdef const int64_t[::1] src = np.ascontiguousarray(steps, dtype=np.int64)
    cdef int64_t gap = 0, end = 0
    cdef const int64_t *ptr = NULL
    if src.shape[0]:
        ptr = &src[0]
    _check(ckpt_longest_gap(ptr, src.shape[0], total, &gap, &end), "longest gap")
    return gap, end

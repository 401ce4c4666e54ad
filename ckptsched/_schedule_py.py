"""The pure-Python backend: exact integer arithmetic, no C.

It is the fallback when the C extension is missing (or CKPTSCHED_NO_EXTENSIONS=1)
and the oracle the C backend (`_schedule_c.pyx`) is tested against.  It exposes the same
functions and the same `Engine` class with the same errors; it favours being
obviously right over being fast.
"""
from __future__ import annotations

import bisect
import heapq

import numpy as np

from ._common import (
    INT64_MAX,
    RULE_EVERY,
    STATUS_CAPACITY,
    STATUS_DOMAIN,
    STATUS_OVERFLOW,
    check_rules,
    check_step,
    status_error,
)

NAME = "python"


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _fits(value: int, what: str) -> int:
    if value > INT64_MAX:
        raise status_error(STATUS_OVERFLOW, what)
    return value


# ---- run geometry -----------------------------------------------------------

def total_steps(steps_per_epoch: int, e_num: int, e_den: int) -> int:
    """T = ceil(e_num / e_den * steps_per_epoch); OverflowError when T leaves int64."""
    if steps_per_epoch < 1 or e_num < 1 or e_den < 1:
        raise status_error(STATUS_DOMAIN, "total steps")
    return _fits(_ceil_div(e_num * steps_per_epoch, e_den), "epochs * steps_per_epoch")


def steps_per_epoch(num_examples: int, micro_batch_size: int, grad_accum: int,
                    world_size: int, drop_last: bool, step_partial: bool) -> int:
    """Optimizer steps per epoch of a (distributed) dataloader, as in docs/semantics.md; may be 0."""
    if min(num_examples, micro_batch_size, grad_accum, world_size) < 1:
        raise status_error(STATUS_DOMAIN, "steps per epoch")
    if drop_last:
        batches = (num_examples // world_size) // micro_batch_size
    else:
        batches = _ceil_div(_ceil_div(num_examples, world_size), micro_batch_size)
    return _ceil_div(batches, grad_accum) if step_partial else batches // grad_accum


def ratio_interval(total: int, num: int, den: int) -> int:
    """ceil(total * num / den): transformers' interval for a ratio, computed exactly."""
    if total < 1 or num < 1 or den < 1:
        raise status_error(STATUS_DOMAIN, "ratio interval")
    return _fits(_ceil_div(total * num, den), "total_steps * ratio")


def locate(step: int, steps_per_epoch: int) -> tuple[int, int]:
    """(1-based epoch, 1-based position within it) of a step >= 1."""
    if step < 1 or steps_per_epoch < 1:
        raise status_error(STATUS_DOMAIN, "locate")
    return (step - 1) // steps_per_epoch + 1, (step - 1) % steps_per_epoch + 1


# ---- rules ------------------------------------------------------------------
# A rule is a tuple (kind, a, b, stop) in the order of src_c/ckpt.h's ckpt_rule:
# a, b are (start, interval) for RULE_EVERY and (span, parts) for RULE_EVEN
# (`parts` boundaries i*span/parts in every `span` steps); see `_common`.

def rule_contains(rule, s: int) -> bool:
    kind, a, b, stop = rule
    if s < 1 or s > stop:
        return False
    if kind == RULE_EVERY:
        return s >= a and (s - a) % b == 0
    return s * b // a > (s - 1) * b // a  # a boundary i*span/parts lies in (s-1, s]


def rule_count(rule, x: int) -> int:
    kind, a, b, stop = rule
    x = min(x, stop)
    if x < 1:
        return 0
    if kind == RULE_EVERY:
        return 0 if x < a else (x - a) // b + 1
    return min(x, x * b // a)  # several boundaries inside one step make one step


def rule_nth(rule, i: int) -> int:
    kind, a, b, _ = rule
    if kind == RULE_EVERY:
        return a + (i - 1) * b
    return _ceil_div(i * a, b) if a >= b else i


def rule_next_after(rule, s: int) -> int:
    before = rule_count(rule, s)
    return rule_nth(rule, before + 1) if before < rule_count(rule, rule[3]) else 0


# ---- schedules ----------------------------------------------------------------

class Engine:
    """A union of rules and sorted extra steps, answering schedule queries.

    `rules` is a sequence of rule tuples (kind, start, interval, stop) for RULE_EVERY
    and (kind, span, parts, stop) for RULE_EVEN (see `_common`), `extra` strictly increasing
    steps >= 1.  Queries take a step >= 0 (an int or numpy integer); a step past
    int64 is past every schedule.
    """

    __slots__ = ("rules", "extra")

    def __init__(self, rules, extra):
        self.rules = check_rules(rules)
        self.extra = [int(s) for s in extra]
        if any(s < 1 or s > INT64_MAX for s in self.extra) or any(
                x >= y for x, y in zip(self.extra, self.extra[1:])):
            raise ValueError("extra steps must be strictly increasing int64 values >= 1")

    def __reduce__(self):
        return (Engine, (self.rules, self.extra))

    def contains(self, step) -> bool:
        """Is `step` a scheduled step?"""
        s = check_step(step)
        if any(rule_contains(rule, s) for rule in self.rules):
            return True
        i = bisect.bisect_left(self.extra, s)
        return i < len(self.extra) and self.extra[i] == s

    def next_after(self, step):
        """The first scheduled step > `step`, or None."""
        s = check_step(step)
        if s >= INT64_MAX:
            return None
        candidates = [rule_next_after(rule, s) for rule in self.rules]
        i = bisect.bisect_right(self.extra, s)
        if i < len(self.extra):
            candidates.append(self.extra[i])
        found = [c for c in candidates if c]
        return min(found) if found else None

    def last(self) -> int:
        """The last scheduled step, or 0 when there is none."""
        ends = [rule_nth(r, n) for r in self.rules if (n := rule_count(r, r[3]))]
        return max(ends + self.extra[-1:], default=0)

    def count_bound(self) -> int:
        """The sum of the parts' counts: an upper bound on the number of steps."""
        return _fits(len(self.extra) + sum(rule_count(r, r[3]) for r in self.rules),
                     "the number of scheduled steps")

    def count(self, walk_limit: int) -> int:
        """The exact number of steps; ValueError if the union must be walked past walk_limit."""
        if len(self.rules) > 1:
            return len(self._union(walk_limit))
        total = len(self.extra)
        if self.rules:
            rule = self.rules[0]
            total = rule_count(rule, rule[3]) + sum(
                1 for s in self.extra if not rule_contains(rule, s))
        return _fits(total, "the number of scheduled steps")

    def fill(self, limit: int) -> np.ndarray:
        """The sorted distinct steps as int64; ValueError when there are more than `limit`."""
        return np.array(self._union(limit), dtype=np.int64)

    def _union(self, limit: int) -> list:
        """The sorted distinct steps; ValueError (capacity) when there are more than `limit`."""
        counts = [rule_count(rule, rule[3]) for rule in self.rules]
        # the union is at least as large as its largest part, and exactly counted for one rule
        if max(counts + [len(self.extra)]) > limit or (len(self.rules) <= 1 and self.count(limit) > limit):
            raise status_error(STATUS_CAPACITY, "schedule")
        # merge the sorted parts lazily (memory: the output only), dropping repeats
        parts = [iter(self.extra)] + [_rule_steps(rule, n) for rule, n in zip(self.rules, counts)]
        steps: list = []
        for s in heapq.merge(*parts):
            if not steps or s != steps[-1]:
                if len(steps) == limit:
                    raise status_error(STATUS_CAPACITY, "schedule")
                steps.append(s)
        return steps


# ---- post-processing ------------------------------------------------------------

def min_interval(steps, min_interval: int, forced: int) -> np.ndarray:
    """Greedy thinning: keep a step when it is the first or >= min_interval after the
    last kept one; `forced` (0: none) is always kept."""
    if min_interval < 0:
        raise status_error(STATUS_DOMAIN, "min_interval")
    kept: list[int] = []
    for s in (int(v) for v in steps):
        if not kept or s == forced or s - kept[-1] >= min_interval:
            kept.append(s)
    return np.array(kept, dtype=np.int64)


def longest_gap(steps, total: int) -> tuple[int, int]:
    """(length, closing step) of the longest unsaved stretch over 0 -> steps -> total."""
    points = [0] + [int(s) for s in steps]
    if total < 1 or any(y <= x for x, y in zip(points, points[1:])) or points[-1] > total:
        raise status_error(STATUS_DOMAIN, "longest gap")
    if total > points[-1]:
        points.append(total)
    best, end = 0, 0
    for x, y in zip(points, points[1:]):
        if y - x > best:
            best, end = y - x, y
    return best, end


def _rule_steps(rule: tuple, n: int):
    """The first n steps of `rule`, in order, computed one at a time."""
    return (rule_nth(rule, i) for i in range(1, n + 1))

"""Schedule.should_save: the per-step decision, bound to the backend's membership test.

The fast paths (an exact-int check before numbers.Integral, should_save bound to the
engine's `contains`, and in C one 64-bit remainder for an EVEN rule while s*parts fits
in int64) must give the answers of an exact Fraction model and the errors of check_step,
on both backends; steps near the 64/128-bit edge of the C arithmetic are drawn on purpose.
"""
from __future__ import annotations

import math
import pickle
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ckptsched import Run, Schedule
from ckptsched._common import check_step

INT64_MAX = 2**63 - 1


def quiet(run: Run, **kwargs) -> Schedule:
    """A Schedule, its diagnostics (warnings included) silenced: the tests look at its steps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Schedule(run, **kwargs)


def boundary_is_step(span: int, parts: int, s: int) -> bool:
    """Model: is s the step ceil(j * span / parts) of some boundary j >= 1?  The last
    boundary at or before s is j = floor(s * parts / span), in exact Fractions."""
    if s < 1:
        return False
    j = math.floor(Fraction(s * parts, span))
    return j >= 1 and math.ceil(Fraction(j * span, parts)) == s


def candidate_steps(span: int, parts: int, total: int, draw) -> list:
    """Steps worth asking about: around a few boundaries, around the run's end, 0, past it."""
    steps = [0, 1, total - 1, total, total + 1]
    for _ in range(4):
        j = draw(st.integers(1, max(1, parts * (total // span + 1))))
        at = math.ceil(Fraction(j * span, parts))
        steps += [at - 1, at, at + 1]
    return [s for s in steps if 0 <= s <= INT64_MAX]


@st.composite
def saves_per_epoch_runs(draw):
    """(steps per epoch S, epochs E, saves per epoch k) with S*E in int64, S often large
    enough that s*k leaves int64 (the C backend's 128-bit path)."""
    epochs = draw(st.integers(1, 5))
    top = INT64_MAX // epochs
    steps_per_epoch = draw(st.one_of(st.integers(1, 10_000), st.integers(1, top),
                                     st.integers(max(1, top - 1000), top)))
    saves = draw(st.one_of(st.integers(1, 64), st.integers(1, 2**40)))
    assume(saves <= steps_per_epoch)  # more saves than steps: every step (a diagnostic)
    return steps_per_epoch, epochs, saves


@given(saves_per_epoch_runs(), st.data())
def test_should_save_saves_per_epoch_matches_the_fraction_model(backend, quiet_schedules,
                                                                 geometry, data):
    S, E, k = geometry
    run = Run(steps_per_epoch=S, epochs=E)
    T = run.total_steps
    sched = quiet(run, saves_per_epoch=k)
    for s in candidate_steps(S, k, T, data.draw):
        want = s <= T and (boundary_is_step(S, k, s) or s == T)
        assert sched.should_save(s) is want, (S, E, k, s)
        assert (s in sched) is want
        assert sched.should_save(np.int64(s)) is want


@given(st.integers(1, INT64_MAX), st.integers(1, 2**40), st.data())
def test_should_save_count_matches_the_fraction_model(backend, quiet_schedules, total, count,
                                                      data):
    assume(count <= total)
    sched = quiet(Run(max_steps=total), count=count)
    for s in candidate_steps(total, count, total, data.draw):
        want = s <= total and boundary_is_step(total, count, s)
        assert sched.should_save(s) is want, (total, count, s)


@given(st.integers(1, INT64_MAX), st.integers(1, INT64_MAX), st.integers(0, INT64_MAX))
def test_should_save_every_matches_the_model(backend, quiet_schedules, total, every, s):
    sched = quiet(Run(max_steps=total), every=every, final=False)
    want = 1 <= s <= total and s % every == 0
    assert sched.should_save(s) is want


def test_should_save_agrees_between_backends_at_the_64_bit_edge(backends, quiet_schedules):
    """Steps on both sides of s * k = 2**63 (where C leaves its 64-bit path) answer the
    same on both backends, and as the model says."""
    from ckptsched import _backend

    for k in (3, 2**31 + 1, 2**32 - 1, 999_999_937):
        S = INT64_MAX // 2
        edge = INT64_MAX // k
        steps = [edge + d for d in range(-3, 4)]
        j = edge * k // S
        steps += [math.ceil(Fraction(i * S, k)) + d for i in (j, j + 1) for d in (-1, 0, 1)]
        answers = {}
        for name in backends:
            with _backend.use(name):
                sched = quiet(Run(steps_per_epoch=S, epochs=2), saves_per_epoch=k)
                answers[name] = [sched.should_save(s) for s in steps]
        for got in answers.values():
            assert got == [s <= 2 * S and (boundary_is_step(S, k, s) or s == 2 * S)
                           for s in steps]


class IntSubclass(int):
    pass


BAD_STEPS = [True, False, np.bool_(True), 10.0, float("nan"), np.float64(3), "10", None,
             Fraction(4), Decimal(4), [3], -1, -(2**70), np.int64(-1), np.int8(-5)]


def error_of(fn, value):
    try:
        fn(value)
    except (TypeError, ValueError, OverflowError) as exc:
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("value", BAD_STEPS, ids=repr)
def test_bad_steps_raise_what_check_step_raises(backend, value):
    """should_save and `in` raise exactly check_step's error (type and message), which
    names the argument and the value; next_after and due too."""
    sched = Schedule(Run(max_steps=100), every=10)
    want = error_of(check_step, value)
    assert want is not None and "step" in want[1]
    assert error_of(sched.should_save, value) == want
    assert error_of(lambda v: v in sched, value) == want
    assert error_of(sched.next_after, value) == want
    assert error_of(lambda v: sched.due(0, v), value) == want
    assert error_of(lambda v: sched.due(v, 100), value) == error_of(
        lambda v: check_step(v, "prev"), value)


@pytest.mark.parametrize("value", [0, 5, 10, 2**63 - 1, 2**63, 10**30, IntSubclass(10),
                                   np.int64(10), np.uint64(2**64 - 1), np.int8(10)], ids=repr)
def test_good_steps_are_answered_as_exact_ints(backend, value):
    sched = Schedule(Run(max_steps=100), every=10)
    want = 1 <= int(value) <= 100 and int(value) % 10 == 0
    assert sched.should_save(value) is want
    assert sched.should_save(step=value) is want
    assert check_step(value) == int(value) and type(check_step(value)) is int


def test_should_save_is_bound_per_schedule_and_read_only(backend):
    sched = Schedule(Run(max_steps=100), every=10)
    with pytest.raises(AttributeError, match="immutable"):
        sched.should_save = lambda step: True  # type: ignore[method-assign,misc]
    copy = pickle.loads(pickle.dumps(sched))
    assert [s for s in range(101) if copy.should_save(s)] == sched.steps.tolist()
    other = Schedule(Run(max_steps=100), every=7)
    assert sched.should_save(70) and other.should_save(70)
    assert sched.should_save(7) is False and other.should_save(7) is True

"""Diagnostics computed from a schedule's steps (ckptsched/_diagnose.py), at any size.

The oracle is a brute-force model over every step, for small runs; large runs are checked
against counts derived by hand in the comments."""
from __future__ import annotations


import pytest
from hypothesis import given, strategies as st

from ckptsched import Run, Schedule
from ckptsched._frameworks import transformers_missed_epoch_ends


# the oracle builds many Schedules: their info diagnostics need not be logged
pytestmark = pytest.mark.usefixtures("quiet_schedules")


def missed_by_brute_force(S: int, T: int, interval: int) -> list:
    """The epoch ends before T that transformers (multiples of min(interval, T), and T)
    does not save, one by one."""
    every = min(interval, T)
    return [end for end in range(S, T, S) if end % every != 0]


@given(S=st.integers(1, 40), T=st.integers(1, 400), interval=st.integers(1, 500),
       limit=st.integers(0, 30))
def test_missed_epoch_ends_equal_brute_force(S, T, interval, limit):
    missed = missed_by_brute_force(S, T, interval)
    assert transformers_missed_epoch_ends(S, T, interval, limit) == (len(missed), missed[:limit])


def test_axolotl_mismatch_over_a_trillion_epochs(backend):
    """S=3, 10**12 epochs, 2 saves per epoch: Axolotl's save_steps 1/(2*10**12) makes
    transformers save every ceil(3*10**12 * 5e-13) = 2 steps, so it saves the odd epoch
    ends 3, 9, 15, ... never: 5 * 10**11 of the 10**12 - 1 ends before the last step."""
    sched = Schedule(Run(3, 10**12), saves_per_epoch=2)
    (hf,) = [d for d in sched.diagnostics if d.code == "HF_MISMATCH"]
    assert hf.data["hf_interval"] == 2
    assert hf.data["missed_epoch_ends"][:4] == [3, 9, 15, 21]
    assert len(hf.data["missed_epoch_ends"]) == 100_000  # a listing, not all of them
    assert f"({5 * 10**11} in all)" in hf.message
    quiet = Schedule(Run(1, 10**12), saves_per_epoch=2)  # every step: nothing missed
    assert [d.code for d in quiet.diagnostics] == ["FEWER_THAN_REQUESTED"]


def test_epoch_end_missed_lists_only_dropped_epoch_ends(backend):
    """every="2ep" over 10 epochs of 10 steps saves 20, 40, 60, 80, 100; min_interval=30
    keeps 20, 60 and the forced 100, dropping 40 and 80: those are the epoch ends missed
    (10, 30, 50, ... were never scheduled, so they are not "missed")."""
    sched = Schedule(Run(10, 10), every="2ep", min_interval=30)
    assert sched.steps.tolist() == [20, 60, 100]
    (missed,) = [d for d in sched.diagnostics if d.code == "EPOCH_END_MISSED"]
    assert missed.data["missed_epoch_ends"] == [40, 80]
    (dropped,) = [d for d in sched.diagnostics if d.code == "MIN_INTERVAL_DROPPED"]
    assert dropped.data["dropped"] == [40, 80]


@given(S=st.integers(1, 12), epochs=st.integers(1, 6), k=st.integers(1, 5),
       m=st.integers(2, 20), final=st.booleans())
def test_epoch_end_missed_equals_brute_force(S, epochs, k, m, final):
    T = S * epochs
    full = sorted({e * S + -(-j * S // k) for e in range(epochs) for j in range(1, k + 1)}
                  | ({T} if final else set()))
    kept = []
    for s in full:
        if not kept or (final and s == T) or s - kept[-1] >= m:
            kept.append(s)
    missed = [s for s in full if s not in kept and s % S == 0]
    sched = Schedule(Run(S, epochs), saves_per_epoch=k, min_interval=m, final=final)
    assert sched.steps.tolist() == kept
    found = [d.data["missed_epoch_ends"] for d in sched.diagnostics if d.code == "EPOCH_END_MISSED"]
    assert found == ([missed] if missed else [])


def test_same_count_at_other_steps_is_a_mismatch(backend):
    """225 steps, 4 saves per epoch: exact ceil(225*i/4) = 57, 113, 169, 225; Axolotl's
    save_steps 0.25 -> every ceil(225*0.25) = 57: 57, 114, 171, 225.  Same count, other steps."""
    sched = Schedule(Run(steps_per_epoch=225, epochs=1), saves_per_epoch=4)
    (hf,) = [d for d in sched.diagnostics if d.code == "HF_MISMATCH"]
    assert hf.data["count"] == hf.data["hf_count"] == 4 and hf.data["hf_interval"] == 57
    assert hf.data["exact_only"] == [113, 169] and hf.data["hf_only"] == [114, 171]
    assert hf.data["differing_count"] == 4 and hf.data["schedule"] == "save"
    assert "exact 113, 169 vs transformers 114, 171 (4 steps differ in all)" in hf.message


def brute_force_difference(T, a, b, final, h, at_last):
    exact = {-(-i * a // b) for i in range(1, T * b // a + 1)} | ({T} if final else set())
    theirs = {s for s in range(h, T + 1, h)} | ({T} if at_last else set())
    return sorted(exact - theirs), sorted(theirs - exact), len(exact), len(theirs)


@given(T=st.integers(1, 300), a=st.integers(1, 60), b=st.integers(1, 60),
       h=st.integers(1, 400), final=st.booleans(), at_last=st.booleans())
def test_step_comparison_equals_brute_force(T, a, b, h, final, at_last):
    from ckptsched._diagnose import _StepComparison
    a, b = max(a, b), min(a, b)
    exact_only, theirs_only, n_exact, n_theirs = brute_force_difference(T, a, b, final, h,
                                                                        at_last)
    cmp = _StepComparison(T, a, b, final, h, at_last)
    assert cmp.differing_count() == len(exact_only) + len(theirs_only)
    assert (cmp.exact_count(), cmp.hf_count()) == (n_exact, n_theirs)
    first = sorted(exact_only + theirs_only)[:8]
    assert cmp.first_differences(8) == ([s for s in first if s in exact_only],
                                        [s for s in first if s in theirs_only])


def test_first_differences_past_the_merged_steps():
    """Differences that start after the bounded merge are found by binary search."""
    from ckptsched._diagnose import _StepComparison
    T = 10**6
    exact_only, theirs_only, _, _ = brute_force_difference(T, 1000, 1, True, 1000, True)
    assert exact_only == theirs_only == []
    cmp = _StepComparison(T, 1001, 1, True, 1000, True)  # diverge from the first step on
    exact_only, theirs_only, _, _ = brute_force_difference(T, 1001, 1, True, 1000, True)
    first = sorted(exact_only + theirs_only)[:8]
    assert cmp.first_differences(8) == ([s for s in first if s in exact_only],
                                        [s for s in first if s in theirs_only])
    cmp = _StepComparison(T, 499_999, 500, True, 1000, True)  # 999.998: drifts apart late
    exact_only, theirs_only, _, _ = brute_force_difference(T, 499_999, 500, True, 1000, True)
    first = sorted(exact_only + theirs_only)[:8]
    assert first and first[0] > 256 * 1000
    assert cmp.first_differences(8) == ([s for s in first if s in exact_only],
                                        [s for s in first if s in theirs_only])


def test_eval_schedules_compare_with_transformers_evaluations(backend):
    """transformers evaluates at multiples of eval_steps only (not at the last step)."""
    run = Run(max_steps=100)
    assert not [d for d in Schedule(run, every=10, name="eval").diagnostics]
    (hf,) = Schedule(run, every=7, name="eval").diagnostics[1:]
    assert hf.code == "HF_MISMATCH" and hf.data["exact_only"] == [100]
    assert hf.message.startswith("eval schedule: every=7: as eval_steps=7, transformers "
                                 "evaluates every 7 steps")
    assert not [d for d in Schedule(run, every=7).diagnostics if d.code == "HF_MISMATCH"]


def test_huge_runs_compare_in_closed_form(backend):
    sched = Schedule(Run(217, 10**12), saves_per_epoch=8)
    (hf,) = [d for d in sched.diagnostics if d.code == "HF_MISMATCH"]
    assert hf.data["count"] == 8 * 10**12 and hf.data["hf_count"] == -(-217 * 10**12 // 28)
    assert hf.data["exact_only"][:2] == [55, 82] and hf.data["hf_only"][:2] == [56, 84]

"""Tracker(keep=...): retention in a custom loop, against a brute-force model of the policy
written from DESIGN.md ("Plans: schedules together, retention, disk"), and against the Plan.

The model replays the saves one at a time over a Python set: after each completed save it
keeps the newest checkpoint, the keep_last most recent, for each keep step k the first save
at or after k (over all saves of the run), and the keep_best best by metric among every save
so far; everything else on disk goes.  No framework is needed.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckptsched import Plan, Retention, Run, Schedule, Tracker


def model_survivors(saves, keep_last=None, keep_steps=(), keep_best=None, metrics=None,
                    higher=False):
    """After each save (in order), the set on disk: {save step: sorted steps}."""
    permanent = set()
    for k in keep_steps:
        later = [s for s in saves if s >= k]
        if later:
            permanent.add(later[0])
    disk, history = set(), {}
    for i, step in enumerate(saves):
        disk.add(step)
        seen = saves[:i + 1]
        kept = {step} | (permanent & disk)
        kept |= set(seen if keep_last is None else seen[-keep_last:])
        if keep_best is not None:
            scored = [s for s in seen if s in metrics]

            def rank(s):
                value = metrics[s]
                return (math.isnan(value), 0.0 if math.isnan(value) else
                        (-value if higher else value), s)

            kept |= set(sorted(scored, key=rank)[:keep_best])
        disk &= kept
        history[step] = sorted(disk)
    return history


class Disk:
    """A fake checkpoint folder: the delete callback removes a step (missing ones are fine)."""

    def __init__(self):
        self.steps = set()
        self.deleted = []

    def delete(self, step):
        self.deleted.append(step)
        self.steps.discard(step)


def loop(tracker, disk, steps, metrics=None, crash_after=None):
    """Run steps; save on each decision (the state goes with the checkpoint), then retention.
    Returns {step: state saved with the checkpoint of that step}."""
    states = {}
    for step in steps:
        if tracker.update(step):
            states[step] = tracker.state_dict()
            disk.steps.add(step)
            metric = None if metrics is None else metrics[step]
            tracker.to_delete(metric=metric)
            assert tracker.on_disk == tuple(sorted(disk.steps))
        if step == crash_after:
            break
    return states


@st.composite
def cases(draw):
    total = draw(st.integers(1, 40))
    if draw(st.booleans()):
        rule = {"every": draw(st.integers(1, 12))}
    else:
        rule = {"at": draw(st.lists(st.integers(1, total), min_size=1, max_size=15))}
    keep_last = draw(st.none() | st.integers(1, 4))
    keep_every = draw(st.none() | st.integers(1, 15))
    return total, rule, keep_last, keep_every


def keep_steps(total, keep_every):
    return [] if keep_every is None else list(range(keep_every, total + 1, keep_every))


@given(cases())
def test_the_disk_follows_the_model_and_ends_with_the_plans_survivors(backend, case):
    total, rule, keep_last, keep_every = case
    run = Run(max_steps=total)
    schedule = Schedule(run, **rule)
    keep = Retention(keep_last=keep_last, keep_every=keep_every)
    disk = Disk()
    tracker = Tracker(schedule, keep=keep, delete=disk.delete, sync=False)
    saves = schedule.steps.tolist()
    history = model_survivors(saves, keep_last, keep_steps(total, keep_every))
    plan = Plan(run, save=schedule, keep=keep)
    for step in range(1, total + 1):
        if tracker.update(step):
            disk.steps.add(step)
            doomed = tracker.to_delete()
            assert sorted(disk.steps) == history[step] == list(tracker.on_disk)
            assert step not in doomed.tolist()  # never the newest
        assert sorted(disk.steps) == plan.on_disk_after(step).tolist()
    assert sorted(disk.steps) == plan.survivors.tolist()
    assert sorted(disk.deleted) == sorted(set(saves) - set(plan.survivors.tolist()))


@given(cases(), st.data())
def test_a_crash_anywhere_and_a_resume_give_the_uninterrupted_survivors(backend, case, data):
    total, rule, keep_last, keep_every = case
    schedule = Schedule(Run(max_steps=total), **rule)
    keep = Retention(keep_last=keep_last, keep_every=keep_every)
    whole = Disk()
    loop(Tracker(schedule, keep=keep, delete=whole.delete, sync=False), whole,
         range(1, total + 1))

    disk = Disk()
    crash = data.draw(st.integers(1, total), label="crash after step")
    # the crash may also hit between a save and its deletions
    between = data.draw(st.booleans(), label="crash before the deletions")
    first = Tracker(schedule, keep=keep, delete=disk.delete, sync=False)
    states = loop(first, disk, range(1, crash))
    if first.update(crash):
        states[crash] = first.state_dict()
        disk.steps.add(crash)
        if not between:
            first.to_delete()
    if not states:
        return  # nothing saved: a restart from scratch
    resumed_at = max(states)
    second = Tracker(schedule, keep=keep, delete=disk.delete, sync=False)
    second.load_state_dict(json.loads(json.dumps(states[resumed_at])))  # any checkpoint format
    assert set(second.on_disk) >= disk.steps & set(range(1, resumed_at + 1))
    second.to_delete()  # finishes deletions the crash interrupted (a no-op otherwise)
    loop(second, disk, range(resumed_at + 1, total + 1))
    assert disk.steps == whole.steps


@given(st.integers(2, 25), st.integers(1, 5), st.integers(1, 3), st.none() | st.integers(1, 3),
       st.booleans(), st.data())
def test_keep_best_follows_the_model(backend, total, every, keep_best, keep_last, higher, data):
    schedule = Schedule(Run(max_steps=total), every=every)
    saves = schedule.steps.tolist()
    values = st.sampled_from([0.5, 1.0, 1.0, 2.0, 3.0, float("nan"), -1.0])
    metrics = {s: data.draw(values, label=f"metric of {s}") for s in saves}
    keep = Retention(keep_last=keep_last, keep_best=keep_best)
    disk = Disk()
    tracker = Tracker(schedule, keep=keep, delete=disk.delete, greater_is_better=higher,
                      sync=False)
    history = model_survivors(saves, keep_last, (), keep_best, metrics, higher)
    for step in range(1, total + 1):
        if tracker.update(step):
            disk.steps.add(step)
            tracker.to_delete(metric=np.float32(metrics[step]) if step % 2 else metrics[step])
            assert sorted(disk.steps) == history[step]
    # resume from the last checkpoint: its metrics came along in the state
    resumed = Tracker(schedule, keep=keep, sync=False, greater_is_better=higher)
    resumed.load_state_dict(tracker.state_dict())
    assert resumed.state_dict() == tracker.state_dict()


def test_only_rank_zero_deletes_and_every_rank_agrees():
    schedule = Schedule(Run(max_steps=12), every=2)
    keep = Retention(keep_last=1, keep_every=6)
    results, calls = {}, {0: [], 1: []}
    for rank in (0, 1):
        tracker = Tracker(schedule, keep=keep, rank=rank, sync=lambda vote: vote,
                          delete=calls[rank].append)
        results[rank] = [(s, tracker.to_delete().tolist()) for s in range(1, 13)
                         if tracker.update(s)]
    assert results[0] == results[1]
    assert [d for _, doomed in results[0] for d in doomed] == calls[0] == [2, 4, 8, 10]
    assert calls[1] == []


def test_to_delete_is_forgotten_once_done_and_empty_between_saves():
    tracker = Tracker(Schedule(Run(max_steps=6), every=2), keep=Retention(keep_last=1),
                      sync=False)
    assert tracker.to_delete().tolist() == []  # nothing saved yet
    for step in range(1, 5):
        tracker.update(step)
    assert tracker.to_delete().tolist() == [2]
    assert tracker.to_delete().tolist() == []  # already let go
    assert tracker.on_disk == (4,)
    doomed = tracker.to_delete()
    with pytest.raises(ValueError):
        doomed[:] = 0  # read-only, like the Plan's arrays


def test_the_schedule_binds_keep_every_in_epochs():
    run = Run(steps_per_epoch=5, epochs=3)
    tracker = Tracker(Schedule(run, every=2), keep=Retention(keep_last=1, keep_every="1ep"),
                      sync=False)
    assert tracker.keep.run == run
    assert "keep=Retention(keep_last=1, keep_every='1ep').bind(" in repr(tracker)
    for step in range(1, 16):
        if tracker.update(step):
            tracker.to_delete()
    # first saves at or after the epoch ends 5, 10, 15: 6, 10, 15 (the final save)
    assert list(tracker.on_disk) == [6, 10, 15]
    assert list(tracker.on_disk) == Plan(run, save=dict(every=2),
                                         keep=Retention(keep_last=1, keep_every="1ep")
                                         ).survivors.tolist()


def test_saves_off_the_schedule_are_retained_too():
    """Token, clock and requested saves are checkpoints as well: retention counts them."""
    tracker = Tracker(every="10tok", keep=Retention(keep_last=2), sync=False)
    saved = []
    for step in range(1, 11):
        if step == 4:
            tracker.request_save()
        if tracker.update(step, tokens=4):
            saved.append(step)
            tracker.to_delete()
    assert saved == [3, 4, 5, 8, 10]
    assert tracker.on_disk == (8, 10)


def test_the_step_going_back_forgets_the_checkpoints_ahead():
    tracker = Tracker(Schedule(Run(max_steps=10), every=2), keep=Retention(keep_last=2),
                      sync=False)
    for step in range(1, 9):
        if tracker.update(step):
            tracker.to_delete()
    assert tracker.on_disk == (6, 8)
    with pytest.warns(Warning, match="STEP_WENT_BACK"):
        tracker.update(5)
    assert tracker.on_disk == ()  # 6 and 8 lie ahead: written again when the run gets there
    tracker.update(6)
    assert tracker.to_delete().tolist() == [] and tracker.on_disk == (6,)


def test_old_states_count_their_last_save_and_on_disk_completes_them():
    schedule = Schedule(Run(max_steps=10), every=2)
    old = {"format": "ckptsched.Tracker/2", "step": 6, "last_saved": 6, "samples": 0,
           "tokens": 0}
    tracker = Tracker(schedule, keep=Retention(keep_last=2), sync=False)
    tracker.load_state_dict(old)
    assert tracker.on_disk == (6,)
    tracker.update(8)
    assert tracker.to_delete(on_disk=[2, 4, 6, 8]).tolist() == [2, 4]
    assert tracker.on_disk == (6, 8)
    for without in (Tracker(schedule, sync=False), Tracker(sync=False)):
        without.load_state_dict(tracker.state_dict())  # a retention state loads anywhere
        assert "on_disk" not in without.state_dict()


def test_a_tensor_metric_is_accepted():
    class OneElement:  # what a one-element torch tensor offers
        def item(self):
            return 0.25

    tracker = Tracker(Schedule(Run(max_steps=4), every=2), keep=Retention(keep_best=1),
                      sync=False)
    tracker.update(2)
    tracker.to_delete(metric=OneElement())
    assert tracker.state_dict()["metrics"] == [0.25]


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(keep=3), TypeError, "keep must be a ckptsched.Retention or None, got 3"),
    (dict(keep=Retention(keep_last=1), delete="rm"), TypeError, "delete must be a callable"),
    (dict(delete=print), ValueError, "delete= .* keep is None"),
    (dict(keep=Retention(keep_every=5), schedule=None), ValueError,
     "keep_every needs the run's steps, and this Tracker has no schedule"),
    (dict(keep=Retention(keep_every=5).bind(Run(max_steps=99))), ValueError,
     "keep is bound to Run"),
    (dict(keep=Retention(keep_last=1), greater_is_better="yes"), TypeError, "greater_is_better"),
])
def test_bad_arguments_name_themselves(kwargs, error, words):
    kwargs.setdefault("schedule", Schedule(Run(max_steps=10), every=2))
    with pytest.raises(error, match=words):
        Tracker(sync=False, **kwargs)


def test_a_bound_keep_every_works_without_a_schedule():
    run = Run(max_steps=10)
    tracker = Tracker(every="1sp", keep=Retention(keep_last=1, keep_every=5).bind(run),
                      sync=False)
    for step in range(1, 11):
        tracker.update(step, samples=1)
        tracker.to_delete()
    assert tracker.on_disk == (5, 10)


@pytest.mark.parametrize("keep, call, error, words", [
    (None, dict(), ValueError, r"keep=None; pass keep=Retention"),
    (Retention(keep_last=1), dict(metric=1.0), ValueError, "has no keep_best"),
    (Retention(keep_best=1), dict(metric=True), TypeError, "metric must be a real number"),
    (Retention(keep_best=1), dict(metric="low"), TypeError, "metric must be a real number"),
    (Retention(keep_last=1), dict(on_disk=[2, 0]), ValueError, r"on_disk\[1\] must be"),
    (Retention(keep_last=1), dict(on_disk="2,4"), TypeError, "on_disk must be an iterable"),
])
def test_bad_to_delete_calls_name_the_argument(keep, call, error, words):
    tracker = Tracker(Schedule(Run(max_steps=10), every=2), keep=keep, sync=False)
    tracker.update(2)
    with pytest.raises(error, match=words):
        tracker.to_delete(**call)


def test_a_metric_before_any_save_is_refused():
    tracker = Tracker(Schedule(Run(max_steps=10), every=2), keep=Retention(keep_best=1),
                      sync=False)
    tracker.update(1)
    with pytest.raises(ValueError, match="after a save"):
        tracker.to_delete(metric=0.5)


GOOD = {"format": "ckptsched.Tracker/2", "step": 9, "last_saved": 8, "samples": 0, "tokens": 0,
        "on_disk": [4, 8], "metrics": [None, 0.5]}


@pytest.mark.parametrize("change, error, words", [
    (dict(on_disk=[8, 4]), ValueError, "ascending order"),
    (dict(on_disk=[4, 10]), ValueError, r"holds step 10, after state\['step'\]=9"),
    (dict(on_disk="4"), TypeError, r"state\['on_disk'\] must be a list"),
    (dict(on_disk=[4, 8.0]), TypeError, r"state\['on_disk'\]\[1\] must be an integer"),
    (dict(on_disk=[0, 8]), ValueError, r"state\['on_disk'\]\[0\]"),
    (dict(metrics=[0.5]), ValueError, r"state\['metrics'\] must be a list as long"),
    (dict(metrics=[None, "x"]), TypeError, r"state\['metrics'\]\[1\] must be a real number"),
])
def test_bad_retention_states_name_the_key(change, error, words):
    tracker = Tracker(Schedule(Run(max_steps=10), every=2), keep=Retention(keep_best=1),
                      sync=False)
    before = tracker.state_dict()
    with pytest.raises(error, match=words):
        tracker.load_state_dict({**GOOD, **change})
    assert tracker.state_dict() == before
    tracker.load_state_dict(GOOD)
    assert tracker.on_disk == (4, 8) and tracker.state_dict()["metrics"] == [None, 0.5]

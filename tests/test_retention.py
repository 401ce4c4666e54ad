"""Retention and the Plan's disk preview against a brute-force model written from DESIGN.md
("Plans: schedules together, retention, disk"): Python sets, one save at a time.

The model's policy: after each completed save, keep the union of the newest checkpoint, the
keep_last most recent, for each keep_every step k the first checkpoint at or after k, and the
keep_best best by metric; delete the rest.  The disk holds, during a save, what the previous
save left plus the new one.  keep_best in a plan (no metrics yet) counts its K in the worst case.
"""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ckptsched import Plan, Retention, Run, Schedule

# ---- the model ---------------------------------------------------------------------------------


def model_keep(disk, keep_last, keep_steps, keep_best=None, metrics=None, higher=False):
    """The checkpoints the policy keeps among `disk` (a set of steps)."""
    ordered = sorted(disk)
    if not ordered:
        return set()
    kept = {ordered[-1]}
    kept |= set(ordered if keep_last is None else ordered[-keep_last:])
    for k in keep_steps:
        at_or_after = [d for d in ordered if d >= k]
        if at_or_after:
            kept.add(at_or_after[0])
    if keep_best is not None:
        scored = [d for d in ordered if d in metrics]

        def rank(d):
            value = metrics[d]
            worst = math.isnan(value)
            return (worst, 0.0 if worst else (-value if higher else value), d)

        kept |= set(sorted(scored, key=rank)[:keep_best])
    return kept


def model_plan(saves, keep_last, keep_steps, keep_best):
    """Per save: (step, on disk during it, after its deletions, the steps the rules other than
    keep_best keep).  keep_best keeps K of the others: the count is the same whichever K."""
    disk, rows = set(), []
    for step in saves:
        disk.add(step)
        during = len(disk)
        base = model_keep(disk, keep_last, keep_steps)
        others = sorted(disk - base)
        disk = base | set(others[:keep_best or 0])
        rows.append((step, during, len(disk), sorted(base)))
    return rows


def every_steps(start, interval, total):
    return list(range(start, total + 1, interval))


# ---- random policies and plans -------------------------------------------------------------------

@st.composite
def policies(draw, total):
    """(Retention arguments, the model's keep steps) for a run of `total` steps."""
    keep_last = draw(st.none() | st.integers(1, 6))
    keep_best = draw(st.none() | st.integers(1, 3))
    form = draw(st.sampled_from(["none", "int", "at", "every-start"]))
    if form == "none":
        keep_every, steps = None, []
    elif form == "int":
        n = draw(st.integers(1, total + 5))
        keep_every, steps = n, every_steps(n, n, total)
    elif form == "at":
        at = draw(st.lists(st.integers(1, total + 5), max_size=8))
        keep_every, steps = dict(at=at), sorted({k for k in at if k <= total})
    else:
        n, start = draw(st.integers(1, total)), draw(st.integers(1, total))
        keep_every, steps = dict(every=n, start=start), every_steps(start, n, total)
    return dict(keep_last=keep_last, keep_every=keep_every, keep_best=keep_best), steps


@st.composite
def plans(draw):
    """(total, save arguments, model saves, Retention arguments, model keep steps)."""
    total = draw(st.integers(1, 120))
    if draw(st.booleans()):
        at = draw(st.lists(st.integers(1, total + 3), max_size=40))
        final = draw(st.booleans())
        save = dict(at=at, final=final)
        saves = sorted({s for s in at if s <= total} | ({total} if final else set()))
    else:
        n = draw(st.integers(1, total))
        save = dict(every=n)
        saves = sorted(set(every_steps(n, n, total)) | {total})
    policy, keep_steps = draw(policies(total))
    return total, save, saves, policy, keep_steps


# ---- the plan's preview against the model ------------------------------------------------------

@given(plans(), st.none() | st.integers(1, 10**9))
def test_plan_preview_matches_the_model(backend, case, size):
    total, save, saves, policy, keep_steps = case
    plan = Plan(Run(max_steps=total), save=save, keep=Retention(**policy),
                checkpoint_bytes=size)
    rows = model_plan(saves, policy["keep_last"], keep_steps, policy["keep_best"])
    timeline = plan.timeline
    assert timeline.step.tolist() == saves == [r[0] for r in rows]
    assert timeline.during.tolist() == [r[1] for r in rows]
    assert timeline.after.tolist() == [r[2] for r in rows]
    assert len(timeline) == len(saves)
    for array in (timeline.step, timeline.during, timeline.after):
        assert array.dtype == np.int64 and not array.flags.writeable
    if size is None:
        assert timeline.during_bytes is None and timeline.after_bytes is None
    else:
        assert timeline.during_bytes.tolist() == [r[1] * size for r in rows]
        assert timeline.after_bytes.tolist() == [r[2] * size for r in rows]
    for step, _, _, base in rows:
        assert plan.on_disk_after(step).tolist() == base
    survivors = rows[-1][3] if rows else []
    assert plan.survivors.tolist() == survivors
    assert plan.survivors.dtype == np.int64
    if rows:
        most = max(r[1] for r in rows)
        first = next(r[0] for r in rows if r[1] == most)
        assert tuple(plan.peak) == (most, None if size is None else most * size, first)
    else:
        assert tuple(plan.peak) == (0, None if size is None else 0, None)


@given(plans(), st.integers(0, 130))
def test_on_disk_after_any_step_is_the_state_after_the_last_save_so_far(backend, case, step):
    total, save, saves, policy, keep_steps = case
    plan = Plan(Run(max_steps=total), save=save, keep=Retention(**policy))
    rows = [r for r in model_plan(saves, policy["keep_last"], keep_steps, None) if r[0] <= step]
    assert plan.on_disk_after(step).tolist() == (rows[-1][3] if rows else [])


def test_ten_to_the_six_saves_in_closed_form(backend):
    """10**6 saves (every step): keep_last=3 and one kept every 1000 steps; the counts follow
    from the rules: after save s, the 3 newest plus the multiples of 1000 older than them."""
    total = 10**6
    plan = Plan(Run(max_steps=total), save=dict(every=1),
                keep=Retention(keep_last=3, keep_every=1000), checkpoint_bytes=2)
    steps = np.arange(1, total + 1)
    expected_after = np.minimum(steps, 3) + np.maximum(steps - 3, 0) // 1000
    expected_during = np.concatenate(([1], expected_after[:-1] + 1))
    assert np.array_equal(plan.timeline.after, expected_after)
    assert np.array_equal(plan.timeline.during, expected_during)
    first_most = int(np.argmax(expected_during))
    assert tuple(plan.peak) == (int(expected_during[first_most]),
                                2 * int(expected_during[first_most]), first_most + 1)
    assert plan.survivors.tolist() == list(range(1000, total - 2, 1000)) + [total - 2,
                                                                            total - 1, total]


# ---- to_delete against the model -----------------------------------------------------------------

metric_values = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 5)


@given(st.data())
def test_to_delete_matches_the_model_on_any_disk(backend, data):
    total = data.draw(st.integers(1, 80))
    policy, keep_steps = data.draw(policies(total))
    keep = Retention(**policy).bind(Run(max_steps=total))
    disk = data.draw(st.lists(st.integers(1, total + 10), max_size=30))
    with_metric = data.draw(st.lists(st.sampled_from(disk), unique=True) if disk else st.just([]))
    metrics = {step: data.draw(metric_values) for step in with_metric}
    metrics.update({total + 20: 0.0})  # a metric of a checkpoint not on disk: ignored
    higher = data.draw(st.booleans())
    result = keep.to_delete(data.draw(st.permutations(disk)), metrics=metrics,
                            greater_is_better=higher)
    expected = set(disk) - model_keep(set(disk), policy["keep_last"], keep_steps,
                                      policy["keep_best"], {k: float(v) for k, v in metrics.items()},
                                      higher)
    assert result.tolist() == sorted(expected)
    assert result.dtype == np.int64
    if disk:
        assert max(disk) not in result.tolist()
    assert keep.kept(disk, metrics=metrics, greater_is_better=higher).tolist() == sorted(
        set(disk) - expected)


def simulate(keep, saves, metrics, higher, disk=frozenset(), start=0):
    """Disk after each save from saves[start] on, deleting what to_delete says."""
    disk, history = set(disk), []
    for step in saves[start:]:
        disk.add(step)
        gone = keep.to_delete(sorted(disk, reverse=True), metrics=metrics,
                              greater_is_better=higher)
        assert step not in gone.tolist()
        disk -= set(gone.tolist())
        history.append(frozenset(disk))
    return history


@given(plans(), st.data())
def test_to_delete_is_resume_safe(backend, case, data):
    """A crash after any save, with any part of that save's deletions done: computing to_delete
    again from what is on disk finishes them, and the run goes on exactly as without the crash."""
    total, save, saves, policy, keep_steps = case
    assume(saves)
    plan = Plan(Run(max_steps=total), save=save, keep=Retention(**policy))
    metrics = {s: data.draw(metric_values) for s in saves if data.draw(st.booleans())}
    higher = data.draw(st.booleans())
    history = simulate(plan.keep, saves, metrics, higher)
    crash = data.draw(st.integers(0, len(saves) - 1))
    before = history[crash - 1] if crash else frozenset()
    full = before | {saves[crash]}
    pending = sorted(full - history[crash])
    done = data.draw(st.lists(st.sampled_from(pending), unique=True) if pending else st.just([]))
    on_disk = full - set(done)
    finish = plan.keep.to_delete(on_disk, metrics=metrics, greater_is_better=higher)
    assert on_disk - set(finish.tolist()) == history[crash]
    assert simulate(plan.keep, saves, metrics, higher, history[crash], crash + 1) == \
        history[crash + 1:]


@given(plans(), st.data())
def test_runtime_never_exceeds_the_plans_worst_case(backend, case, data):
    total, save, saves, policy, keep_steps = case
    plan = Plan(Run(max_steps=total), save=save, keep=Retention(**policy))
    metrics = {s: data.draw(st.floats(-10, 10)) for s in saves}
    history = simulate(plan.keep, saves, metrics, data.draw(st.booleans()))
    for disk, during, after in zip(history, plan.timeline.during, plan.timeline.after):
        assert len(disk) <= after
    assert all(len(a) + 1 <= d for a, d in zip(history, plan.timeline.during[1:]))


def test_worst_case_of_keep_best_is_reached():
    """Metrics that get worse with every save make the oldest ones the best: keep_best then keeps
    checkpoints keep_last would delete, K more than keep_last alone, as the plan counts."""
    run = Run(max_steps=10)
    plan = Plan(run, save=dict(every=1), keep=Retention(keep_last=2, keep_best=3))
    history = simulate(plan.keep, list(range(1, 11)), {s: float(s) for s in range(1, 11)}, False)
    assert [len(d) for d in history] == plan.timeline.after.tolist() == [1, 2, 3, 4, 5, 5, 5, 5,
                                                                        5, 5]
    assert sorted(history[-1]) == [1, 2, 3, 9, 10]


# ---- named cases -----------------------------------------------------------------------------------

def test_keep_every_that_never_lands_on_a_save_still_keeps_one(backend):
    """Saves every 7 steps of 30 (7, 14, 21, 28 and the final 30), keep_every=10: no save is a
    multiple of 10 except the final one.  ckptsched keeps the first save at or after each keep
    step (14 for 10, 21 for 20, 30 for 30).  Orbax's and Levanter's `step % 10 == 0` test would
    keep none of 7..28 forever: only the final save, by luck of being a multiple."""
    plan = Plan(Run(max_steps=30), save=dict(every=7), keep=Retention(keep_last=1, keep_every=10))
    assert plan.save.steps.tolist() == [7, 14, 21, 28, 30]
    assert plan.survivors.tolist() == [14, 21, 30]
    assert [s for s in plan.save.steps.tolist() if s % 10 == 0] == [30]  # what Orbax would keep
    shifted = [d for d in plan.diagnostics if d.code == "KEEP_SHIFTED"]
    assert len(shifted) == 1 and shifted[0].severity == "info"
    assert shifted[0].data["keep_steps"] == [10, 20]
    assert shifted[0].data["kept_saves"] == [14, 21]
    assert "10 -> 14" in shifted[0].message


def test_keep_every_in_epochs_and_samples(backend):
    run = Run(steps_per_epoch=10, epochs=3, samples_per_step=4)
    plan = Plan(run, save=dict(every=4), keep=Retention(keep_last=1, keep_every="1ep"))
    assert plan.save.steps.tolist() == [4, 8, 12, 16, 20, 24, 28, 30]
    assert plan.survivors.tolist() == [12, 20, 30]  # first saves at or after 10, 20, 30
    plan = Plan(run, save=dict(every=4), keep=Retention(keep_last=1, keep_every="60sp"))
    assert plan.survivors.tolist() == [16, 30]  # 60 samples at step 15, 120 at 30


def test_keep_last_none_keeps_everything_and_the_newest_is_always_kept(backend):
    keep = Retention()
    assert keep.to_delete([5, 3, 9]).tolist() == []
    keep = Retention(keep_last=1, keep_best=1)
    assert keep.to_delete([1, 2, 3], metrics={1: 0.5, 2: 0.1}).tolist() == [1]
    assert keep.to_delete([1, 2, 3], metrics={1: 0.5, 2: 0.1},
                          greater_is_better=True).tolist() == [2]
    assert keep.to_delete([], metrics={}).tolist() == []
    assert keep.to_delete(np.array([7], dtype=np.uint32), metrics={}).tolist() == []


def test_keep_best_ties_go_to_the_earlier_step_and_nan_ranks_worst():
    keep = Retention(keep_last=1, keep_best=1)
    assert keep.to_delete([1, 2, 3, 4], metrics={2: 0.5, 3: 0.5}).tolist() == [1, 3]
    assert keep.to_delete([1, 2, 3], metrics={1: float("nan"), 2: 7.0}).tolist() == [1]
    assert keep.to_delete([1, 2, 3], metrics={1: float("nan")}).tolist() == [2]


# ---- values ----------------------------------------------------------------------------------------

RETENTIONS = [Retention(), Retention(keep_last=2), Retention(keep_every="1ep", keep_best=2),
              Retention(keep_last=1, keep_every=dict(at=[3, 1], every=5))]


@pytest.mark.parametrize("keep", RETENTIONS, ids=repr)
def test_retention_is_a_value(backend, keep):
    run = Run(steps_per_epoch=10, epochs=2)
    for value in (keep, keep.bind(run)):
        copy = pickle.loads(pickle.dumps(value))
        assert copy == value and hash(copy) == hash(value) and repr(copy) == repr(value)
        assert eval(repr(value), {"Retention": Retention, "Run": Run}) == value
        with pytest.raises(AttributeError, match="immutable"):
            value.keep_last = 3
    assert keep.bind(run) != keep and keep.bind(run).run == run and keep.run is None
    assert keep.bind(run).bind(run) == keep.bind(run)
    assert repr(keep.bind(run)).endswith(".bind(Run(steps_per_epoch=10, epochs=2))")


def test_bound_retention_keep_steps_and_schedule(backend):
    keep = Retention(keep_every=dict(every=4, start=2)).bind(Run(max_steps=12))
    assert keep.keep_steps.tolist() == [2, 6, 10]
    assert isinstance(keep.keep_schedule, Schedule)
    assert Retention(keep_last=1).keep_steps.tolist() == []


# ---- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, words", [
    (dict(keep_last=0), ValueError, ["keep_last", "0"]),
    (dict(keep_last=-2), ValueError, ["keep_last", "-2"]),
    (dict(keep_last=1.5), TypeError, ["keep_last", "1.5"]),
    (dict(keep_last=True), TypeError, ["keep_last", "True"]),
    (dict(keep_last="2"), TypeError, ["keep_last", "'2'"]),
    (dict(keep_last=2**63), OverflowError, ["keep_last"]),
    (dict(keep_best=0), ValueError, ["keep_best", "0"]),
    (dict(keep_best=2.0), TypeError, ["keep_best", "2.0"]),
    (dict(keep_every=0), ValueError, ["keep_every", "0"]),
    (dict(keep_every=-5), ValueError, ["keep_every", "-5"]),
    (dict(keep_every=2.5), TypeError, ["keep_every", "2.5"]),
    (dict(keep_every=True), TypeError, ["keep_every", "True"]),
    (dict(keep_every="often"), ValueError, ["keep_every", "'often'"]),
    (dict(keep_every="0ep"), ValueError, ["keep_every", "'0ep'"]),
    (dict(keep_every={}), ValueError, ["keep_every", "{}"]),
    (dict(keep_every=dict(final=True)), ValueError, ["keep_every", "'final'"]),
    (dict(keep_every=[1000]), TypeError, ["keep_every", "[1000]"]),
])
def test_bad_retention_arguments(kwargs, error, words):
    with pytest.raises(error) as info:
        Retention(**kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("keep_every, error, words", [
    (dict(every=0), ValueError, ["keep_every", "every must be"]),
    (dict(every=10, until=2), ValueError, ["keep_every", "until=2"]),
    ("1ep", ValueError, ["keep_every='1ep'", "steps_per_epoch"]),
    (dict(at=[1.5]), TypeError, ["keep_every", "at[0]"]),
])
def test_keep_every_errors_that_need_the_run_name_keep_every(backend, keep_every, error, words):
    with pytest.raises(error) as info:
        Retention(keep_every=keep_every).bind(Run(max_steps=30))
    for word in words:
        assert word in str(info.value)


def test_bind_needs_a_run():
    with pytest.raises(TypeError, match="run must be a ckptsched.Run"):
        Retention().bind(30)


def test_unbound_keep_every_says_how_to_bind():
    with pytest.raises(ValueError, match=r"use plan\.keep .* or retention\.bind\(run\)"):
        Retention(keep_every=100).to_delete([100, 200])


@pytest.mark.parametrize("saved, kwargs, error, words", [
    ("12", {}, TypeError, ["saved_steps", "'12'"]),
    (12, {}, TypeError, ["saved_steps", "12"]),
    ({1: 2}, {}, TypeError, ["saved_steps"]),
    ([1, 2.5], {}, TypeError, ["saved_steps[1]", "2.5"]),
    ([1, True], {}, TypeError, ["saved_steps[1]", "True"]),
    ([3, 0], {}, ValueError, ["saved_steps[1]", "0"]),
    ([-1], {}, ValueError, ["saved_steps[0]", "-1"]),
    ([2**63], {}, OverflowError, ["saved_steps[0]"]),
    (np.array([1.0, 2.0]), {}, TypeError, ["saved_steps", "float64"]),
    (np.array([True]), {}, TypeError, ["saved_steps", "bool"]),
    (np.array([[1, 2]]), {}, ValueError, ["saved_steps", "(1, 2)"]),
    (np.array([4, 0]), {}, ValueError, ["saved_steps[1]", "0"]),
    (np.array([2**63], dtype=np.uint64), {}, OverflowError, ["saved_steps"]),
    ([1, 2], dict(metrics=[0.1]), TypeError, ["metrics", "[0.1]"]),
    ([1, 2], dict(metrics={1: "low"}), TypeError, ["metrics[1]", "'low'"]),
    ([1, 2], dict(metrics={1: True}), TypeError, ["metrics[1]", "True"]),
    ([1, 2], dict(metrics={1.5: 0.1}), TypeError, ["metrics key", "1.5"]),
    ([1, 2], dict(metrics={}, greater_is_better=1), TypeError, ["greater_is_better", "1"]),
    ([1, 2], {}, ValueError, ["keep_best=2", "metrics="]),
])
def test_bad_to_delete_arguments(saved, kwargs, error, words):
    with pytest.raises(error) as info:
        Retention(keep_last=1, keep_best=2).to_delete(saved, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_a_keep_every_dict_is_copied_and_read_only():
    rules = dict(every=10)
    keep = Retention(keep_every=rules)
    rules["every"] = 3
    assert dict(keep.keep_every) == {"every": 10}
    with pytest.raises(TypeError):
        keep.keep_every["every"] = 5

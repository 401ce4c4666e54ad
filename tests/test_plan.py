"""Plan: the schedules together, the cross-schedule diagnostics (BEST_NOT_SAVED, DISK_BUDGET,
KEEP_SHIFTED, KEEP_NEVER, HF_REFUSED), logging and strict, values, and bad input.  The disk
preview itself is checked against a brute-force model in test_retention.py."""
from __future__ import annotations

import logging
import pickle
import warnings

import numpy as np
import pytest

from ckptsched import Plan, Retention, Run, Schedule, ScheduleError
from ckptsched._frameworks import transformers_refusal
from ckptsched.diagnostics import PLAN_CODES, ScheduleWarning
from ckptsched.plan import Peak, Timeline

RUN30 = Run(max_steps=30)


def codes(plan):
    return [d.code for d in plan.diagnostics]


def only(plan, code):
    found = [d for d in plan.diagnostics if d.code == code]
    assert len(found) == 1, (code, plan.diagnostics)
    assert found[0].severity == PLAN_CODES[code]
    return found[0]


# ---- the named case -------------------------------------------------------------------------------

def test_best_not_saved_names_the_unsaved_eval_steps(backend):
    """30 steps, 4 saves (8, 15, 23, 30) and 3 evals (10, 20, 30): with load_best_model_at_end
    the models evaluated at 10 and 20 are never saved."""
    plan = Plan(RUN30, save=dict(count=4), eval=dict(count=3), load_best_model_at_end=True)
    assert plan.save.steps.tolist() == [8, 15, 23, 30]
    assert plan.eval.steps.tolist() == [10, 20, 30]
    d = only(plan, "BEST_NOT_SAVED")
    assert d.data["unsaved_eval_steps"] == [10, 20] and d.data["count"] == 2
    assert d.data["eval_count"] == 3
    assert "10, 20" in d.message and "save='at_evals'" in d.message
    assert "load_best_model_at_end=True" in d.message


def test_save_at_evals_saves_exactly_at_the_eval_steps(backend):
    plan = Plan(RUN30, save="at_evals", eval=dict(count=3), load_best_model_at_end=True)
    assert plan.save.steps.tolist() == [10, 20, 30] == plan.eval.steps.tolist()
    assert "BEST_NOT_SAVED" not in codes(plan) and "HF_REFUSED" not in codes(plan)
    assert isinstance(plan.save, Schedule) and plan.save.run == RUN30


def test_keep_best_also_needs_the_eval_steps_saved(backend):
    plan = Plan(RUN30, save=dict(count=4), eval=dict(count=3), keep=Retention(keep_best=1))
    d = only(plan, "BEST_NOT_SAVED")
    assert "keep_best" in d.message and d.data["unsaved_eval_steps"] == [10, 20]
    assert "BEST_NOT_SAVED" not in codes(Plan(RUN30, save=dict(count=4), eval=dict(count=3)))
    assert "BEST_NOT_SAVED" not in codes(Plan(RUN30, save=dict(count=4),
                                              keep=Retention(keep_best=1)))


def test_load_best_model_keeps_the_best_one(backend):
    plan = Plan(RUN30, save="at_evals", eval=dict(count=3), keep=Retention(keep_last=1),
                load_best_model_at_end=True)
    assert plan.keep.keep_best == 1 and plan.keep.keep_last == 1
    assert plan.timeline.after.tolist() == [1, 2, 2]  # the newest, and the best in the worst case
    assert plan.keep.to_delete([10, 20, 30], metrics={10: 0.1, 20: 0.5, 30: 0.9}).tolist() == [20]
    plan = Plan(RUN30, save="at_evals", eval=dict(count=3), keep=Retention(keep_best=2),
                load_best_model_at_end=True)
    assert plan.keep.keep_best == 2


# ---- the schedules --------------------------------------------------------------------------------

def test_schedules_from_dicts_schedules_or_none(backend):
    save = Schedule(RUN30, every=7)
    plan = Plan(RUN30, save=save, eval=dict(every=10), log=dict(every=1))
    assert plan.save is save
    assert plan.eval == Schedule(RUN30, every=10, name="eval")
    assert plan.log == Schedule(RUN30, every=1, name="log")
    empty = Plan(RUN30)
    assert empty.save is None and empty.eval is None and empty.log is None
    assert empty.survivors.tolist() == [] and len(empty.timeline) == 0
    assert empty.peak == Peak(0, None, None)
    assert Plan(RUN30, checkpoint_bytes=5).peak == Peak(0, 0, None)
    assert empty.on_disk_after(30).tolist() == []
    assert isinstance(empty.timeline, Timeline)


def test_schedule_diagnostics_are_included_as_built(backend):
    eval_ = Schedule(RUN30, every=7)  # UNEVEN_TAIL
    plan = Plan(RUN30, save=dict(count=50), eval=eval_)  # FEWER_THAN_REQUESTED
    assert codes(plan) == ["FEWER_THAN_REQUESTED", "UNEVEN_TAIL", "HF_MISMATCH"]
    # a Schedule with the default name is the plan's eval schedule: renamed, not a save
    assert plan.eval == Schedule(RUN30, every=7, name="eval") and plan.eval != eval_
    assert [d.data["schedule"] for d in plan.diagnostics] == ["save", "eval", "eval"]
    assert plan.diagnostics[1].message.startswith("eval schedule: ")
    named = Schedule(RUN30, every=7, name="probe")
    assert Plan(RUN30, eval=named).eval is named


def test_a_schedule_of_another_run_is_refused(backend):
    with pytest.raises(ValueError, match=r"eval is a Schedule of Run\(max_steps=40\)"):
        Plan(RUN30, eval=Schedule(Run(max_steps=40), every=10))


# ---- the plan's own diagnostics -----------------------------------------------------------------

def test_disk_budget(backend):
    keep = Retention(keep_last=2)
    plan = Plan(RUN30, save=dict(every=5), keep=keep, checkpoint_bytes=16e9, disk_budget=40e9)
    assert plan.checkpoint_bytes == 16 * 10**9 and isinstance(plan.checkpoint_bytes, int)
    assert plan.peak == Peak(3, 48 * 10**9, 15)
    d = only(plan, "DISK_BUDGET")
    assert d.data == dict(schedule="keep", peak_count=3, peak_bytes=48 * 10**9, step=15,
                          disk_budget=40 * 10**9, checkpoint_bytes=16 * 10**9, fits=2)
    assert "step 15" in d.message and "disk_budget=40000000000" in d.message
    ok = Plan(RUN30, save=dict(every=5), keep=keep, checkpoint_bytes=16e9, disk_budget=48e9)
    assert "DISK_BUDGET" not in codes(ok)


def test_keep_never_and_shifted(backend):
    plan = Plan(RUN30, save=dict(every=7, final=False), keep=Retention(keep_last=1, keep_every=10))
    shifted, never = only(plan, "KEEP_SHIFTED"), only(plan, "KEEP_NEVER")
    assert shifted.data["keep_steps"] == [10, 20] and shifted.data["kept_saves"] == [14, 21]
    assert never.data == dict(schedule="keep", keep_steps=[30], count=1, last_save=28)
    assert "after the last save at step 28" in never.message
    assert plan.survivors.tolist() == [14, 21, 28]
    nothing = Plan(RUN30, keep=Retention(keep_every=15))
    assert only(nothing, "KEEP_NEVER").data["keep_steps"] == [15, 30]
    exact = Plan(RUN30, save=dict(every=5), keep=Retention(keep_every=10))
    assert "KEEP_SHIFTED" not in codes(exact) and "KEEP_NEVER" not in codes(exact)


def test_a_keep_rule_that_never_fires_is_out_of_range(backend):
    plan = Plan(RUN30, save=dict(every=5), keep=Retention(keep_last=1, keep_every=1000))
    assert codes(plan) == ["OUT_OF_RANGE"]
    d = plan.diagnostics[0]
    assert d.message.startswith("keep_every=1000: ") and d.data["schedule"] == "keep"
    assert d.data["first_step"] == 1000
    assert plan.survivors.tolist() == [30]


HF_CASES = [
    # (save, eval, refused?, words of transformers' message)
    (dict(count=4), dict(count=3), True, "not a multiple of 0.3333333333333333"),
    (dict(every=100), dict(ratio=0.1), True, "mixing ratio and absolute steps"),
    (dict(ratio=0.5), dict(every=100), True, "mixing ratio and absolute steps"),
    (dict(every=100), dict(every=30), True, "round multiple of the evaluation steps"),
    (dict(every=100), dict(every=50), False, None),
    (dict(ratio=0.2), dict(ratio=0.1), False, None),
    (dict(every=100, at=[7]), dict(every=30), False, None),  # no single transformers value
    (dict(count=1), dict(every=30), False, None),             # nor for count=1
]


@pytest.mark.parametrize("save, eval_, refused, words", HF_CASES)
def test_hf_refused(backend, save, eval_, refused, words):
    run = Run(max_steps=1000)
    plan = Plan(run, save=save, eval=eval_, load_best_model_at_end=True)
    found = [d for d in plan.diagnostics if d.code == "HF_REFUSED"]
    assert bool(found) == refused
    if refused:
        assert words in found[0].message and words in found[0].data["refusal"]
        assert found[0].data["framework"] == "transformers"
        assert "save='at_evals'" in found[0].message
    assert "HF_REFUSED" not in codes(Plan(run, save=save, eval=eval_))


def test_hf_refused_through_axolotl_saves_per_epoch(backend):
    run = Run(steps_per_epoch=10, epochs=3)
    plan = Plan(run, save=dict(saves_per_epoch=2), eval=dict(every=5),
                load_best_model_at_end=True)
    d = only(plan, "HF_REFUSED")
    assert d.data["save_steps"] == 1.0 / (2 * 3) and d.data["eval_steps"] == 5


@pytest.mark.parametrize("kwargs, words", [
    (dict(save_steps=100, eval_steps=50), None),
    (dict(save_steps=100, eval_steps=30), "round multiple"),
    (dict(save_steps=0.3, eval_steps=0.1), None),       # 0.3 % 0.1 != 0, but 300000 % 100000 == 0
    (dict(save_steps=0.25, eval_steps=0.1), "not a multiple"),
    (dict(save_steps=0.5, eval_steps=100), "mixing ratio"),
    (dict(save_steps=1000, eval_steps=None), None),     # eval_steps falls back to logging_steps 500
    (dict(save_steps=1000, eval_steps=None, logging_steps=300), "round multiple"),
    (dict(save_steps=1000, eval_steps=None, logging_steps=0), "requires either non-zero"),
    (dict(save_steps=100, eval_steps=30, load_best_model_at_end=False), None),
    (dict(save_steps=100, eval_steps=30, save_strategy="best"), None),
    (dict(save_steps=100, eval_steps=None, eval_strategy="no"), "strategy to match"),
    (dict(save_steps=100.5, eval_steps=50, load_best_model_at_end=False), "must be an integer"),
])
def test_transformers_refusal_conditions(kwargs, words):
    kwargs = {"load_best_model_at_end": True, **kwargs}
    refusal = transformers_refusal(**kwargs)
    if words is None:
        assert refusal is None
    else:
        assert refusal is not None and words in refusal


# ---- logging and strict -----------------------------------------------------------------------

def plan_records(caplog):
    return [r for r in caplog.records if r.name == "ckptsched"]


def test_logged_once_at_build_not_on_unpickling(backend, caplog):
    caplog.set_level(logging.DEBUG, logger="ckptsched")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = Plan(RUN30, save=dict(every=7), eval=dict(every=10), load_best_model_at_end=True,
                    keep=Retention(keep_every=10))
    logged = [r.getMessage().split(":")[0] for r in plan_records(caplog)]
    warned = [str(w.message).split(": ")[1] for w in caught if w.category is ScheduleWarning]
    # each schedule reports its own when built (UNEVEN_TAIL of save), the plan reports its own:
    # info on the logger, warnings as ScheduleWarning, each once
    assert sorted(logged + warned) == sorted(codes(plan))
    assert sorted(warned) == sorted(d.code for d in plan.diagnostics if d.severity == "warning")
    assert len(logged) == len(set(logged)) and len(warned) == len(set(warned))
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copy = pickle.loads(pickle.dumps(plan))
    assert copy == plan and plan_records(caplog) == [] and caught == []


def test_strict_raises_on_warnings_only(backend):
    with pytest.raises(ScheduleError) as info:
        Plan(RUN30, save=dict(count=4), eval=dict(count=3), load_best_model_at_end=True,
             strict=True)
    assert {d.code for d in info.value.diagnostics} == {"BEST_NOT_SAVED", "HF_REFUSED"}
    info_only = Plan(RUN30, save=dict(every=7), keep=Retention(keep_every=10), strict=True)
    assert {d.severity for d in info_only.diagnostics} == {"info"}
    with pytest.raises(ScheduleError):
        Plan(RUN30, save=dict(count=50), strict=True)  # a schedule's own warning counts too


def test_every_plan_code_is_produced_by_a_test():
    produced = {"BEST_NOT_SAVED", "DISK_BUDGET", "KEEP_SHIFTED", "KEEP_NEVER", "HF_REFUSED"}
    assert produced == set(PLAN_CODES)


# ---- values --------------------------------------------------------------------------------------

def test_plan_is_a_value(backend):
    plan = Plan(RUN30, save=dict(every=5), eval=Schedule(RUN30, every=10), log=dict(every=1),
                keep=Retention(keep_last=2, keep_every="10"), checkpoint_bytes=2e9,
                disk_budget=10**10, load_best_model_at_end=True)
    text = repr(plan)
    assert text == ("Plan(Run(max_steps=30), save={'every': 5}, eval={'every': 10}, "
                    "log={'every': 1}, keep=Retention(keep_last=2, keep_every='10'), "
                    "checkpoint_bytes=2000000000, disk_budget=10000000000, "
                    "load_best_model_at_end=True)")
    env = {"Plan": Plan, "Run": Run, "Retention": Retention}
    assert eval(text, env) == plan
    copy = pickle.loads(pickle.dumps(plan))
    assert copy == plan and hash(copy) == hash(plan) and repr(copy) == text
    assert np.array_equal(copy.timeline.during, plan.timeline.during)
    at_evals = Plan(RUN30, save="at_evals", eval=dict(count=3))
    assert "save='at_evals'" in repr(at_evals)
    assert pickle.loads(pickle.dumps(at_evals)) == at_evals
    assert plan != Plan(RUN30, save=dict(every=5))
    with pytest.raises(AttributeError, match="immutable"):
        plan.save = None
    for array in (plan.survivors, plan.timeline.step, plan.on_disk_after(12)):
        with pytest.raises(ValueError):
            array[0] = 1


# ---- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, words", [
    (dict(save=[5, 10]), TypeError, ["save", "[5, 10]"]),
    (dict(save=5), TypeError, ["save", "5"]),
    (dict(save="at_saves"), ValueError, ["save='at_saves'", "at_evals"]),
    (dict(save="at_evals"), ValueError, ["save='at_evals'", "eval"]),
    (dict(eval="at_evals"), TypeError, ["eval", "'at_evals'"]),
    (dict(eval=dict(evry=10)), TypeError, ["eval=", "'evry'", "every"]),
    (dict(log=dict(every=0)), ValueError, ["log={'every': 0}", "every must be", "0"]),
    (dict(keep=dict(keep_last=2)), TypeError, ["keep", "keep_last"]),
    (dict(keep=Retention(keep_last=1).bind(Run(max_steps=40))), ValueError,
     ["keep is bound to Run(max_steps=40)"]),
    (dict(checkpoint_bytes=0), ValueError, ["checkpoint_bytes", "0"]),
    (dict(checkpoint_bytes=-1), ValueError, ["checkpoint_bytes", "-1"]),
    (dict(checkpoint_bytes=0.0), ValueError, ["checkpoint_bytes", "0"]),
    (dict(checkpoint_bytes=1.5), ValueError, ["checkpoint_bytes", "1.5", "whole"]),
    (dict(checkpoint_bytes=float("nan")), ValueError, ["checkpoint_bytes", "nan"]),
    (dict(checkpoint_bytes=float("inf")), ValueError, ["checkpoint_bytes", "inf"]),
    (dict(checkpoint_bytes=1e19), OverflowError, ["checkpoint_bytes", "1e+19"]),
    (dict(checkpoint_bytes="16XB"), ValueError, ["checkpoint_bytes", "'16XB'", "unit"]),
    (dict(checkpoint_bytes=True), TypeError, ["checkpoint_bytes", "True"]),
    (dict(disk_budget=80e9), ValueError, ["disk_budget=80000000000.0", "checkpoint_bytes"]),
    (dict(disk_budget=0, checkpoint_bytes=1), ValueError, ["disk_budget", "0"]),
    (dict(load_best_model_at_end=1), TypeError, ["load_best_model_at_end", "1"]),
    (dict(load_best_model_at_end=True, save=dict(every=5)), ValueError,
     ["load_best_model_at_end=True", "eval"]),
    (dict(strict="yes"), TypeError, ["strict", "'yes'"]),
])
def test_bad_plan_arguments(backend, kwargs, error, words):
    with pytest.raises(error) as info:
        Plan(RUN30, **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_bad_run_and_steps(backend):
    with pytest.raises(TypeError, match="run must be a ckptsched.Run"):
        Plan(30)
    plan = Plan(RUN30, save=dict(every=5))
    with pytest.raises(TypeError, match="step must be an integer"):
        plan.on_disk_after(5.0)
    with pytest.raises(ValueError, match="step must be >= 0"):
        plan.on_disk_after(-1)
    assert plan.on_disk_after(10**30).tolist() == [5, 10, 15, 20, 25, 30]


def test_schedules_too_large_to_hold_name_what_to_change(backend):
    """A plan reads every save and keep step: more than a schedule may hold in memory is a
    clear ValueError naming the schedule, never a hang or a MemoryError."""
    run = Run(max_steps=2**40)
    with pytest.raises(ValueError, match=r"plan needs every save step: .*more than"):
        Plan(run, save=dict(every=1))
    with pytest.raises(ValueError, match=r"keep_every=1: .*more than"):
        Plan(run, save=dict(count=3), keep=Retention(keep_every=1))
    plan = Plan(run, save=dict(count=3), keep=Retention(keep_last=1, keep_every=2**38))
    assert plan.survivors.tolist() == [2**40 // 3 + 1, 2 * 2**40 // 3 + 1, 2**40]

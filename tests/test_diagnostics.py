"""Diagnostics: every code has a request that produces it, with its severity and data; they
are reported once when the schedule is built (never on unpickling): warnings as
ScheduleWarning, info on the "ckptsched" logger; strict=True raises ScheduleError on warnings
only.  (Where reports reach a user: tests/test_reporting.py.)"""
import copy
import logging
import pickle
import re
import warnings

import pytest

import ckptsched
from ckptsched import CODES, Diagnostic, Run, Schedule, ScheduleError, ScheduleWarning

S10x3 = dict(steps_per_epoch=10, epochs=3)  # T = 30

# (id, Run kwargs, Schedule kwargs, code, severity, expected data items)
REQUESTS = [
    ("no rules, final=False", dict(max_steps=30), dict(final=False),
     "NO_SAVES", "warning", dict(total_steps=30)),
    ("every past the run, final=False", dict(max_steps=800), dict(every=1000, final=False),
     "NO_SAVES", "warning", dict(total_steps=800)),
    ("saves_per_epoch > S", S10x3, dict(saves_per_epoch=12),
     "FEWER_THAN_REQUESTED", "warning", dict(requested=12, per_epoch=10)),
    ("count > T", dict(max_steps=30), dict(count=50),
     "FEWER_THAN_REQUESTED", "warning", dict(requested=50, got=30)),
    ("every below one step", dict(max_steps=30, samples_per_step=8), dict(every="4sp"),
     "FEWER_THAN_REQUESTED", "warning", {}),
    ("final=False", dict(max_steps=30), dict(every=7, final=False),
     "FINAL_NOT_SAVED", "warning", dict(last_save=28, total_steps=30)),
    ("axolotl 217x4, 8 per epoch", dict(steps_per_epoch=217, epochs=4), dict(saves_per_epoch=8),
     "HF_MISMATCH", "info", dict(hf_count=31, count=32, hf_interval=28)),
    ("transformers ratio 0.07", dict(max_steps=100), dict(ratio=0.07),
     "HF_MISMATCH", "info", dict(interval=7, hf_interval=8)),
    ("every 7 of 30", dict(max_steps=30), dict(every=7),
     "UNEVEN_TAIL", "info", dict(last_regular=28, total_steps=30)),
    ("ratio 0.07 of 100", dict(max_steps=100), dict(ratio=0.07),
     "UNEVEN_TAIL", "info", dict(interval=7, total_steps=100)),
    ("at outside the run", dict(max_steps=30), dict(at=[0, 5, 40, -2]),
     "OUT_OF_RANGE", "warning", dict(dropped=[-2, 0, 40], dropped_count=3, total_steps=30)),
    ("at range outside the run", dict(max_steps=30), dict(at=range(-1, 10**12, 10)),
     "OUT_OF_RANGE", "warning", dict(dropped_count=10**11 + 1 - 3, total_steps=30)),  # 9, 19, 29 kept
    ("every 2ep beyond int64", dict(steps_per_epoch=2**62, epochs=1), dict(every="2ep"),
     "OUT_OF_RANGE", "warning", dict(first_step=2**63, total_steps=2**62)),
    ("every 1000 of 800", dict(max_steps=800), dict(every=1000),
     "OUT_OF_RANGE", "warning", dict(first_step=1000, total_steps=800)),
    ("every start past the run", dict(max_steps=30), dict(every=5, start=31),
     "OUT_OF_RANGE", "warning", dict(first_step=31, total_steps=30)),
    ("min_interval", S10x3, dict(saves_per_epoch=2, min_interval=6),
     "MIN_INTERVAL_DROPPED", "info", dict(dropped=[10, 20], min_interval=6)),
    ("max_gap", dict(max_steps=30), dict(every=10, max_gap=8),
     "LONG_GAP", "warning", dict(longest_gap=10, ends_at=10, max_gap=8)),
    ("max_gap tail", dict(max_steps=30), dict(at=[5, 10], final=False, max_gap=15),
     "LONG_GAP", "warning", dict(longest_gap=20, ends_at=30, max_gap=15)),
    ("min_interval over epoch ends", S10x3, dict(saves_per_epoch=2, min_interval=6),
     "EPOCH_END_MISSED", "warning", dict(missed_epoch_ends=[10, 20])),
]


def only(sched, code):
    found = [d for d in sched.diagnostics if d.code == code]
    assert len(found) == 1, (code, sched.diagnostics)
    return found[0]


def test_every_code_is_covered_by_a_request():
    assert {r[3] for r in REQUESTS} == set(CODES)
    assert set(CODES.values()) <= {"info", "warning"}


@pytest.mark.parametrize("run_kwargs, kwargs, code, severity, data",
                         [r[1:] for r in REQUESTS], ids=[f"{r[3]}: {r[0]}" for r in REQUESTS])
def test_request_produces_its_diagnostic(backend, run_kwargs, kwargs, code, severity, data):
    sched = Schedule(Run(**run_kwargs), **kwargs)
    d = only(sched, code)
    assert isinstance(d, Diagnostic)
    assert d.severity == severity == CODES[code]
    for key, value in data.items():
        assert d.data[key] == value, (key, d.data)
    assert d.message and str(d).startswith(f"{code} ({severity}): ")
    for d in sched.diagnostics:
        assert d.code in CODES and d.severity == CODES[d.code]


def test_a_clean_schedule_has_no_diagnostics(backend):
    assert Schedule(Run(steps_per_epoch=10, epochs=3), saves_per_epoch=2).diagnostics == ()
    assert Schedule(Run(max_steps=100), every=10, max_gap=10).diagnostics == ()
    assert Schedule(Run(max_steps=100), ratio=0.5).diagnostics == ()  # 50 both ways


def test_final_not_saved_says_how_much_work_is_lost(backend):
    """docs/semantics.md: FINAL_NOT_SAVED tells how many steps of work would be lost (here 30 - 28 = 2)."""
    d = only(Schedule(Run(max_steps=30), every=7, final=False), "FINAL_NOT_SAVED")
    assert 2 in d.data.values() or re.search(r"\b2 steps\b", d.message), d


def test_forced_final_closer_than_min_interval_is_reported(backend):
    """docs/semantics.md: min_interval keeps a forced final save even when closer (diagnostic)."""
    sched = Schedule(Run(max_steps=7), at=[5], min_interval=5)
    assert sched.steps.tolist() == [5, 7]
    assert any("min_interval" in d.message for d in sched.diagnostics), sched.diagnostics


@pytest.mark.parametrize("run_kwargs, every", [
    (dict(steps_per_epoch=10, epochs=2), "5ep"),
    (dict(max_steps=100, samples_per_step=8), "10000sp"),
    (dict(max_steps=100, tokens_per_step=1000), "1e9tok"),
], ids=["5ep", "10000sp", "1e9tok"])
def test_every_in_units_past_the_run_is_out_of_range(backend, run_kwargs, every):
    """Like every=1000 on an 800-step run: a unit interval whose first boundary lies past
    the run never fires, and the user must be told."""
    run = Run(**run_kwargs)
    sched = Schedule(run, every=every)
    assert sched.steps.tolist() == [run.total_steps]
    assert only(sched, "OUT_OF_RANGE").severity == "warning"


# --------------------------------------------------------------------------- logging

def diagnostic_records(caplog):
    return [r for r in caplog.records
            if r.name == "ckptsched" and re.match(r"[A-Z_]+: ", r.getMessage())
            and r.getMessage().split(":")[0] in CODES]


@pytest.mark.parametrize("run_kwargs, kwargs", [
    (dict(steps_per_epoch=217, epochs=4), dict(saves_per_epoch=8)),
    (S10x3, dict(saves_per_epoch=2, min_interval=6, at=[0, 99], max_gap=3)),
    (dict(max_steps=30), dict(final=False)),
])
def test_reported_once_at_build_and_not_on_unpickling(backend, caplog, run_kwargs, kwargs):
    caplog.set_level(logging.DEBUG, logger="ckptsched")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched = Schedule(Run(**run_kwargs), **kwargs)
    records = diagnostic_records(caplog)
    assert sched.diagnostics
    infos = [d for d in sched.diagnostics if d.severity == "info"]
    found = [d for d in sched.diagnostics if d.severity == "warning"]
    assert [r.getMessage() for r in records] == [f"{d.code}: {d.message}" for d in infos]
    assert all(r.levelno == logging.INFO for r in records)
    assert [(w.category, str(w.message)) for w in caught] == [
        (ScheduleWarning, f"ckptsched: {d.code}: {d.message}") for d in found]
    caplog.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clone = pickle.loads(pickle.dumps(sched))
        twin = copy.deepcopy(sched)
        assert clone.diagnostics == sched.diagnostics == twin.diagnostics
        clone.steps, sched.should_save(5), sched.next_after(5), len(sched), list(sched)
    assert diagnostic_records(caplog) == [] and caught == []


def test_clean_schedule_logs_nothing(backend, caplog):
    caplog.set_level(logging.DEBUG, logger="ckptsched")
    Schedule(Run(max_steps=100), every=10)
    assert diagnostic_records(caplog) == []


# --------------------------------------------------------------------------- strict

def test_strict_raises_schedule_error_listing_the_warnings(backend, caplog):
    caplog.set_level(logging.DEBUG, logger="ckptsched")
    with pytest.raises(ScheduleError) as info:
        Schedule(Run(max_steps=30), every=7, at=[0, 5, 40], final=False, strict=True)
    err = info.value
    assert isinstance(err, ValueError)
    codes = [d.code for d in err.diagnostics]
    assert sorted(codes) == ["FINAL_NOT_SAVED", "OUT_OF_RANGE"]  # warnings only
    assert all(d.severity == "warning" for d in err.diagnostics)
    for code in codes:
        assert code in str(err)


def test_strict_warning_with_info_lists_only_the_warning(backend):
    with pytest.raises(ScheduleError) as info:
        Schedule(Run(steps_per_epoch=10, epochs=3), saves_per_epoch=2, min_interval=6, strict=True)
    assert [d.code for d in info.value.diagnostics] == ["EPOCH_END_MISSED"]
    assert "EPOCH_END_MISSED" in str(info.value) and "MIN_INTERVAL_DROPPED" not in str(info.value)


@pytest.mark.parametrize("run_kwargs, kwargs", [
    (dict(max_steps=100), dict(ratio=0.07)),                       # HF_MISMATCH + UNEVEN_TAIL
    (dict(steps_per_epoch=217, epochs=4), dict(saves_per_epoch=8)),  # HF_MISMATCH
    (dict(max_steps=30), dict(every=7)),                           # UNEVEN_TAIL
])
def test_strict_does_not_raise_for_info_only(backend, run_kwargs, kwargs):
    sched = Schedule(Run(**run_kwargs), strict=True, **kwargs)
    assert sched.diagnostics and all(d.severity == "info" for d in sched.diagnostics)


def test_schedule_error_is_exported():
    assert issubclass(ckptsched.ScheduleError, ValueError)


def test_diagnostic_severity_is_checked():
    with pytest.raises(ValueError, match="severity must be 'info' or 'warning', got 'error'"):
        Diagnostic("NO_SAVES", "error", "x")

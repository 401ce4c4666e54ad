"""Where diagnostics reach a user: warnings as ckptsched.ScheduleWarning (once, marked as
ckptsched's, filterable), info on the "ckptsched" logger only, rank 0 only; and how a
schedule's name shapes its messages."""
import logging
import os
import pickle
import subprocess
import sys
import warnings
from fractions import Fraction

import pytest

import ckptsched
from ckptsched import Run, Schedule, ScheduleError, ScheduleWarning

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# a schedule with one warning (FINAL_NOT_SAVED) and one info (HF_MISMATCH) diagnostic
WARNING_SCRIPT = ("import ckptsched\n"
                  "ckptsched.Schedule(ckptsched.Run(max_steps=100), every=7, final=False)\n")


def run_python(code, *options, env=None):
    environment = {k: v for k, v in os.environ.items() if k not in ("RANK", "PYTHONWARNINGS")}
    environment.update(env or {})
    environment["PYTHONPATH"] = ROOT
    return subprocess.run([sys.executable, *options, "-c", code], capture_output=True,
                          text=True, env=environment, cwd=ROOT, timeout=120)


def test_warning_reaches_a_user_who_configured_nothing_once():
    done = run_python(WARNING_SCRIPT + WARNING_SCRIPT.splitlines()[1] + "\n")
    assert done.returncode == 0 and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if "ScheduleWarning" in line]
    assert len(lines) == 2  # two schedules built on two lines: one warning each, no repeats
    assert all("ckptsched: FINAL_NOT_SAVED: save schedule: the last save is at step 98" in line
               for line in lines)
    assert lines[0].startswith("<string>:2:") and lines[1].startswith("<string>:3:")  # the user's lines
    assert "HF_MISMATCH" not in done.stderr  # info stays on the logger (NullHandler)


@pytest.mark.parametrize("options, code", [
    # -W / PYTHONWARNINGS resolve categories at start-up, before ckptsched can be imported
    # (CPython: "invalid module name"), so on the command line the "ckptsched:" prefix filters
    (("-W", "ignore:ckptsched:UserWarning"), WARNING_SCRIPT),
    ((), "import warnings, ckptsched\n"
         "warnings.filterwarnings('ignore', category=ckptsched.ScheduleWarning)\n"
         + WARNING_SCRIPT),
])
def test_the_standard_filters_silence_it(options, code):
    done = run_python(code, *options)
    assert done.returncode == 0 and done.stderr == ""


def test_other_ranks_report_nothing():
    assert run_python(WARNING_SCRIPT, env={"RANK": "1"}).stderr == ""
    assert "FINAL_NOT_SAVED" in run_python(WARNING_SCRIPT, env={"RANK": "0"}).stderr


def test_configured_logging_sees_info_and_captured_warnings_once():
    code = ("import logging\nlogging.basicConfig(level=logging.INFO, format='%(name)s %(message)s')\n"
            "logging.captureWarnings(True)\n" + WARNING_SCRIPT)
    err = run_python(code).stderr
    assert err.count("FINAL_NOT_SAVED") == 1 and "py.warnings" in err
    assert err.count("HF_MISMATCH") == 1 and "ckptsched HF_MISMATCH: save schedule" in err


def test_info_goes_to_the_logger_only(backend, caplog):
    caplog.set_level(logging.INFO, logger="ckptsched")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched = Schedule(Run(max_steps=30), every=7)  # UNEVEN_TAIL (info)
    assert caught == []
    assert [r.getMessage() for r in caplog.records if r.name == "ckptsched"] == [
        f"{d.code}: {d.message}" for d in sched.diagnostics]
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("ckptsched").handlers)


def test_warning_is_a_user_warning_pointing_at_the_caller(backend):
    assert issubclass(ckptsched.ScheduleWarning, UserWarning)
    with pytest.warns(ScheduleWarning, match=r"^ckptsched: FINAL_NOT_SAVED: save schedule: ") as rec:
        Schedule(Run(max_steps=100), every=7, final=False)
    assert len(rec) == 1 and rec[0].filename == __file__


def test_a_plan_warning_points_at_the_caller_too(backend):
    with pytest.warns(ScheduleWarning, match=r"eval schedule: ") as rec:
        ckptsched.Plan(Run(max_steps=30), eval=dict(count=50))
    assert [w.filename for w in rec] == [__file__]


def test_other_ranks_report_nothing_in_process(backend, monkeypatch, caplog):
    monkeypatch.setenv("RANK", "3")
    caplog.set_level(logging.INFO, logger="ckptsched")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched = Schedule(Run(max_steps=100), every=7, final=False)
    assert caught == [] and caplog.records == [] and len(sched.diagnostics) == 2
    with pytest.raises(ScheduleError):  # strict raises on every rank
        Schedule(Run(max_steps=100), every=7, final=False, strict=True)


def test_rank_comes_from_an_initialized_torch_distributed(monkeypatch):
    class FakeDistributed:
        @staticmethod
        def is_available():
            return True

        @staticmethod
        def is_initialized():
            return True

        @staticmethod
        def get_rank():
            return 2

    monkeypatch.setitem(sys.modules, "torch.distributed", FakeDistributed)
    monkeypatch.setenv("RANK", "0")
    assert ckptsched.diagnostics.distributed_rank() == 2
    FakeDistributed.is_initialized = staticmethod(lambda: False)
    assert ckptsched.diagnostics.distributed_rank() == 0


# ---- names -------------------------------------------------------------------------------------

def test_name_is_part_of_equality_repr_and_pickling(backend):
    run = Run(max_steps=100)
    save, evals = Schedule(run, every=10), Schedule(run, every=10, name="eval")
    assert save.name == "save" and evals.name == "eval"
    assert save != evals and save == Schedule(run, every=10, name="save")
    assert repr(save) == "Schedule(Run(max_steps=100), every=10)"
    assert repr(evals) == "Schedule(Run(max_steps=100), every=10, name='eval')"
    clone = pickle.loads(pickle.dumps(evals))
    assert clone == evals and clone.name == "eval" and hash(clone) == hash(evals)


@pytest.mark.parametrize("name, exc", [(3, TypeError), ("", ValueError), (None, TypeError)])
def test_bad_names_are_refused(backend, name, exc):
    with pytest.raises(exc, match="name must be"):
        Schedule(Run(max_steps=10), every=2, name=name)


@pytest.mark.parametrize("name, step, steps", [("save", "save", "saves"),
                                               ("eval", "evaluation", "evaluations"),
                                               ("log", "log", "logs"),
                                               ("probe", "scheduled step", "scheduled steps")])
def test_every_diagnostic_names_its_schedule(backend, name, step, steps):
    sched = Schedule(Run(steps_per_epoch=10, epochs=3), saves_per_epoch=20, at=[0], name=name)
    gaps = Schedule(Run(max_steps=30), every=7, final=False, max_gap=2, min_interval=8,
                    name=name)
    diagnostics = sched.diagnostics + gaps.diagnostics
    assert {d.code for d in diagnostics} >= {"FEWER_THAN_REQUESTED", "OUT_OF_RANGE", "LONG_GAP",
                                             "FINAL_NOT_SAVED", "MIN_INTERVAL_DROPPED"}
    for d in diagnostics:
        assert d.data["schedule"] == name and d.message.startswith(f"{name} schedule: ")
        if name != "save":
            text = d.message.replace("saves_per_epoch=", "").replace("save_steps=", "")
            assert " save" not in text
    fewer = next(d for d in sched.diagnostics if d.code == "FEWER_THAN_REQUESTED")
    assert f"at most 10 {steps} per epoch" in fewer.message


def test_axolotl_eval_message_uses_its_eval_arguments_and_readable_fractions(backend):
    sched = Schedule(Run(steps_per_epoch=100, epochs=Fraction(5, 2)), saves_per_epoch=3,
                     name="eval")
    (hf,) = [d for d in sched.diagnostics if d.code == "HF_MISMATCH"]
    assert hf.message.startswith("eval schedule: evals_per_epoch=3: Axolotl sets eval_steps = "
                                 "1/(3*(5/2)) = ")
    assert "Fraction" not in hf.message and "transformers evaluates every" in hf.message

"""ckptsched.Tracker: exact unit boundaries, clock rules through sync, requests, SIGTERM,
resume and runtime diagnostics.  No framework needed."""
from __future__ import annotations

import logging
import os
import random
import signal

import pytest

import ckptsched

from ckptsched import Run, Schedule, ScheduleError, Tracker

from retention_model import kept_by_policy


class FakeClock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


def crossings(amounts, every):
    """Oracle: the 1-based update indexes at which cumulative amounts reach a new multiple
    of `every` (plain integers, independent of the code under test)."""
    out, total = [], 0
    for i, amount in enumerate(amounts, 1):
        if (total + amount) // every > total // every:
            out.append(i)
        total += amount
    return out


@pytest.mark.parametrize("seed", range(5))
def test_token_boundaries_are_crossed_exactly(backend, seed):
    rng = random.Random(seed)
    amounts = [rng.choice([0, 1, 999, 1000, 1001, 2500, 4096]) for _ in range(300)]
    tracker = Tracker(every="3000tok", sync=False)
    got = [step for step, n in enumerate(amounts, 1) if tracker.update(step, tokens=n)]
    assert got == crossings(amounts, 3000)


def test_reasons_and_several_units(backend):
    tracker = Tracker(Schedule(Run(max_steps=10), every=5), every=["4sp", "100tok"], sync=False)
    d = tracker.update(1, samples=2, tokens=100)
    assert d and d.reasons == ("tokens",) and not d.stop
    d = tracker.update(2, samples=2, tokens=50)
    assert d.reasons == ("samples",)
    assert not tracker.update(3, samples=1, tokens=10)
    d = tracker.update(5, samples=1, tokens=40)  # the counter jumped over 4: due(3, 5)
    assert d.reasons == ("schedule", "tokens")
    assert tracker.update(10, samples=0, tokens=0).reasons == ("schedule",)  # the final step


def test_ramp_of_batch_sizes_matches_the_oracle(backend):
    sizes = [8] * 10 + [16] * 10 + [32] * 20 + [64] * 10
    tracker = Tracker(every="100sp", sync=False)
    got = [s for s, n in enumerate(sizes, 1) if tracker.update(s, samples=n)]
    assert got == crossings(sizes, 100)


def test_fractional_and_huge_units(backend):
    tracker = Tracker(every="1/3sp", sync=False)  # three boundaries per sample: every update saves
    assert all(tracker.update(s, samples=1) for s in range(1, 6))
    big = Tracker(every="1e12tok", sync=False)
    assert not big.update(1, tokens=10**12 - 1)
    assert big.update(2, tokens=1).reasons == ("tokens",)
    assert big.update(3, tokens=3 * 10**12).reasons == ("tokens",)  # several boundaries: one save


def test_time_rule_is_decided_on_rank_zero_only():
    clock = FakeClock()
    rank1 = Tracker(every_seconds=10, sync=lambda vote: vote, rank=1, clock=clock)
    rank0 = Tracker(every_seconds=10, sync=lambda vote: vote, rank=0, clock=clock)
    clock.now = 11
    assert not rank1.update(1)
    d = rank0.update(1)
    assert d.reasons == ("time",)
    clock.now = 15
    assert not rank0.update(2)  # the clock restarted at the save
    clock.now = 21.5
    assert rank0.update(3).reasons == ("time",)


def test_sync_result_is_what_every_rank_acts_on():
    clock = FakeClock()
    votes = []

    def sync(vote):  # another rank voted "save"
        votes.append(vote)
        return 1

    tracker = Tracker(every_seconds=3600, sync=sync, rank=1, clock=clock)
    d = tracker.update(7)
    assert d and d.reasons == ("other rank",) and votes == [0]
    with pytest.raises(ValueError, match="sync must return"):
        Tracker(sync=lambda vote: "yes", rank=0).update(1)


def test_request_save_and_stop(backend):
    tracker = Tracker(Schedule(Run(max_steps=100), every=50), sync=False)
    assert not tracker.update(1)
    tracker.request_save()
    assert tracker.update(2).reasons == ("request",)
    assert not tracker.update(3)  # consumed
    tracker.request_save(stop=True)
    d = tracker.update(4)
    assert d.save and d.stop and tracker.stopped


def test_no_second_save_for_the_same_step():
    tracker = Tracker(every="10tok", sync=False)
    assert tracker.update(1, tokens=10)
    tracker.request_save()
    assert not tracker.update(1, tokens=10)  # the same step again: no second save
    assert tracker.update(2, tokens=0).reasons == ("request",)  # the request stayed pending


def test_sigterm_handler_requests_save_and_stop():
    previous = signal.getsignal(signal.SIGTERM)
    tracker = Tracker(every="1000tok", handle_sigterm=True, sync=False)
    try:
        assert signal.getsignal(signal.SIGTERM) == tracker._on_sigterm
        assert not tracker.update(1, tokens=1)
        os.kill(os.getpid(), signal.SIGTERM)
        d = tracker.update(2, tokens=1)
        assert d.save and d.stop and d.reasons == ("sigterm",)
    finally:
        tracker.close()
    assert signal.getsignal(signal.SIGTERM) == previous


def test_resume_continues_the_same_decisions(backend):
    rng = random.Random(7)
    tokens = [rng.randrange(0, 3000) for _ in range(120)]
    schedule = Schedule(Run(steps_per_epoch=40, epochs=3), saves_per_epoch=3)

    def make():
        return Tracker(schedule, every="10000tok", sync=False)

    whole = make()
    expected = [s for s, n in enumerate(tokens, 1) if whole.update(s, tokens=n)]
    first = make()
    got = [s for s, n in enumerate(tokens[:57], 1) if first.update(s, tokens=n)]
    state = first.state_dict()
    assert state == {"format": "ckptsched.Tracker/2", "step": 57, "last_saved": max(got),
                     "samples": 0, "tokens": sum(tokens[:57])}
    second = make()
    second.load_state_dict(state)
    got += [s for s, n in enumerate(tokens[57:], 58) if second.update(s, tokens=n)]
    assert got == expected


def test_load_state_dict_rejects_bad_states():
    tracker = Tracker(sync=False)
    with pytest.raises(TypeError, match="mapping"):
        tracker.load_state_dict([1])
    with pytest.raises(ValueError, match="format"):
        tracker.load_state_dict({"format": "other"})
    good = Tracker(sync=False).state_dict()
    with pytest.raises(ValueError, match="'tokens'"):
        tracker.load_state_dict({k: v for k, v in good.items() if k != "tokens"})
    with pytest.raises(ValueError, match=r"state\['step'\]"):
        tracker.load_state_dict({**good, "step": -1})


def test_steps_going_backwards_are_reported(backend, caplog):
    tracker = Tracker(Schedule(Run(max_steps=20), every=5), sync=False)
    assert tracker.update(5)
    with pytest.warns(ckptsched.ScheduleWarning, match="went backwards"):
        assert not tracker.update(3)
    assert [d.code for d in tracker.diagnostics] == ["STEP_WENT_BACK"]
    assert tracker.update(5)  # decided again from the step it was given
    strict = Tracker(sync=False, strict=True)
    strict.update(4)
    with pytest.raises(ScheduleError, match="STEP_WENT_BACK"):
        strict.update(2)


def test_finish_reports_a_missing_final_save(backend, caplog):
    tracker = Tracker(Schedule(Run(max_steps=10), every=4, final=False), sync=False)
    with pytest.warns(ckptsched.ScheduleWarning, match="FINAL_NOT_SAVED"):
        for step in range(1, 11):
            tracker.update(step)
        (diag,) = tracker.finish()
    assert diag.code == "FINAL_NOT_SAVED" and diag.data["last_save"] == 8
    assert "2 step(s)" in diag.message
    ok = Tracker(Schedule(Run(max_steps=10), every=4), sync=False)
    for step in range(1, 11):
        ok.update(step)
    assert ok.finish() == () and ok.last_saved == 10


def test_context_manager_finishes_and_restores(backend):
    previous = signal.getsignal(signal.SIGTERM)
    with Tracker(handle_sigterm=True, sync=False) as tracker:
        tracker.update(3)
    assert [d.code for d in tracker.diagnostics] == ["FINAL_NOT_SAVED"]
    assert signal.getsignal(signal.SIGTERM) == previous


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(schedule=5), TypeError, "schedule must be"),
    (dict(every="5"), ValueError, "counts steps"),
    (dict(every="2ep"), ValueError, "counts epochs"),
    (dict(every=3.5), TypeError, "every must be"),
    (dict(every="0tok"), ValueError, "must be > 0"),
    (dict(every=["10tok", "x"]), ValueError, r"every\[1\]"),
    (dict(every_seconds=0), ValueError, "every_seconds must be > 0"),
    (dict(every_seconds=float("nan")), ValueError, "every_seconds"),
    (dict(sync="yes"), TypeError, "sync must be"),
    (dict(rank=-1), ValueError, "rank"),
    (dict(clock=3), TypeError, "clock"),
    (dict(handle_sigterm=1), TypeError, "handle_sigterm"),
])
def test_bad_arguments_name_themselves(kwargs, error, match):
    with pytest.raises(error, match=match):
        Tracker(**kwargs)


def test_bad_update_arguments():
    tracker = Tracker(every="10tok", sync=False)
    with pytest.raises(ValueError, match="pass tokens="):
        tracker.update(1, samples=3)
    with pytest.raises(TypeError, match="step"):
        tracker.update(1.0, tokens=1)
    with pytest.raises(ValueError, match="tokens"):
        tracker.update(1, tokens=-1)
    with pytest.raises(TypeError, match="stop"):
        tracker.request_save(stop="yes")


def test_no_torch_needed_when_not_distributed():
    import sys

    tracker = Tracker(every_seconds=1)  # sync=None: torch.distributed only when initialised
    tracker.update(1)
    dist = sys.modules.get("torch.distributed")
    assert dist is None or not dist.is_initialized()
    assert tracker._resolve() == (None, 0)


# ---- retention in a custom torch loop (real torch.save / torch.load, real files) ----------

class LoopCrash(RuntimeError):
    pass


def files(out):
    return sorted(int(p.stem.split("-")[1]) for p in out.glob("step-*.pt"))


def train_loop(torch, out, schedule, keep, *, crash=None, resume=False, metrics=None):
    """A plain training loop: a save on each decision (model, optimizer and tracker state in
    one file), then retention.  crash=(step, "after" | "between"): raise after that step's
    save and retention, or between the save and its retention.  resume: continue from the
    newest file.  metrics: {step: eval loss} filled in (keep_best)."""
    out.mkdir(exist_ok=True)
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    tracker = Tracker(schedule, keep=keep, sync=False,
                      delete=lambda step: (out / f"step-{step}.pt").unlink(missing_ok=True))
    done = 0
    if resume:
        state = torch.load(out / f"step-{files(out)[-1]}.pt", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        tracker.load_state_dict(state["tracker"])
        tracker.to_delete()  # finish what a crash between a save and its retention left
        done = state["step"]
    for step in range(done + 1, schedule.run.total_steps + 1):
        x = torch.randn(8, 4, generator=torch.Generator().manual_seed(step))
        loss = torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if not tracker.update(step):
            continue
        torch.save({"step": step, "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "tracker": tracker.state_dict()},
                   out / f"step-{step}.pt")
        if crash == (step, "between"):
            raise LoopCrash(step)
        metric = None
        if metrics is not None:
            # a small eval set drawn anew each time: a noisy metric, not monotone in steps
            probe = torch.randn(4, 4, generator=torch.Generator().manual_seed(1000 + step))
            with torch.no_grad():
                metric = torch.nn.functional.mse_loss(model(probe),
                                                      probe.sum(dim=1, keepdim=True))
            metrics[step] = float(metric)
        tracker.to_delete(metric=metric)  # a one-element tensor is a metric too
        if crash == (step, "after"):
            raise LoopCrash(step)


@pytest.mark.parametrize("crash", [None, (8, "after"), (8, "between"), (12, "between")])
def test_a_torch_loop_leaves_the_plans_survivors(torch, tmp_path, crash):
    from ckptsched import Plan, Retention

    run = Run.from_dataset(22, 2, 3, epochs=3)  # 11 micro-batches: epochs of 4 steps
    schedule = Schedule(run, every=2)
    keep = Retention(keep_last=2, keep_every="1ep")
    plan = Plan(run, save=schedule, keep=keep)
    saves = schedule.steps.tolist()
    assert plan.survivors.tolist() == kept_by_policy(saves, 2, [4, 8, 12])
    if crash is None:
        train_loop(torch, tmp_path, schedule, keep)
    else:
        with pytest.raises(LoopCrash):
            train_loop(torch, tmp_path, schedule, keep, crash=crash)
        if crash[1] == "after":
            assert files(tmp_path) == plan.on_disk_after(crash[0]).tolist()
        train_loop(torch, tmp_path, schedule, keep, resume=True)
    assert files(tmp_path) == plan.survivors.tolist()


def test_a_torch_loop_keeps_the_best_eval_loss_across_a_resume(torch, tmp_path):
    from ckptsched import Retention

    run = Run(max_steps=12)
    schedule = Schedule(run, every=1)
    keep = Retention(keep_last=1, keep_best=2)
    metrics = {}
    train_loop(torch, tmp_path / "whole", schedule, keep, metrics=metrics)
    expected = kept_by_policy(schedule.steps.tolist(), 1, keep_best=2, metrics=metrics)
    assert files(tmp_path / "whole") == expected
    with pytest.raises(LoopCrash):
        train_loop(torch, tmp_path / "cut", schedule, keep, crash=(7, "between"), metrics={})
    train_loop(torch, tmp_path / "cut", schedule, keep, resume=True, metrics={})
    assert files(tmp_path / "cut") == expected


def test_the_plain_loop_example_retains(torch, tmp_path, capsys):
    """examples/plain_loop.py --keep-last 2: every save of the run (on the schedule and at
    token boundaries) goes through the policy; a pre-emption and a resume change nothing."""
    import importlib.util
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "plain_loop.py"
    spec = importlib.util.spec_from_file_location("plain_loop_retention", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.main(["--out", str(tmp_path / "whole"), "--keep-last", "2"]) == 0
    saves = [int(s) for s in re.findall(r"step (\d+): saved", capsys.readouterr().out)]
    run = Run.from_dataset(150, 4, 3, epochs=3)
    epoch_ends = [run.steps_per_epoch * e for e in (1, 2, 3)]
    assert files(tmp_path / "whole") == kept_by_policy(saves, 2, epoch_ends)
    assert example.main(["--out", str(tmp_path / "cut"), "--keep-last", "2",
                         "--preempt-at", "15"]) == 0
    assert example.main(["--out", str(tmp_path / "cut"), "--keep-last", "2", "--resume"]) == 0
    cut = [int(s) for s in re.findall(r"step (\d+): saved", capsys.readouterr().out)]
    assert files(tmp_path / "cut") == kept_by_policy(cut, 2, epoch_ends)

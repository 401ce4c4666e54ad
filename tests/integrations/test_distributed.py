"""torch.distributed (gloo), two processes on this machine: every rank takes the same
decision at every step, although their clocks are skewed, their requests and signals
differ, and only the all-reduced token counts are shared; and with retention, every rank
agrees on what to delete, only rank 0 deletes, and the plan's survivors stay.  The two
ranks run once for the whole module."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

from pathlib import Path

import pytest

from ckptsched import Plan, Retention, Run, Schedule

from retention_model import kept_by_policy

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_dist_worker.py"


def run_ranks(tmp_path, world=2, timeout=180):
    import ckptsched

    where = str(Path(ckptsched.__file__).resolve().parents[1])  # the ckptsched under test
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([where, os.environ.get("PYTHONPATH", "")])}
    store = tmp_path / "store"
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(rank), str(world), str(store),
                               str(tmp_path / f"rank{rank}.json")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for rank in range(world)]
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=timeout)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for rank, (p, text) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"rank {rank} failed:\n{text}"
    return [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(world)]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """The outputs of both ranks (and the folder they shared), run once for the module."""
    torch = pytest.importorskip("torch")
    if not torch.distributed.is_available():
        pytest.fail("torch.distributed is not available in this torch build")
    shared = tmp_path_factory.mktemp("ranks")
    return run_ranks(shared), shared


def test_ranks_agree_at_every_step(torch, ranks):
    (rank0, rank1), _ = ranks
    decided = lambda r: [(step, save, stop) for step, save, stop, _ in r["decisions"]]  # noqa: E731
    assert decided(rank0) == decided(rank1)
    steps = [d[0] for d in rank0["decisions"]]
    assert steps == list(range(1, 72))  # both stopped at the SIGTERM step of rank 1 alone
    saves = {step: reasons for step, save, _, reasons in rank0["decisions"] if save}
    saves1 = {step: reasons for step, save, _, reasons in rank1["decisions"] if save}

    # the clock rule is rank 0's: 10 s of rank 0's clock (1 s per step) after the last save
    time_steps = [s for s, reasons in saves.items() if "time" in reasons]
    assert time_steps and all("time" not in r for r in saves1.values())
    ordered = sorted(saves)
    for step in time_steps:
        i = ordered.index(step)
        assert step - (ordered[i - 1] if i else 0) == 10
    # ... although rank 1's own clock (2.7 s per step, offset) would have decided otherwise
    assert rank1["alone"] != rank0["alone"]

    # the rules known in advance and the token rule (global tokens) hold on both ranks
    schedule = Schedule(Run(steps_per_epoch=25, epochs=4), saves_per_epoch=1)
    for step in schedule:
        if step <= 71:
            assert "schedule" in saves[step] and "schedule" in saves1[step]
    assert rank0["tokens"] == rank1["tokens"]
    total, token_steps = 0, []
    for step, n in enumerate(rank0["tokens"], 1):
        if (total + n) // 150000 > total // 150000:
            token_steps.append(step)
        total += n
    assert token_steps and all("tokens" in saves[s] for s in token_steps)

    # rank 1's request and SIGTERM are honoured by every rank
    assert saves1[37] == ["request"] and saves[37] == ["other rank"]
    assert saves1[71] == ["sigterm"] and saves[71] == ["other rank"]
    assert rank0["decisions"][-1][2] and rank1["decisions"][-1][2]
    assert rank0["sigterm_handler_restored"] and rank1["sigterm_handler_restored"]


def on_disk(folder):
    return sorted(int(name[len("step-"):-len(".pt")]) for name in os.listdir(folder))


def worker_module():
    """_dist_worker as a module, for its constants (importing it imports torch)."""
    spec = importlib.util.spec_from_file_location("_dist_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ranks_agree_on_retention_and_only_rank_zero_deletes(torch, ranks):
    (rank0, rank1), shared = ranks
    worker = worker_module()
    r0, r1 = rank0["retention"], rank1["retention"]
    run = Run(**worker.RETENTION_RUN)
    saves = Schedule(run, **worker.RETENTION_SAVE).steps.tolist()
    assert r0["to_delete"] == r1["to_delete"]  # the same decisions, step by step
    assert r0["metrics"] == r1["metrics"]
    assert [step for step, _ in r0["to_delete"]["epochs"]] == saves
    for name in ("epochs", "best"):
        decided = [s for _, doomed in r0["to_delete"][name] for s in doomed]
        assert r0["delete_calls"][name] == decided and decided  # rank 0 deleted them all
        assert r1["delete_calls"][name] == []                   # rank 1 deleted nothing
        assert r0["on_disk"][name] == r1["on_disk"][name] == on_disk(shared / name)

    plan = Plan(run, save=dict(worker.RETENTION_SAVE),
                keep=Retention(**worker.KEEP_EVERY_EPOCH))
    assert on_disk(shared / "epochs") == plan.survivors.tolist()
    epoch_ends = list(range(run.steps_per_epoch, run.total_steps + 1, run.steps_per_epoch))
    assert plan.survivors.tolist() == kept_by_policy(saves, worker.KEEP_EVERY_EPOCH["keep_last"],
                                             epoch_ends)
    metrics = {int(step): value for step, value in r0["metrics"].items()}
    assert on_disk(shared / "best") == kept_by_policy(saves, worker.KEEP_BEST["keep_last"],
                                              keep_best=worker.KEEP_BEST["keep_best"],
                                              metrics=metrics)
    # each kept checkpoint holds its tracker's state, which counts it as on disk
    newest = torch.load(shared / "best" / f"step-{saves[-1]}.pt", weights_only=True)
    assert saves[-1] in newest["tracker"]["on_disk"]

"""torch.distributed (gloo), two processes on this machine: every rank takes the same
decision at every step, although their clocks are skewed, their requests and signals
differ, and only the all-reduced token counts are shared."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from pathlib import Path

import pytest

from ckptsched import Run, Schedule

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


def test_ranks_agree_at_every_step(torch, tmp_path):
    if not torch.distributed.is_available():
        pytest.fail("torch.distributed is not available in this torch build")
    rank0, rank1 = run_ranks(tmp_path)
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

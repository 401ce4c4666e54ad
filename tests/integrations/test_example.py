"""examples/plain_loop.py runs, saves on the schedule and at token boundaries, survives a
SIGTERM and resumes into exactly the saves of an uninterrupted run (plus the pre-emption's)."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import ckptsched
from ckptsched import Run, Schedule

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plain_loop.py"


def load_example():
    spec = importlib.util.spec_from_file_location("plain_loop_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def saved(out):
    return sorted(int(p.stem.split("-")[1]) for p in out.glob("step-*.pt"))


def test_runs_as_a_script(torch, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(ckptsched.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(EXAMPLE), "--out", str(tmp_path / "a")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    schedule = Schedule(Run.from_dataset(150, 4, 3, epochs=3), saves_per_epoch=4).steps.tolist()
    steps = saved(tmp_path / "a")
    assert set(schedule) <= set(steps) and steps[-1] == 39
    token_saves = [int(m) for m in re.findall(r"step (\d+): saved \(tokens\)", result.stdout)]
    assert token_saves and set(steps) == set(schedule) | set(token_saves)
    assert "done: 39 steps" in result.stdout


def test_preemption_and_resume_give_the_same_saves(torch, tmp_path, capsys):
    example = load_example()
    assert example.main(["--out", str(tmp_path / "whole")]) == 0
    whole = saved(tmp_path / "whole")
    assert example.main(["--out", str(tmp_path / "cut"), "--preempt-at", "15"]) == 0
    out = capsys.readouterr().out
    assert "step 16: saved (sigterm)" in out and "pre-empted: saved step 16" in out
    assert saved(tmp_path / "cut")[-1] == 16
    assert example.main(["--out", str(tmp_path / "cut"), "--resume"]) == 0
    assert "resumed from step-16.pt" in capsys.readouterr().out
    assert saved(tmp_path / "cut") == sorted(set(whole) | {16})

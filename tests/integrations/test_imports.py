"""The core and the integration package import no framework; without the frameworks (and
PyYAML) the core, the Tracker and the Axolotl reader for dicts still work."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ckptsched

WHERE = str(Path(ckptsched.__file__).resolve().parents[1])
FRAMEWORKS = ("torch", "transformers", "lightning", "pytorch_lightning", "accelerate", "yaml")


def run(code):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([WHERE, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=WHERE)


def test_importing_ckptsched_imports_no_framework():
    result = run(f"""
import sys
import ckptsched, ckptsched.integrations, ckptsched.integrations.axolotl, ckptsched.tracker
import ckptsched.cli.check
from ckptsched.cli import build_parser
build_parser()
loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]
assert not loaded, loaded
assert ckptsched.Tracker is ckptsched.tracker.Tracker
""")
    assert result.returncode == 0, result.stderr


def test_the_core_works_without_the_frameworks():
    result = run(f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {FRAMEWORKS!r}:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
from ckptsched import Run, Schedule, Tracker
schedule = Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=8)
assert len(schedule) == 32
tracker = Tracker(schedule, every="1000tok", every_seconds=3600)
assert [s for s in range(1, 869) if tracker.update(s, tokens=100)] == sorted(
    set(schedule.steps.tolist()) | set(range(10, 869, 10)))
for name in ("transformers", "lightning"):
    try:
        __import__("ckptsched.integrations." + name)
    except ImportError as exc:
        assert "blocked" in str(exc)
    else:
        raise AssertionError(name)
""")
    assert result.returncode == 0, result.stderr

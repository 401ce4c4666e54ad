"""Smoke test of `ckptsched bench --quick --json`: it runs and reports well-formed numbers.

No timing threshold here: speed is reported by the benchmark, never asserted by a test.
"""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ckptsched
from ckptsched import _backend


PACKAGE_ROOT = str(Path(ckptsched.__file__).resolve().parent.parent)
CASES = {"decision", "schedule", "large", "sweep_fill", "sweep_counts", "memory"}


def numbers(tree):
    """Every number in a JSON tree (bools excluded)."""
    if isinstance(tree, dict):
        for value in tree.values():
            yield from numbers(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from numbers(value)
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield tree


def test_bench_quick_json_is_well_formed():
    if "c" not in _backend.available("sweep") and _backend.NO_EXTENSIONS:
        pytest.skip("the benchmark compares the C backend, which is not built")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-m", "ckptsched", "bench", "--quick", "--json"],
                         env=env, capture_output=True, text=True, timeout=300,
                         cwd=PACKAGE_ROOT)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["quick"] is True and set(report["cases"]) == CASES
    values = list(numbers(report["cases"]))
    assert values and all(math.isfinite(v) and v >= 0 for v in values)
    for name in ("decision", "schedule", "large", "sweep_fill", "sweep_counts"):
        ratios = report["cases"][name]["ratios"]
        assert ratios and all(v > 0 for v in ratios.values()), (name, ratios)
    for mode in ("fill", "counts_only"):
        memory = report["cases"]["memory"][mode]
        assert memory["peak_bytes"] > 0 and memory["output_bytes"] > 0


def test_bench_rejects_bad_flags(capsys):
    from ckptsched.cli import main
    assert main(["bench", "--quick", "--only", "nope"]) == 2
    assert "--only" in capsys.readouterr().err
    assert main(["bench", "--quick", "--repeat", "0"]) == 2
    assert "--repeat" in capsys.readouterr().err

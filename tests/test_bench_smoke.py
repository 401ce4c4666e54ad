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
#: benchmarks/ of this checkout (the package may be installed elsewhere, without it)
BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
CASES = {"decision", "callback", "schedule", "large", "sweep_fill", "uniform_2", "uniform_8",
         "uniform_16", "uniform_64", "uniform_256", "sweep_counts", "memory"}


def skip_without_c():
    """The benchmark compares the C backend: skip when it is not built (CI builds it)."""
    if "c" not in _backend.available("sweep") and _backend.NO_EXTENSIONS:
        pytest.skip("the benchmark compares the C backend, which is not built")


def package_env() -> dict:
    """This environment, with the package under test first on PYTHONPATH (for subprocesses)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


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
    skip_without_c()
    env = package_env()
    out = subprocess.run([sys.executable, "-m", "ckptsched", "bench", "--quick", "--json"],
                         env=env, capture_output=True, text=True, timeout=300,
                         cwd=PACKAGE_ROOT)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["quick"] is True and set(report["cases"]) == CASES
    values = list(numbers(report["cases"]))
    assert values and all(math.isfinite(v) and v >= 0 for v in values)
    for name, case in report["cases"].items():
        if "skipped" in case:  # only the callback, without a usable transformers
            assert name == "callback" and case["skipped"], case
            continue
        ratios = case["ratios"]
        assert ratios and all(v > 0 for v in ratios.values()), (name, ratios)
        # every case states its aims, each checked against this run's own ratio
        assert case["aims"], name
        for aim in case["aims"]:
            assert aim["value"] == ratios[aim["ratio"]] and isinstance(aim["met"], bool)
            bound = float(aim["aim"].split()[-1])
            assert aim["met"] == (aim["value"] <= bound if "<=" in aim["aim"]
                                  else aim["value"] >= bound), aim
    for mode in ("fill", "counts_only"):
        memory = report["cases"]["memory"][mode]
        assert memory["peak_bytes"] > 0 and memory["output_bytes"] > 0


def test_bench_rejects_bad_flags(capsys):
    from ckptsched.cli import main
    assert main(["bench", "--quick", "--only", "nope"]) == 2
    assert "--only" in capsys.readouterr().err
    assert main(["bench", "--quick", "--repeat", "0"]) == 2
    assert "--repeat" in capsys.readouterr().err


def test_report_prints_each_aim_met_or_not_and_skipped_cases(capsys):
    from ckptsched.benchmarks import _aims, print_report

    ratios = {"c_over_modulo_function": 0.8, "python_over_c": 1.5}
    report = {"quick": True, "repeat": 3, "python": "3", "numpy": "2", "machine": "x",
              "cases": {"decision": {"ns_per_call": {"c": 50.0}, "ratios": ratios,
                                     "aims": _aims(ratios, ("c_over_modulo_function", "<=", 1.0, "issue 10"),
                                                   ("python_over_c", ">=", 2, "suite"))},
                        "callback": {"skipped": "transformers not installed"}}}
    print_report(report)
    out = capsys.readouterr().out
    assert "c_over_modulo_function <= 1" in out and ": met" in out
    assert "python_over_c >= 2" in out and "NOT met" in out
    assert "skipped: transformers not installed" in out
    assert "aims NOT met: decision: python_over_c >= 2" in out


def test_callback_case_is_skipped_without_transformers(monkeypatch):
    from ckptsched.benchmarks import case_callback

    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers fails
    assert case_callback(True, 1) == {"skipped": "transformers not installed"}


def test_uniform_case_takes_a_size():
    skip_without_c()
    from ckptsched.benchmarks import case_uniform

    case = case_uniform(8, False, 1, checkpoints=1000)
    assert case["runs"] == 125 and case["checkpoints"] == 1000
    assert set(case["ratios"]) == {"numpy_broadcast_over_c", "np_arange_over_c"}


def test_uniform_sizes_script_prints_a_row_per_shape():
    skip_without_c()
    env = package_env()
    script = str(BENCHMARKS / "uniform_sizes.py")
    out = subprocess.run([sys.executable, script, "--saves", "2,8", "--sizes", "1000,4e3",
                          "--repeat", "1"], env=env, capture_output=True, text=True,
                         timeout=300, cwd=PACKAGE_ROOT)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("2", "1000", "500"), ("2", "4000", "2000"), ("8", "1000", "125"), ("8", "4000", "500")]
    bad = subprocess.run([sys.executable, script, "--sizes", "many"], env=env,
                         capture_output=True, text=True, timeout=60, cwd=PACKAGE_ROOT)
    assert bad.returncode == 2 and "--sizes" in bad.stderr
    too_many = subprocess.run([sys.executable, script, "--saves", "20000"], env=env,
                              capture_output=True, text=True, timeout=60, cwd=PACKAGE_ROOT)
    assert too_many.returncode == 2 and "--saves must be at most 10000" in too_many.stderr

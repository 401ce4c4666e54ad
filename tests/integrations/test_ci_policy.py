"""With CKPTSCHED_REQUIRE_INTEGRATIONS=1 a missing framework, or any skip, fails these
tests; without it a missing framework skips them (users without the extras)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).resolve().parent / "conftest.py"

TESTS = '''
import pytest

def test_needs_lightning(lightning):
    pass

def test_skips():
    pytest.skip("for no reason")

def test_passes():
    pass
'''


def run_pytest(tmp_path, required):
    suite = tmp_path / "suite"
    suite.mkdir()
    shutil.copy(CONFTEST, suite / "conftest.py")
    (suite / "test_policy.py").write_text(TESTS)
    (suite / "pytest.ini").write_text("[pytest]\n")
    blocked = tmp_path / "blocked" / "torch"  # and so lightning, which needs it
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('torch is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "blocked"),
                                                        os.environ.get("PYTHONPATH", "")])}
    env.pop("CKPTSCHED_REQUIRE_INTEGRATIONS", None)
    if required:
        env["CKPTSCHED_REQUIRE_INTEGRATIONS"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(suite)], capture_output=True, text=True, env=env, cwd=suite)


def test_missing_packages_skip_for_users(tmp_path):
    result = run_pytest(tmp_path, required=False)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped" in result.stdout


def test_missing_packages_and_skips_fail_in_ci(tmp_path):
    result = run_pytest(tmp_path, required=True)
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed, 1 error" in result.stdout  # the fixture's failure is an error
    assert "torch is required (CKPTSCHED_REQUIRE_INTEGRATIONS=1)" in result.stdout
    assert "forbids skips here" in result.stdout


def collected_files(tmp_path, required):
    """The test files the conftest collects from a folder holding one test per file: the
    emulation's test_axolotl.py, two real-Axolotl test files and another test."""
    suite = tmp_path / ("required" if required else "optional")
    suite.mkdir()
    shutil.copy(CONFTEST, suite / "conftest.py")
    files = ("test_other.py", "test_axolotl.py", "test_axolotl_real.py",
             "test_axolotl_agreement.py")
    for name in files:
        (suite / name).write_text("def test_it():\n    pass\n")
    (suite / "pytest.ini").write_text("[pytest]\n")
    env = {key: value for key, value in os.environ.items()
           if key not in ("CKPTSCHED_REQUIRE_INTEGRATIONS", "CKPTSCHED_REQUIRE_AXOLOTL")}
    if required:
        env["CKPTSCHED_REQUIRE_AXOLOTL"] = "1"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--collect-only"], capture_output=True, text=True, env=env, cwd=suite)
    assert result.returncode == 0, result.stdout
    return {line.split("::")[0] for line in result.stdout.splitlines() if "::" in line}


def test_real_axolotl_tests_are_collected_only_where_axolotl_is(tmp_path):
    import importlib.util

    everywhere = {"test_other.py", "test_axolotl.py"}
    real = {"test_axolotl_real.py", "test_axolotl_agreement.py"}
    installed = importlib.util.find_spec("axolotl") is not None
    assert collected_files(tmp_path, required=False) == (everywhere | real if installed
                                                         else everywhere)
    # then a missing axolotl fails them
    assert collected_files(tmp_path, required=True) == everywhere | real


def test_ci_runs_the_real_axolotl_tests_in_their_environment_without_skips():
    """.ci/run installs the environment of .ci/install-axolotl.sh (in the background), waits
    for it, runs there every file the conftest keeps for it (beside the pure-Python pass), and
    fails on their failure or on a skip."""
    script = (CONFTEST.parents[2] / ".ci" / "run").read_text()
    assert "bash .ci/install-axolotl.sh" in script
    assert 'wait "$axolotl_install_pid"' in script
    run_line = next(line for line in script.splitlines()
                    if "pytest" in line and "tests/integrations/test_axolotl_*.py" in line)
    assert 'CKPTSCHED_REQUIRE_AXOLOTL=1 "$axolotl_venv/bin/python"' in run_line
    after = script.split(run_line, 1)[1]
    assert 'wait "$axolotl_tests_pid" || axolotl_status=$?' in after
    assert 'if [ "$axolotl_status" -ne 0 ]' in after and 'no_skips "$axolotl_log"' in after

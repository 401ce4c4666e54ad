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

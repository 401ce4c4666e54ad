"""Guard: the C backend must be the one in use whenever the environment expects it.

Without this test a broken build (or an in-tree checkout without the .so) would silently
run the whole suite on the pure-Python twin and pass.
"""
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import ckptsched
from ckptsched import _backend

PACKAGE_ROOT = str(Path(ckptsched.__file__).resolve().parent.parent)


def no_extensions_requested() -> bool:
    """Read from the environment, not from the library under test."""
    return os.environ.get("CKPTSCHED_NO_EXTENSIONS", "").strip() not in ("", "0")


def test_the_backend_in_use_is_the_one_the_environment_asks_for():
    """C whenever it is expected (CPython, CKPTSCHED_NO_EXTENSIONS unset), Python otherwise."""
    if _backend.EXPECTED_C:
        assert ckptsched.BACKEND == "c", (
            "the C extension was expected but ckptsched runs on the "
            f"{ckptsched.BACKEND!r} backend: rebuild with `python3 setup.py build_ext --inplace`")
        assert "c" in _backend.available()
        # the sweep kernels are a second extension: it must have loaded too
        assert _backend.sweep_impl.NAME == "c", "the C sweep extension (_sweep_c) did not load"
    else:
        assert ckptsched.BACKEND == "python"
        assert _backend.sweep_impl.NAME == "python"


def test_expected_c_follows_the_environment():
    expected = not no_extensions_requested() and platform.python_implementation() == "CPython"
    assert _backend.EXPECTED_C is expected


def test_backend_flag_matches_the_module_in_use():
    assert ckptsched.BACKEND in ("c", "python")
    assert _backend.impl.NAME == ckptsched.BACKEND == _backend.NAME


def _backend_in_subprocess(value):
    env = {k: v for k, v in os.environ.items() if k != "CKPTSCHED_NO_EXTENSIONS"}
    if value is not None:
        env["CKPTSCHED_NO_EXTENSIONS"] = value
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", "import ckptsched; print(ckptsched.BACKEND)"],
                         env=env, capture_output=True, text=True, timeout=60, check=True,
                         cwd=PACKAGE_ROOT)
    return out.stdout.strip()


@pytest.mark.parametrize("value", ["1", "yes"])
def test_no_extensions_env_var_selects_python_in_a_fresh_interpreter(value):
    assert _backend_in_subprocess(value) == "python"


@pytest.mark.parametrize("value", [None, "", "0"])
def test_without_the_env_var_a_fresh_interpreter_loads_c(value):
    """The extension is built wherever the suite runs (CI builds it in both passes)."""
    assert "c" in _backend.available(), "the C extension is not importable"
    assert _backend_in_subprocess(value) == "c"


def test_use_switches_and_restores():
    before = _backend.NAME
    for name in _backend.available():
        with _backend.use(name) as impl:
            assert _backend.NAME == name and impl.NAME == name and _backend.impl is impl
        assert _backend.NAME == before
    with pytest.raises(ValueError, match="fortran"):
        with _backend.use("fortran"):
            pass
    assert _backend.NAME == before

"""Shared fixtures: the backend matrix and the hypothesis profiles.

Backends
--------
ckptsched has two backends with one API: "c" (the extension modules) and "python" (their
pure-Python twins).  Two fixtures, one idea each:

- `backend`: the test runs once per backend, with the facade (Run, Schedule, sweep)
  switched to it; the fixture's value is the schedule module of that backend.
- `backends`: {"c": module, "python": module}, for tests that compare the two directly.

`--backend c` / `--backend python` restricts both to one backend (default: both).  A backend
that cannot be imported fails the test, except the "c" backend when the environment asked
for none (CKPTSCHED_NO_EXTENSIONS=1 and the extension is really absent): a missing
extension must never pass silently as a green run of the Python twin.

Hypothesis profiles (HYPOTHESIS_PROFILE=...)
--------------------------------------------
- `dev` (default): 100 examples, random, with the example database (finds and replays).
- `ci`: derandomized (fixed seed), no database, 300 examples: the same commit always draws
  the same examples, so a landing never depends on luck.
- `wide`: 100x the dev examples, random: the deep search a developer runs on purpose
  before submitting (README, "Contributing").
None has a deadline: the first call into numpy or an extension can be slow.
"""
from __future__ import annotations

import os
from types import ModuleType
from typing import Iterator

import pytest
from hypothesis import HealthCheck, settings

from ckptsched import _backend

ALL_BACKENDS = ("c", "python")

# Function-scoped fixtures (`backend`) are entered once per test function; every hypothesis
# example of that test runs on the same backend, which is what we want.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                     HealthCheck.too_slow,
                                                     HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=100, **_COMMON)
settings.register_profile("ci", max_examples=300, derandomize=True, database=None,
                          print_blob=True, **_COMMON)
settings.register_profile("wide", max_examples=10_000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=("both",) + ALL_BACKENDS, default="both",
                     help="run the backend-parametrized tests on one backend only")


def _selected(config: pytest.Config) -> tuple[str, ...]:
    choice = config.getoption("--backend")
    return ALL_BACKENDS if choice == "both" else (choice,)


def _no_extensions_requested() -> bool:
    """CKPTSCHED_NO_EXTENSIONS is set (read from the environment, not from the library)."""
    return os.environ.get("CKPTSCHED_NO_EXTENSIONS", "").strip() not in ("", "0")


def _importable(name: str) -> bool:
    """Whether backend `name` is importable, for both parts (schedule and sweep); fails the
    test when "c" is missing although the environment did not ask for that."""
    if name in _backend.available("schedule") and name in _backend.available("sweep"):
        return True
    if name == "c" and _no_extensions_requested():
        return False
    pytest.fail(f"backend {name!r} is not importable but CKPTSCHED_NO_EXTENSIONS is not set: "
                "build it with `python3 setup.py build_ext --inplace` (or `pip install .`)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        names = _selected(metafunc.config)
        metafunc.parametrize("backend", names, ids=names, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The schedule module of one backend, active for the facade during the test."""
    name = request.param
    if not _importable(name):
        pytest.skip(f"backend {name!r} is not built (CKPTSCHED_NO_EXTENSIONS is set)")
    with _backend.use(name) as impl:
        assert _backend.NAME == name
        yield impl
    assert _backend.impl.NAME == _backend.NAME  # `use` put the default back


@pytest.fixture
def backends(request: pytest.FixtureRequest) -> dict[str, ModuleType]:
    """The schedule modules of the selected, importable backends, by name (for tests that
    compare backends directly; switch the facade with `ckptsched._backend.use(name)`)."""
    found = _backend.available("schedule")
    return {name: found[name] for name in _selected(request.config) if _importable(name)}


@pytest.fixture
def quiet_schedules() -> Iterator[None]:
    """Silence the "ckptsched" logger (info diagnostics) for tests that build many schedules."""
    import logging

    logger = logging.getLogger("ckptsched")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    yield
    logger.setLevel(level)

"""Shared fixtures: the backend matrix and the hypothesis profiles.

`backend` runs a test once per backend ("c", "python"), with the facade (Run, Schedule)
switched to that backend through `_backend.use`.  The "c" parameter always exists: when the
extension cannot be imported it is skipped only under CKPTSCHED_NO_EXTENSIONS=1 and fails
otherwise (a missing extension must never pass silently as a green run of the Python twin).

Hypothesis profiles: HYPOTHESIS_PROFILE=ci runs more examples; the default keeps the suite
fast.  Neither has a deadline (the first call into numpy / the extension can be slow).
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from ckptsched import _backend

BACKENDS = ("c", "python")

# The `backend` fixture is function-scoped: it is entered once per test function, and every
# hypothesis example of that test runs on the same backend, which is what we want.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                     HealthCheck.too_slow])
settings.register_profile("default", max_examples=100, **_COMMON)
settings.register_profile("ci", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def no_extensions_requested() -> bool:
    """CKPTSCHED_NO_EXTENSIONS is set (read from the environment, not from the library)."""
    return os.environ.get("CKPTSCHED_NO_EXTENSIONS", "").strip() not in ("", "0")


def activate(name):
    """Context manager: the facade on backend `name`; skip / fail when it is missing."""
    if name not in _backend.available():
        if no_extensions_requested():
            pytest.skip(f"backend {name!r} not built (CKPTSCHED_NO_EXTENSIONS is set)")
        pytest.fail(f"backend {name!r} is not importable but CKPTSCHED_NO_EXTENSIONS is not set: "
                    "build it with `python3 setup.py build_ext --inplace`")
    return _backend.use(name)


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend(request):
    """The backend module (`_core` or `_reference`), active for the facade during the test."""
    with activate(request.param) as impl:
        assert _backend.NAME == request.param
        yield impl
    # _backend.use must put the default backend back
    assert _backend.impl.NAME == _backend.NAME


@pytest.fixture
def use_backend():
    """`activate` as a fixture: `with use_backend("c"): ...` (skips / fails like `backend`)."""
    return activate


def compared_backends() -> dict:
    """The backends a differential test compares: both; only "python" when the extension is
    missing under CKPTSCHED_NO_EXTENSIONS (the tests then still check it against their
    models); a missing extension without that variable fails the test."""
    found = _backend.available()
    if "c" not in found and not no_extensions_requested():
        pytest.fail("the C backend is not importable but CKPTSCHED_NO_EXTENSIONS is not set: "
                    "build it with `python3 setup.py build_ext --inplace`")
    return {name: found[name] for name in BACKENDS if name in found}


@pytest.fixture
def available_backends():
    """`compared_backends()` as a fixture: {"c": _core, "python": _reference} (see there)."""
    return compared_backends()


@pytest.fixture
def backends():
    """Both backend modules, {"c": _core, "python": _reference}, for differential tests.

    Fails (or skips under CKPTSCHED_NO_EXTENSIONS) like `backend` when "c" is missing."""
    found = _backend.available()
    for name in BACKENDS:
        if name not in found:
            with activate(name):
                pass
    return {name: found[name] for name in BACKENDS}

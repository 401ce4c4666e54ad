"""Pick the backend: the C extension when it is built, else the pure-Python reference.

Set CKPTSCHED_NO_EXTENSIONS=1 to force the reference backend.  `NAME` is "c" or
"python"; `EXPECTED_C` says whether the environment asked for the C backend (the
guard test uses it to fail when the extension should have loaded but did not).
"""
from __future__ import annotations

import contextlib
import logging
import os
import platform

_log = logging.getLogger("ckptsched")

NO_EXTENSIONS = os.environ.get("CKPTSCHED_NO_EXTENSIONS", "").strip() not in ("", "0")
EXPECTED_C = not NO_EXTENSIONS and platform.python_implementation() == "CPython"

if NO_EXTENSIONS:
    from . import _reference as impl
    _log.debug("ckptsched: CKPTSCHED_NO_EXTENSIONS is set; using the pure-Python backend")
else:
    try:
        from . import _core as impl
    except ImportError as exc:  # no compiler at install time, or an in-tree checkout
        from . import _reference as impl
        _log.debug("ckptsched: C extension unavailable (%s); using the pure-Python backend", exc)

NAME: str = impl.NAME

# The sweep kernels (`ckptsched.sweep`): a second extension, chosen the same way.
if NO_EXTENSIONS:
    from . import _sweep_reference as sweep_impl
else:
    try:
        from . import _sweep_c as sweep_impl
    except ImportError as exc:
        from . import _sweep_reference as sweep_impl
        _log.debug("ckptsched: C sweep extension unavailable (%s); using the pure-Python sweep", exc)


def available() -> dict:
    """The importable backends by name: {"python": module, "c": module (when built)}."""
    from . import _reference
    found = {"python": _reference}
    try:
        from . import _core
        found["c"] = _core
    except ImportError:
        pass
    return found


def available_sweep() -> dict:
    """The importable sweep backends by name: {"python": module, "c": module (when built)}."""
    from . import _sweep_reference
    found = {"python": _sweep_reference}
    try:
        from . import _sweep_c
        found["c"] = _sweep_c
    except ImportError:
        pass
    return found


@contextlib.contextmanager
def use(name: str):
    """Run the facade on backend `name` ("c" or "python") inside a with-block (for tests
    and benchmarks).  Not thread-safe: it swaps the module-wide backend."""
    global impl, NAME, sweep_impl
    backends, sweeps = available(), available_sweep()
    if name not in backends or name not in sweeps:
        have = sorted(set(backends) & set(sweeps))
        raise ValueError(f"backend {name!r} is not available (have: {have})")
    saved = impl, NAME, sweep_impl
    impl, NAME, sweep_impl = backends[name], name, sweeps[name]
    try:
        yield impl
    finally:
        impl, NAME, sweep_impl = saved

"""Pick the backend: the C extensions when they are built, else the pure-Python twins.

Two parts have a C module and a pure-Python twin with the same API: "schedule"
(`_schedule_c` / `_schedule_py`, behind Run and Schedule) and "sweep" (`_sweep_c` /
`_sweep_py`, behind `ckptsched.sweep`).  Set CKPTSCHED_NO_EXTENSIONS=1 to force
the twins.  `NAME` is the backend really in use, "c" or "python" (also inside `use`);
`EXPECTED_C` says whether the environment asked for C (the guard test uses it to fail
when an extension should have loaded but did not).

Type checkers see the schedule part through the stub `_schedule_c.pyi`, the API both
twins share.
"""
from __future__ import annotations

import contextlib
import importlib
import logging
import os
import platform
from types import ModuleType
from typing import TYPE_CHECKING, Dict, Iterator

__all__ = ["EXPECTED_C", "NAME", "NO_EXTENSIONS", "available", "impl", "name", "sweep_impl", "use"]

_log = logging.getLogger("ckptsched")

NO_EXTENSIONS = os.environ.get("CKPTSCHED_NO_EXTENSIONS", "").strip() not in ("", "0")
EXPECTED_C = not NO_EXTENSIONS and platform.python_implementation() == "CPython"

# part -> (C module, pure-Python module)
_MODULES = {"schedule": ("_schedule_c", "_schedule_py"), "sweep": ("_sweep_c", "_sweep_py")}


def available(part: str = "schedule") -> Dict[str, ModuleType]:
    """The importable modules of `part` by backend name: {"python": ..., "c": ... (when built)}."""
    c_module, python_module = _MODULES[part]
    found = {"python": importlib.import_module(f".{python_module}", __package__)}
    try:
        found["c"] = importlib.import_module(f".{c_module}", __package__)
    except ImportError as exc:  # no compiler at install time, or an in-tree checkout
        _log.debug("ckptsched: C extension %s unavailable (%s)", c_module, exc)
    return found


def _default(part: str) -> ModuleType:
    found = available(part)
    if NO_EXTENSIONS or "c" not in found:
        _log.debug("ckptsched: using the pure-Python %s backend%s", part,
                   " (CKPTSCHED_NO_EXTENSIONS is set)" if NO_EXTENSIONS else "")
        return found["python"]
    return found["c"]


if TYPE_CHECKING:
    from . import _schedule_c as impl  # the stub: what both schedule twins provide
else:
    impl = _default("schedule")
sweep_impl: ModuleType = _default("sweep")
NAME: str = impl.NAME


def name() -> str:
    """The backend the facade uses right now: "c" or "python"."""
    return NAME


@contextlib.contextmanager
def use(name: str) -> Iterator[ModuleType]:
    """Run the facade on backend `name` ("c" or "python") inside a with-block (for tests
    and benchmarks).  Not thread-safe: it swaps the module-wide backends."""
    global impl, NAME, sweep_impl
    schedules, sweeps = available("schedule"), available("sweep")
    if name not in schedules or name not in sweeps:
        have = sorted(set(schedules) & set(sweeps))
        raise ValueError(f"backend {name!r} is not available (have: {have})")
    saved = impl, NAME, sweep_impl
    impl, NAME, sweep_impl = schedules[name], name, sweeps[name]
    try:
        yield impl
    finally:
        impl, NAME, sweep_impl = saved

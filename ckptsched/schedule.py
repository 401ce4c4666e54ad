"""`Schedule`: the exact steps at which a run saves (or evaluates, or logs)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _backend
from ._common import check_step
from ._diagnose import _gap_diagnostics, _min_interval_diagnostics, _schedule_diagnostics
from ._numbers import parse_every, show, step_range, to_bool, to_int, to_rational, to_step_list
from ._rules import Listed, Request, compile_request
from .diagnostics import Diagnostic, report
from .run import IntLike, Run

if TYPE_CHECKING:
    from ._schedule_c import Engine

#: The most steps a schedule will hold in memory (`steps`, min_interval, max_gap): 1 GiB.
MAX_MATERIALIZED = 2**27

#: What ratio= may be given as: a float (its simplest rational: 0.07 is 7/100; numpy
#: float32 / float16 in their own precision), a Fraction or a Decimal.
RatioLike = Union[float, Fraction, Decimal, "np.floating[Any]"]

_DEFAULTS: Dict[str, Any] = dict(
    saves_per_epoch=None, count=None, every=None, start=None, until=None, ratio=None, at=None,
    first=False, final=True, min_interval=0, max_gap=None, strict=False, name="save")


def _restore(run: Run, kwargs: Dict[str, Any]) -> Schedule:
    return Schedule._build(run, kwargs, log=False)


def _listed_steps(at: object) -> Listed:
    """at= as sorted distinct ints, or a `range` as an increasing range (O(1), never iterated)."""
    if isinstance(at, range):
        return step_range(at)
    return tuple(to_step_list(at, "at"))


def _name(value: object) -> str:
    """name= checked: a non-empty str."""
    if not isinstance(value, str):
        raise TypeError(f"name must be a str naming what the schedule is for (\"save\", "
                        f"\"eval\", \"log\", ...), got {show(value)} ({type(value).__name__})")
    if not value.strip():
        raise ValueError(f"name must be a non-empty str such as \"save\", \"eval\" or \"log\", "
                         f"got {value!r}")
    return value


def _request(kwargs: Dict[str, Any]) -> Request:
    """Validate the Schedule arguments; errors name the argument."""
    k = kwargs

    def opt_int(name: str) -> Optional[int]:
        return None if k[name] is None else to_int(k[name], name)

    every = None if k["every"] is None else parse_every(k["every"], "every")
    ratio = None
    if k["ratio"] is not None:
        ratio = to_rational(k["ratio"], "ratio")
        if ratio >= 1:
            raise ValueError(f"ratio must be a fraction of the run between 0 and 1 "
                             f"(exclusive), got {show(k['ratio'])}; use every= for an interval "
                             "in steps")
    return Request(
        saves_per_epoch=opt_int("saves_per_epoch"), count=opt_int("count"),
        every=every, every_given=k["every"], start=opt_int("start"), until=opt_int("until"),
        ratio=ratio, ratio_given=k["ratio"],
        at=() if k["at"] is None else _listed_steps(k["at"]),
        first=to_bool(k["first"], "first"), final=to_bool(k["final"], "final"),
        name=_name(k["name"]))


class Schedule:
    """The sorted union of a run's save rules, exact, with diagnostics.

    Rules (any combination; steps are 1-based optimizer steps within [1, T]):
      saves_per_epoch=k  k evenly spaced saves per epoch, always at every epoch end
      count=n            n evenly spaced saves over the run, the last at T
      every=n | "2ep" | "10000sp" | "1e9tok"   every n steps (from `start`, up to `until`)
                         or at each boundary of n epochs / samples / tokens
      ratio=r            transformers' meaning of a ratio 0 < r < 1: every ceil(T*r) steps
      at=[...]           listed steps (any iterable of ints; a range is handled in O(1));
                         those outside 1..T are dropped (OUT_OF_RANGE)
      first=False        also step 1;   final=True: also step T
      min_interval=0     drop saves closer than this to the previous kept one (T is kept)
      max_gap=None       warn (LONG_GAP) when unsaved work can exceed this many steps
      strict=False       raise ScheduleError instead of reporting warnings
      name="save"        what the steps are for ("save", "eval", "log", or a name of one's
                         own): diagnostics name it (data["schedule"], "eval schedule: ...")
                         and describe its steps accordingly (evaluations, not saves)

    Queries never build the step array: `should_save`, `due` and `next_after` are O(1) per
    arithmetic rule (O(log n) for listed steps).  Schedules are immutable and picklable.

    should_save(step) -> bool: True when `step` (completed optimizer steps, 1-based) is a
    scheduled step.  TypeError for a non-integer step (bool, float, str, ...), ValueError
    for a negative one; a step past int64 is past the run.  It is the engine's own
    membership test, bound per schedule, so a call is one call into the backend (no
    Python frame of the facade on the per-step path).
    """

    __slots__ = ("_run", "_diagnostics", "_kwargs", "_key", "_engine", "_steps", "should_save")
    # Declared for type checkers; set once in _setup (the instance refuses setattr).
    should_save: Callable[[IntLike], bool]
    _run: Run
    _diagnostics: Tuple[Diagnostic, ...]
    _kwargs: Dict[str, Any]
    _key: Tuple[object, ...]
    _engine: Engine
    _steps: Optional[npt.NDArray[np.int64]]

    def __init__(self, run: Run, *, saves_per_epoch: IntLike | None = None,
                 count: IntLike | None = None, every: IntLike | str | None = None,
                 start: IntLike | None = None, until: IntLike | None = None,
                 ratio: RatioLike | None = None, at: Iterable[IntLike] | None = None,
                 first: bool = False, final: bool = True, min_interval: IntLike = 0,
                 max_gap: IntLike | None = None, strict: bool = False,
                 name: str = "save") -> None:
        kwargs = dict(saves_per_epoch=saves_per_epoch, count=count, every=every, start=start,
                      until=until, ratio=ratio, at=at, first=first, final=final,
                      min_interval=min_interval, max_gap=max_gap, strict=strict, name=name)
        self._setup(run, kwargs, log=True)

    @classmethod
    def _build(cls, run: Run, kwargs: Dict[str, Any], *, log: bool) -> Schedule:
        self = cls.__new__(cls)
        self._setup(run, {**_DEFAULTS, **kwargs}, log=log)
        return self

    def _setup(self, run: Run, kwargs: Dict[str, Any], *, log: bool) -> None:
        if not isinstance(run, Run):
            raise TypeError(f"run must be a ckptsched.Run, got {type(run).__name__}")
        req = _request(kwargs)
        min_interval = to_int(kwargs["min_interval"], "min_interval", minimum=0)
        max_gap = None if kwargs["max_gap"] is None else to_int(kwargs["max_gap"], "max_gap")
        strict = to_bool(kwargs["strict"], "strict")
        compiled = compile_request(run, req)
        engine = _backend.impl.Engine([rule for _, rule in compiled.rules], compiled.extra)
        diags = list(compiled.diagnostics)
        steps = None
        if min_interval > 0:
            full = _materialize(engine, "min_interval", min_interval)
            steps = _read_only(_backend.impl.min_interval(
                full, min_interval, run.total_steps if req.final else 0))
            engine = _backend.impl.Engine([], steps)
            diags += _min_interval_diagnostics(run, req, full, steps, min_interval)
        diags += _schedule_diagnostics(run, req, engine)
        if max_gap is not None:
            diags += _gap_diagnostics(run, req, engine, steps, max_gap)
        given = {k: v for k, v in kwargs.items() if not _is_default(k, v)}
        if "at" in given and not isinstance(given["at"], range):
            given["at"] = list(req.at)  # plain ints: comparable, hashable, picklable
        key = (run, req.saves_per_epoch, req.count, req.every, req.start, req.until,
               req.ratio, req.at, req.first, req.final, min_interval, max_gap, strict, req.name)
        for name, value in (("_run", run), ("_diagnostics", tuple(diags)), ("_kwargs", given),
                            ("_key", key), ("_engine", engine), ("_steps", steps),
                            ("should_save", engine.contains)):
            object.__setattr__(self, name, value)
        if log:
            report(self.diagnostics, strict=strict)

    # ---- what it was built from -------------------------------------------------------

    @property
    def run(self) -> Run:
        """The run this schedule's steps belong to."""
        return self._run

    @property
    def name(self) -> str:
        """What the steps are for: "save" (the default), "eval", "log", or a name of one's own."""
        name: str = self._key[-1]  # type: ignore[assignment]
        return name

    @property
    def diagnostics(self) -> Tuple[Diagnostic, ...]:
        """What could not be honoured as requested, and what to know (see `Diagnostic`)."""
        return self._diagnostics

    # ---- queries ------------------------------------------------------------------

    def next_after(self, step: IntLike) -> int | None:
        """The first scheduled step after `step`, or None after the last."""
        return self._engine.next_after(step)  # type: ignore[arg-type]

    def due(self, prev: IntLike, step: IntLike) -> bool:
        """Was any scheduled step in (prev, step]?  For loops whose counter jumps."""
        prev = check_step(prev, "prev")
        step = check_step(step, "step")
        if prev > step:
            raise ValueError(f"prev must be <= step, got prev={show(prev)}, step={show(step)}")
        following = self._engine.next_after(prev)
        return following is not None and following <= step

    @property
    def steps(self) -> npt.NDArray[np.int64]:
        """All scheduled steps: a read-only, sorted, unique int64 numpy array."""
        if self._steps is None:
            object.__setattr__(self, "_steps", _materialize(self._engine, "steps", None))
            assert self._steps is not None
        return self._steps

    @property
    def last(self) -> int | None:
        """The last scheduled step, or None when the schedule is empty."""
        return self._engine.last() or None

    def __len__(self) -> int:
        if self._steps is not None:
            return len(self._steps)
        try:
            return self._engine.count(MAX_MATERIALIZED)
        except ValueError:
            raise ValueError("len() of this schedule would have to walk more than "
                             f"{MAX_MATERIALIZED} steps of several overlapping rules") from None

    def __contains__(self, step: object) -> bool:
        return self._engine.contains(step)  # type: ignore[arg-type]  # checked at run time

    def __iter__(self) -> Iterator[int]:
        return iter_steps(self._engine)

    # ---- identity -------------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Schedule is immutable; build a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Schedule is immutable; build a new one")

    def __reduce__(self) -> Tuple[Any, Tuple[Run, Dict[str, Any]]]:
        return (_restore, (self.run, dict(self._kwargs)))

    def __eq__(self, other: object) -> bool:
        """Equal when built from the same run and the same exact request."""
        return isinstance(other, Schedule) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        args = "".join(f", {k}={_exact_repr(v)}" for k, v in self._kwargs.items())
        return f"Schedule({self.run!r}{args})"


def _exact_repr(value: object) -> str:
    """repr(value), exact even for ints too long for str() (written in hex then)."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return repr(value)
        except ValueError:
            return hex(value)
    if isinstance(value, range):
        step = "" if value.step == 1 else f", {_exact_repr(value.step)}"
        return f"range({_exact_repr(value.start)}, {_exact_repr(value.stop)}{step})"
    if isinstance(value, list):
        return "[" + ", ".join(_exact_repr(v) for v in value) + "]"
    return repr(value)


def iter_steps(engine: Engine) -> Iterator[int]:
    """An engine's steps in order, one next_after query at a time (never an array)."""
    step = engine.next_after(0)
    while step is not None:
        yield step
        step = engine.next_after(step)


def _is_default(name: str, value: object) -> bool:
    default = _DEFAULTS[name]
    return value is default or (type(value) is type(default) and value == default)


def _materialize(engine: Engine, name: str, value: object) -> npt.NDArray[np.int64]:
    """The engine's steps as a read-only array; ValueError naming `name` when too large."""
    try:
        steps = engine.fill(MAX_MATERIALIZED)
    except ValueError:
        what = "steps" if value is None else f"{name}={show(value)}"
        raise ValueError(
            f"{what} needs the whole schedule in memory, but it has more than "
            f"{MAX_MATERIALIZED} steps; use should_save / due / next_after / iteration, "
            "which never build it") from None
    return _read_only(steps)


def _read_only(steps: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """A view of `steps` that can never be made writeable again (its base is read-only)."""
    steps.flags.writeable = False
    view = steps.view()
    view.flags.writeable = False
    return view

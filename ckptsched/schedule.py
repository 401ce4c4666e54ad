"""`Schedule`: the exact steps at which a run saves (or evaluates, or logs)."""
from __future__ import annotations

from . import _backend
from ._common import check_step
from ._diagnose import _gap_diagnostics, _min_interval_diagnostics, _schedule_diagnostics
from ._numbers import parse_every, to_bool, to_int, to_rational, to_step_list
from ._rules import Request, compile_request
from .diagnostics import report
from .run import Run

#: The most steps a schedule will hold in memory (`steps`, min_interval, max_gap): 1 GiB.
MAX_MATERIALIZED = 2**27

_DEFAULTS = dict(saves_per_epoch=None, count=None, every=None, start=None, until=None,
                 ratio=None, at=None, first=False, final=True, min_interval=0, max_gap=None,
                 strict=False)


def _restore(run, kwargs):
    return Schedule._build(run, kwargs, log=False)


def _request(kwargs) -> Request:
    """Validate the Schedule arguments; errors name the argument."""
    k = kwargs
    opt_int = lambda name, minimum=1: (None if k[name] is None
                                       else to_int(k[name], name, minimum=minimum))
    every = None if k["every"] is None else parse_every(k["every"], "every")
    ratio = None
    if k["ratio"] is not None:
        ratio = to_rational(k["ratio"], "ratio")
        if ratio >= 1:
            raise ValueError(f"ratio must be a fraction of the run between 0 and 1 "
                             f"(exclusive), got {k['ratio']!r}; use every= for an interval in steps")
    return Request(
        saves_per_epoch=opt_int("saves_per_epoch"), count=opt_int("count"),
        every=every, every_given=k["every"], start=opt_int("start"), until=opt_int("until"),
        ratio=ratio, ratio_given=k["ratio"],
        at=() if k["at"] is None else tuple(to_step_list(k["at"], "at")),
        first=to_bool(k["first"], "first"), final=to_bool(k["final"], "final"))


class Schedule:
    """The sorted union of a run's save rules, exact, with diagnostics.

    Rules (any combination; steps are 1-based optimizer steps within [1, T]):
      saves_per_epoch=k  k evenly spaced saves per epoch, always at every epoch end
      count=n            n evenly spaced saves over the run, the last at T
      every=n | "2ep" | "10000sp" | "1e9tok"   every n steps (from `start`, up to `until`)
                         or at each boundary of n epochs / samples / tokens
      ratio=r            transformers' meaning of a ratio 0 < r < 1: every ceil(T*r) steps
      at=[...]           listed steps
      first=False        also step 1;   final=True: also step T
      min_interval=0     drop saves closer than this to the previous kept one (T is kept)
      max_gap=None       warn (LONG_GAP) when unsaved work can exceed this many steps
      strict=False       raise ScheduleError instead of logging warnings

    Queries never build the step array: `should_save`, `due` and `next_after` are O(1) per
    arithmetic rule (O(log n) for listed steps).  Schedules are immutable and picklable.
    """

    __slots__ = ("run", "diagnostics", "_kwargs", "_key", "_engine", "_steps")

    def __init__(self, run, *, saves_per_epoch=None, count=None, every=None, start=None,
                 until=None, ratio=None, at=None, first=False, final=True, min_interval=0,
                 max_gap=None, strict=False):
        kwargs = dict(saves_per_epoch=saves_per_epoch, count=count, every=every, start=start,
                      until=until, ratio=ratio, at=at, first=first, final=final,
                      min_interval=min_interval, max_gap=max_gap, strict=strict)
        self._setup(run, kwargs, log=True)

    @classmethod
    def _build(cls, run, kwargs, *, log):
        self = cls.__new__(cls)
        self._setup(run, {**_DEFAULTS, **kwargs}, log=log)
        return self

    def _setup(self, run, kwargs, *, log):
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
            diags += _gap_diagnostics(run, engine, steps, max_gap)
        given = {k: v for k, v in kwargs.items() if not _is_default(k, v)}
        if "at" in given:
            given["at"] = list(req.at)  # plain ints: comparable, hashable, picklable
        key = (run, req.saves_per_epoch, req.count, req.every, req.start, req.until,
               req.ratio, req.at, req.first, req.final, min_interval, max_gap, strict)
        for name, value in (("run", run), ("diagnostics", tuple(diags)), ("_kwargs", given),
                            ("_key", key), ("_engine", engine), ("_steps", steps)):
            object.__setattr__(self, name, value)
        if log:
            report(self.diagnostics, strict=strict)

    # ---- queries ------------------------------------------------------------------

    def should_save(self, step) -> bool:
        """True when `step` (completed optimizer steps, 1-based) is a scheduled step."""
        return self._engine.contains(step)

    def next_after(self, step):
        """The first scheduled step after `step`, or None after the last."""
        return self._engine.next_after(step)

    def due(self, prev, step) -> bool:
        """Was any scheduled step in (prev, step]?  For loops whose counter jumps."""
        prev = check_step(prev, "prev")
        step = check_step(step, "step")
        if prev > step:
            raise ValueError(f"prev must be <= step, got prev={prev}, step={step}")
        following = self._engine.next_after(prev)
        return following is not None and following <= step

    @property
    def steps(self):
        """All scheduled steps: a read-only, sorted, unique int64 numpy array."""
        if self._steps is None:
            object.__setattr__(self, "_steps", _materialize(self._engine, "steps", None))
        return self._steps

    @property
    def last(self):
        """The last scheduled step, or None when the schedule is empty."""
        return self._engine.last() or None

    def __len__(self):
        if self._steps is not None:
            return len(self._steps)
        try:
            return self._engine.count(MAX_MATERIALIZED)
        except ValueError:
            raise ValueError("len() of this schedule would have to walk more than "
                             f"{MAX_MATERIALIZED} steps of several overlapping rules") from None

    def __contains__(self, step):
        return self._engine.contains(step)

    def __iter__(self):
        return iter_steps(self._engine)

    # ---- identity -------------------------------------------------------------------

    def __setattr__(self, name, value):
        raise AttributeError("Schedule is immutable; build a new one")

    def __delattr__(self, name):
        raise AttributeError("Schedule is immutable; build a new one")

    def __reduce__(self):
        return (_restore, (self.run, dict(self._kwargs)))

    def __eq__(self, other):
        """Equal when built from the same run and the same exact request."""
        return isinstance(other, Schedule) and self._key == other._key

    def __hash__(self):
        return hash(self._key)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return f"Schedule({self.run!r}{args})"


def iter_steps(engine):
    """An engine's steps in order, one next_after query at a time (never an array)."""
    step = engine.next_after(0)
    while step is not None:
        yield step
        step = engine.next_after(step)


def _is_default(name, value) -> bool:
    default = _DEFAULTS[name]
    return value is default or (type(value) is type(default) and value == default)


def _materialize(engine, name, value):
    """The engine's steps as a read-only array; ValueError naming `name` when too large."""
    try:
        steps = engine.fill(MAX_MATERIALIZED)
    except ValueError:
        what = "steps" if value is None else f"{name}={value!r}"
        raise ValueError(
            f"{what} needs the whole schedule in memory, but it has more than "
            f"{MAX_MATERIALIZED} steps; use should_save / due / next_after / iteration, "
            "which never build it") from None
    return _read_only(steps)


def _read_only(steps):
    """A view of `steps` that can never be made writeable again (its base is read-only)."""
    steps.flags.writeable = False
    view = steps.view()
    view.flags.writeable = False
    return view

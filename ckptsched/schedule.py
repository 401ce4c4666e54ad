"""`Schedule`: the exact steps at which a run saves (or evaluates, or logs)."""
from __future__ import annotations

from . import _backend
from ._common import RULE_EVEN, RULE_EVERY, check_step
from ._frameworks import (axolotl_save_steps, transformers_engine, transformers_interval,
                          transformers_missed_epoch_ends)
from ._numbers import parse_every, to_bool, to_int, to_rational, to_step_list
from ._rules import Request, _preview, compile_request
from .diagnostics import make, report
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


def _schedule_diagnostics(run, req, engine):
    T = run.total_steps
    out = []
    last = engine.last()
    if last == 0:
        out.append(make("NO_SAVES", f"this schedule saves nothing: all {T} steps of work would "
                        "be lost; add a rule or keep final=True", total_steps=T))
    elif not req.final and last < T:
        lost = T - last  # a count for the message, not a schedule step
        out.append(make("FINAL_NOT_SAVED",
                        f"the last save is at step {last} of {T}: the final {lost} steps of work "
                        "are never saved; pass final=True or end the run on a scheduled step",
                        last_save=last, total_steps=T, steps_lost=lost))
    if req.saves_per_epoch is not None:
        out += _axolotl_diagnostics(run, req)
    return out


def _axolotl_diagnostics(run, req):
    """HF_MISMATCH: what Axolotl's save_steps = 1/(saves_per_epoch * num_epochs) does.

    O(1) in the number of epochs (plus the MAX_LISTED_EPOCH_ENDS missed ends it lists)."""
    if run.epochs is None:
        return []
    k, T, S = req.saves_per_epoch, run.total_steps, run.steps_per_epoch
    epochs = run._given.get("epochs", run.epochs)
    ratio = axolotl_save_steps(k, epochs)
    if ratio >= 1:
        return []
    interval = transformers_interval(T, ratio)
    hf = transformers_engine(T, interval)
    exact = _backend.impl.Engine([(RULE_EVEN, S, k, T)], [T] if req.final else [])
    n_missed, missed = transformers_missed_epoch_ends(S, T, interval, MAX_LISTED_EPOCH_ENDS)
    hf_count, count = hf.count(MAX_MATERIALIZED), exact.count(MAX_MATERIALIZED)
    if hf_count == count and not n_missed:
        return []
    return [make(
        "HF_MISMATCH",
        f"saves_per_epoch={k}: Axolotl sets save_steps = 1/({k}*{epochs!r}) = {ratio!r}, and "
        f"transformers saves every ceil({T} * {ratio!r}) = {interval} steps: "
        + (f"{hf_count} saves instead of {count}" if hf_count != count
           else f"{count} saves, but at other steps")
        + (f", missing epoch ends {_preview(missed[:8])}" if n_missed else "")
        + (f", ... ({n_missed} in all)" if n_missed > 8 else ""),
        framework="axolotl", hf_interval=interval, hf_count=hf_count, count=count,
        missed_epoch_ends=missed)]


#: The most epoch ends a diagnostic lists (runs may have billions of epochs).
MAX_LISTED_EPOCH_ENDS = 100_000


def _min_interval_diagnostics(run, req, full, kept, min_interval):
    out = []
    T = run.total_steps
    kept_set = set(kept.tolist())
    dropped = [int(s) for s in full if int(s) not in kept_set]
    # T survives only because it is forced when thinning without the force would drop it
    forced_closer = req.final and not _backend.impl.Engine(
        [], _backend.impl.min_interval(full, min_interval, 0)).contains(T)
    if dropped:
        out.append(make("MIN_INTERVAL_DROPPED",
                        f"min_interval={min_interval} dropped {len(dropped)} of {len(full)} "
                        f"scheduled steps: {_preview(dropped)}",
                        dropped=dropped, min_interval=min_interval))
    if forced_closer:
        before = int(kept[-2]) if len(kept) > 1 else None
        out.append(make("UNEVEN_TAIL",
                        f"the final save at {T} is kept although it comes less than "
                        f"min_interval={min_interval} steps after the save at {before} "
                        "(a forced final save is never dropped)",
                        min_interval=min_interval, previous_save=before, total_steps=T))
    epoch_based = req.saves_per_epoch is not None or (
        req.every is not None and req.every[1] == "epochs" and req.every[0].denominator == 1)
    if epoch_based and dropped and run.steps_per_epoch is not None:
        S = run.steps_per_epoch
        missed = [s for s in dropped if s % S == 0]  # scheduled epoch ends that were dropped
        if missed:
            out.append(make("EPOCH_END_MISSED",
                            f"min_interval={min_interval} drops the saves at epoch ends "
                            f"{_preview(missed)}; lower min_interval to keep every epoch end",
                            missed_epoch_ends=missed))
    return out


def _gap_diagnostics(run, engine, steps, max_gap):
    if steps is None:
        steps = _materialize(engine, "max_gap", max_gap)
    gap, end = _backend.impl.longest_gap(steps, run.total_steps)
    if gap <= max_gap:
        return []
    return [make("LONG_GAP",
                 f"up to {gap} steps of work go unsaved (the stretch ending at step {end}), more "
                 f"than max_gap={max_gap}; add every={max_gap} or more saves",
                 longest_gap=gap, ends_at=end, max_gap=max_gap)]

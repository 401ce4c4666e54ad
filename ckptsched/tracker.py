"""`Tracker`: save decisions for what is not known before training starts.

A `Schedule` answers for steps fixed in advance.  A Tracker adds what only the running
loop knows:

* progress that varies per step (packed sequences, batch-size ramps): `every="50000tok"`
  or `every="10000sp"` save at the first step whose cumulative tokens (samples) reach each
  boundary: boundary i lies at i*n units, and a step saves when a boundary lies in
  (total before it, total after it]; one save per step however many boundaries it crosses;
* wall-clock rules (`every_seconds=`), decided on rank 0 alone;
* requests: `request_save()`, and an opt-in SIGTERM handler for pre-emption.

    tracker = Tracker(Schedule(run, saves_per_epoch=4), every="2e6tok", every_seconds=1800,
                      handle_sigterm=True)
    for step in ...:                       # once per optimizer step, 1-based
        decision = tracker.update(step, tokens=tokens_in_this_step)
        if decision:
            save(step, tracker=tracker.state_dict())
        if decision.stop:
            break                           # pre-empted: saved, now leave
    tracker.finish()                        # warns when the final save is missing

Retention: with `keep=Retention(...)` the Tracker counts the checkpoints its save decisions
wrote, and `to_delete()` -- called after each completed save -- says which of them to delete
now (and with `delete=`, deletes them on rank 0 through that callback):

    tracker = Tracker(schedule, keep=Retention(keep_last=2, keep_every="1ep"),
                      delete=lambda step: shutil.rmtree(f"ckpt/{step}", ignore_errors=True))
    ...
        if decision:
            save(step, tracker=tracker.state_dict())
            tracker.to_delete()              # every rank; only rank 0 calls delete

After `load_state_dict`, call `to_delete()` once: it finishes the deletions a crash between a
save and its retention interrupted (and deletes nothing otherwise).

Cumulative samples and tokens are Python ints, exact at any size: a run may count past
2**63 - 1 tokens, and its `state_dict()` still loads.  Nothing the Tracker counts ever goes
into a tensor (only the votes below are synced), so int64 is never needed for them.  Steps
stay within int64 (an OverflowError naming `step` past it), like everywhere in ckptsched.

Distributed runs: when `torch.distributed` is initialised (and has more than one rank),
every `update` combines one small vote per rank through `sync` so that every rank takes
the same decision at every step: rank 0 alone votes on the clock (ranks' clocks are never
compared), every rank votes for its own requests and rules, and all act on the agreed
result.  `sync(vote: int) -> int` is called on every rank at the same update and must
return the same value everywhere; the default is an all-reduce (max) of a one-element
int64 tensor, which for the clock is a broadcast from rank 0.  `sync=False` turns it off.
"""
from __future__ import annotations

import importlib
import numbers
import operator
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import FrameType, ModuleType, TracebackType
from typing import Any, Literal, Optional, SupportsIndex, TypedDict, TypeVar, Union

import numpy as np

from ._numbers import parse_every, to_bool, to_int, to_rational
from .diagnostics import Diagnostic, make, report
from .retention import Retention, Steps, steps_array
from .schedule import Schedule

__all__ = ["Decision", "Tracker", "TrackerState"]

#: The `format` tag of `Tracker.state_dict()`.  Version 2 stores "no step yet" and "never
#: saved" as None; version 1 stored both as 0, which also meant step 0 (see load_state_dict).
FORMAT = "ckptsched.Tracker/2"
FORMAT_V1 = "ckptsched.Tracker/1"
UNITS = ("samples", "tokens")

#: `sync`: every rank's vote in, the agreed vote (the same on every rank) out.
SyncFunction = Callable[[int], int]
#: `clock`: seconds as a float, from any fixed origin.
Clock = Callable[[], float]
#: `delete`: removes the checkpoint of a step (called on rank 0 only).
DeleteFunction = Callable[[int], object]

# what signal.signal() returns: the handler to restore (None: not installed from Python)
_SignalHandler = Union[Callable[[int, Optional[FrameType]], Any], int, signal.Handlers, None]

# votes, combined with max() across ranks
_NONE, _SAVE, _STOP = 0, 1, 2

_TrackerT = TypeVar("_TrackerT", bound="Tracker")


class _RetentionState(TypedDict, total=False):
    """The keys a Tracker with keep= adds to its state (older states lack them, and load)."""

    on_disk: list[int]                # the checkpoints counted on disk, ascending
    metrics: list[Optional[float]]    # their keep_best metric, in the same order (None: none)


class TrackerState(_RetentionState):
    """What `Tracker.state_dict()` returns: plain Python values (ints, None, a str), so it
    fits in any checkpoint format (torch.save with weights_only loading, JSON, pickle)."""

    format: str
    step: int | None          # the last step given to update(), None before the first
    last_saved: int | None    # the last step whose decision was to save, None if none
    samples: int              # cumulative samples (any size)
    tokens: int               # cumulative tokens (any size)


@dataclass(frozen=True)
class Decision:
    """What to do after optimizer step `step`: `save` (also the truth value), `stop`
    (pre-empted: save, then leave the loop), and `reasons` ("schedule", "samples",
    "tokens", "time", "request", "sigterm", "other rank")."""

    step: int
    save: bool
    stop: bool = False
    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.save


@dataclass(frozen=True)
class _UnitRule:
    """A boundary every `interval` samples or tokens (boundary i at i * interval, i >= 1)."""

    unit: str            # "samples" or "tokens"
    given: str           # the user's spelling, for messages and repr
    interval: Fraction   # > 0

    def crossed(self, before: int, after: int) -> bool:
        """Whether a boundary lies in (before, after], for cumulative totals 0 <= before <=
        after of any size: the count of boundaries up to x is floor(x / interval), exactly."""
        p, q = self.interval.numerator, self.interval.denominator
        return after * q // p > before * q // p


class Tracker:
    """Save decisions for progress known only at run time; see the module docstring.

    schedule       a Schedule for the steps known in advance (or None)
    every          "50000tok", "10000sp", or a list of them: a boundary every n tokens
                   (samples), crossed at the first update whose cumulative total reaches it
    every_seconds  save when this much wall-clock time has passed since the last save
                   (or since the Tracker was created / restored), measured on rank 0
    sync           None: torch.distributed when initialised with > 1 rank; False: never;
                   or a callable vote -> agreed vote (see the module docstring)
    rank           this process's rank (default: torch.distributed's, else 0)
    clock          seconds as a float (default time.monotonic)
    handle_sigterm install a SIGTERM handler that asks for a save and a stop
    strict         raise ScheduleError instead of logging runtime warnings
    keep           a Retention: `to_delete()` runs it over the checkpoints this Tracker's
                   save decisions wrote (keep_every needs the run: bound to the schedule's
                   run, or pass keep=retention.bind(run))
    delete         with keep: `to_delete()` calls delete(step) for each checkpoint to
                   delete, on rank 0 only (a step may already be gone after a resume)
    greater_is_better  keep_best: a higher metric is better (default: lower, a loss)
    """

    def __init__(self, schedule: Schedule | None = None, *,
                 every: str | list[str] | tuple[str, ...] | None = None,
                 every_seconds: float | Fraction | Decimal | None = None,
                 sync: SyncFunction | Literal[False] | None = None,
                 rank: SupportsIndex | None = None, clock: Clock | None = None,
                 handle_sigterm: bool = False, strict: bool = False,
                 keep: Retention | None = None, delete: DeleteFunction | None = None,
                 greater_is_better: bool = False) -> None:
        if schedule is not None and not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a ckptsched.Schedule or None, got "
                            f"{type(schedule).__name__}")
        self._schedule = schedule
        self._units = _unit_rules(every)
        self._every_seconds = (None if every_seconds is None
                               else to_rational(every_seconds, "every_seconds"))
        if not (sync is None or sync is False or callable(sync)):
            raise TypeError(f"sync must be None, False or a callable vote -> vote, got {sync!r}")
        self._sync_arg = sync
        self._rank_arg = None if rank is None else to_int(rank, "rank", minimum=0)
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a callable returning seconds, got {clock!r}")
        self._clock: Clock = time.monotonic if clock is None else clock
        self._strict = to_bool(strict, "strict")
        handle_sigterm = to_bool(handle_sigterm, "handle_sigterm")
        self._keep = _bound_retention(keep, schedule)
        if delete is not None and not callable(delete):
            raise TypeError(f"delete must be a callable step -> None, got {delete!r}")
        if delete is not None and self._keep is None:
            raise ValueError("delete= removes the checkpoints that keep= lets go, but keep is "
                             "None; pass keep=Retention(...) as well")
        self._delete = delete
        self._greater_is_better = to_bool(greater_is_better, "greater_is_better")

        self._step: int | None = None        # the last step given to update()
        self._last_saved: int | None = None  # the last step whose decision was to save
        self._totals = dict.fromkeys(UNITS, 0)  # cumulative units: Python ints, any size
        # keep=: the checkpoints the save decisions wrote and retention has not let go yet
        # (ascending), and the keep_best metric given for some of them
        self._on_disk: list[int] = []
        self._metrics: dict[int, float] = {}
        self._since = self._clock()
        self._requested = _NONE     # set by request_save() and the signal handler
        self._sigterm = False
        self._stopped = False
        self._diagnostics: list[Diagnostic] = []
        # (sync callable or None, rank), fixed at the first update
        self._resolved: tuple[SyncFunction | None, int] | None = None
        self._previous_handler: _SignalHandler = None
        if handle_sigterm:
            self._install_sigterm()

    # ---- the decision ---------------------------------------------------------------

    def update(self, step: SupportsIndex, *, samples: SupportsIndex | None = None,
               tokens: SupportsIndex | None = None) -> Decision:
        """The decision after optimizer step `step` (completed updates, 1-based), which
        processed `samples` samples and `tokens` tokens (this step's amounts: pass the
        global amounts, summed over ranks; any non-negative int).  Call it once per
        optimizer step, on every rank, and save when the result is true."""
        step = to_int(step, "step", minimum=0)
        amounts = self._amounts(samples=samples, tokens=tokens)
        sync, rank = self._resolve()
        went_back = self._note_step_order(step)
        reasons = ["schedule"] if self._schedule_due(step, went_back) else []
        reasons += self._count_units(amounts)
        if self._clock_due(rank):
            reasons.append("time")
        requested = self._requested
        if requested:
            reasons.append("sigterm" if self._sigterm else "request")
        return self._decide(step, reasons, requested, sync)

    def _amounts(self, *, samples: SupportsIndex | None,
                 tokens: SupportsIndex | None) -> dict[str, int | None]:
        """This step's amounts by unit (None when not given), each a non-negative int of
        any size; ValueError when a unit rule of this Tracker has no amount."""
        amounts = {"samples": None if samples is None else _amount(samples, "samples"),
                   "tokens": None if tokens is None else _amount(tokens, "tokens")}
        for rule in self._units:
            if amounts[rule.unit] is None:
                raise ValueError(f"this Tracker saves every={rule.given!r}: pass {rule.unit}= "
                                 f"to update() (the {rule.unit} of this step)")
        return amounts

    def _note_step_order(self, step: int) -> bool:
        """True when `step` is below the previous update's step.  Then it reports
        STEP_WENT_BACK (which raises under strict=True) and forgets a last save that now
        lies ahead, so that step is saved again when the run reaches it."""
        if self._step is None or step >= self._step:
            return False
        self._diagnose(make(
            "STEP_WENT_BACK",
            f"update(step={step}) came after step {self._step}: the step counter went "
            "backwards (a restart without load_state_dict, or a counter that restarts "
            "each epoch?); pass the global optimizer step; decisions continue from "
            f"step {step}",
            step=step, previous_step=self._step))
        if self._last_saved is not None and self._last_saved > step:
            self._last_saved = None  # those saves lie ahead again: redo them
        # checkpoints past `step` lie ahead too: they are written again when the run gets
        # there, and until then must not count as the newest for retention
        self._on_disk = [s for s in self._on_disk if s <= step]
        self._metrics = {s: v for s, v in self._metrics.items() if s <= step}
        return True

    def _schedule_due(self, step: int, went_back: bool) -> bool:
        """Whether the schedule has a step in (previous step, `step`] (the counter may
        jump); after the counter went back, whether `step` itself is scheduled."""
        if self._schedule is None:
            return False
        if went_back:
            return self._schedule.should_save(step)
        return self._schedule.due(self._step or 0, step)

    def _count_units(self, amounts: Mapping[str, int | None]) -> list[str]:
        """Add this step's amounts to the cumulative totals, and return the units (in
        UNITS order) for which a rule's boundary lies in (total before, total after]."""
        crossed = []
        for unit in UNITS:
            amount = amounts[unit]
            if amount is not None:
                before = self._totals[unit]
                self._totals[unit] = after = before + amount
                if any(r.unit == unit and r.crossed(before, after) for r in self._units):
                    crossed.append(unit)
        return crossed

    def _clock_due(self, rank: int) -> bool:
        """Whether every_seconds have passed since the last save (or since creation /
        restore).  Only rank 0 reads its clock: other ranks learn it through sync."""
        if self._every_seconds is None or rank != 0:
            return False
        return self._clock() - self._since >= self._every_seconds

    def _decide(self, step: int, reasons: list[str], requested: int,
                sync: SyncFunction | None) -> Decision:
        """This rank's vote (the pending request, or save when there is any reason), agreed
        through `sync`, then acted on: never two saves for one step (a request stays
        pending then); a save restarts the clock and consumes the request that was voted
        on (one that arrived during sync stays); a stop vote marks the Tracker stopped."""
        vote = max(requested, _SAVE if reasons else _NONE)
        agreed = vote if sync is None else _check_vote(sync(vote))
        save, stop = agreed >= _SAVE, agreed >= _STOP
        if save and step == self._last_saved:
            save = False  # never twice for one step; requests stay pending
        elif save:
            if not reasons:
                reasons.append("other rank")
            self._last_saved = step
            self._since = self._clock()
            if self._keep is not None and step not in self._on_disk:
                self._on_disk.append(step)
                self._on_disk.sort()  # kept ascending, whatever to_delete(on_disk=) gave
            if self._requested <= requested:  # keep a request that arrived meanwhile
                self._requested = _NONE
                self._sigterm = False
        if stop:
            self._stopped = True
        self._step = step
        return Decision(step, save, stop, tuple(reasons) if save else ())

    def request_save(self, stop: bool = False) -> None:
        """Ask for a save at the next update (and, with stop=True, for leaving the loop
        after it).  Safe to call from signal handlers and other threads."""
        stop = to_bool(stop, "stop")
        self._requested = max(self._requested, _STOP if stop else _SAVE)

    @property
    def stopped(self) -> bool:
        """True once a decision said stop (pre-emption)."""
        return self._stopped

    @property
    def step(self) -> int | None:
        """The last step given to update(), or None."""
        return self._step

    @property
    def last_saved(self) -> int | None:
        """The last step whose decision was to save, or None."""
        return self._last_saved

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The runtime diagnostics reported so far."""
        return tuple(self._diagnostics)

    # ---- retention ------------------------------------------------------------------

    @property
    def keep(self) -> Retention | None:
        """The Retention `to_delete` runs (bound to the schedule's run when there is one)."""
        return self._keep

    @property
    def on_disk(self) -> tuple[int, ...]:
        """The steps whose checkpoints this Tracker counts as on disk (with keep=): those its
        save decisions wrote that to_delete() has not let go, ascending."""
        return tuple(self._on_disk)

    def to_delete(self, *, metric: float | None = None,
                  on_disk: object = None) -> Steps:
        """Call after each completed save (on every rank): the steps whose checkpoints to
        delete now, by `keep` -- a sorted int64 array, never the newest checkpoint.  They are
        forgotten, and with delete= each is passed to delete(step) on rank 0 only.

        Decided from the checkpoints this Tracker counts as on disk (`on_disk`: its save
        decisions, the same on every rank, minus what to_delete let go), so every rank
        agrees.  `metric` (keep_best) is the metric of the checkpoint just saved (the last
        save decision): give the same value on every rank, e.g. an all-reduced eval loss;
        lower is better unless greater_is_better=True.  `on_disk=` replaces the count by
        the steps really on disk (e.g. listed from the checkpoint folder after resuming from
        a state written before keep= was used).

        Resume-safe: the state_dict() saved with a checkpoint counts that checkpoint and the
        ones kept before it, so after load_state_dict() the next to_delete() deletes what
        the uninterrupted run would have (steps it deleted before a crash come again: the
        delete callback must accept a checkpoint that is already gone).  Call it once right
        after load_state_dict() too: that finishes the deletions of the save resumed from,
        had the crash come before them."""
        keep = self._keep
        if keep is None:
            raise ValueError("to_delete() runs the retention of keep=, but this Tracker has "
                             "keep=None; pass keep=Retention(...) to the Tracker")
        if on_disk is not None:
            steps = steps_array(on_disk, "on_disk").tolist()
            listed = set(steps)
            self._metrics = {s: v for s, v in self._metrics.items() if s in listed}
            self._on_disk = steps
        if metric is not None:
            self._metrics[self._newest_for_metric()] = _metric_value(metric, "metric")
        if keep.keep_best is not None:
            doomed = keep.to_delete(self._on_disk, metrics=self._metrics,
                                    greater_is_better=self._greater_is_better)
        else:
            doomed = keep.to_delete(self._on_disk)
        gone = set(doomed.tolist())
        self._on_disk = [s for s in self._on_disk if s not in gone]
        self._metrics = {s: v for s, v in self._metrics.items() if s not in gone}
        if self._delete is not None and gone and self._resolve()[1] == 0:
            for step in doomed.tolist():
                self._delete(step)
        doomed.flags.writeable = False
        return doomed

    def _newest_for_metric(self) -> int:
        """The step a to_delete(metric=) value belongs to: the last save decision."""
        if self._keep is not None and self._keep.keep_best is None:
            raise ValueError(f"metric= ranks checkpoints for keep_best, but keep={self._keep!r} "
                             "has no keep_best; drop metric= or pass keep_best=K")
        if self._last_saved is None or self._last_saved not in self._on_disk:
            raise ValueError("metric= is the metric of the checkpoint just saved, but no save "
                             "decision is on disk yet; call to_delete(metric=...) after a save")
        return self._last_saved

    def finish(self, step: SupportsIndex | None = None) -> tuple[Diagnostic, ...]:
        """Call when training ends: FINAL_NOT_SAVED when the last step (`step`, default the
        last one given to update) was not saved.  Returns the new diagnostics."""
        last = self._step if step is None else to_int(step, "step", minimum=0)
        new = []
        if last and self._last_saved != last:
            saved = self._last_saved
            new.append(make(
                "FINAL_NOT_SAVED",
                f"training ended at step {last}, but the last save was "
                + (f"at step {saved}" if saved is not None else "never")
                + f": the work of {last - (saved or 0)} step(s) is not saved; save after the "
                "loop, or use a Schedule with final=True",
                last_save=saved, total_steps=last))
        for d in new:
            self._diagnose(d)
        return tuple(new)

    # ---- resume ---------------------------------------------------------------------

    def state_dict(self) -> TrackerState:
        """What a checkpoint needs to continue the same decisions: plain ints and None,
        which `load_state_dict` restores exactly (None stays None, 0 stays 0)."""
        state: TrackerState = {"format": FORMAT, "step": self._step,
                               "last_saved": self._last_saved,
                               "samples": self._totals["samples"],
                               "tokens": self._totals["tokens"]}
        if self._keep is not None:
            state["on_disk"] = list(self._on_disk)
            state["metrics"] = [self._metrics.get(s) for s in self._on_disk]
        return state

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Continue from `state_dict()`.  The clock restarts: the checkpoint being resumed
        is the last save.  Pending requests are not part of the state.

        States of format "ckptsched.Tracker/1" (ckptsched before None was stored) still
        load, as they were read then: 0 means "none" for `step` and `last_saved`.  That
        format cannot tell a save at step 0 from no save; such a save can happen again.
        A state without "on_disk" (written without keep=, or before retention existed)
        counts only its last save as on disk: pass to_delete(on_disk=...) once to count
        the older checkpoints too."""
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping from Tracker.state_dict(), got "
                            f"{type(state).__name__}")
        version = state.get("format")
        if version not in (FORMAT, FORMAT_V1):
            raise ValueError(f"state['format'] must be {FORMAT!r} (or the older {FORMAT_V1!r}), "
                             f"got {version!r}")
        for key in ("step", "last_saved", "samples", "tokens"):
            if key not in state:
                raise ValueError(f"state is missing {key!r}")
        step, last_saved = (_state_step(state, key, zero_is_none=version == FORMAT_V1)
                            for key in ("step", "last_saved"))
        if last_saved is not None and (step is None or last_saved > step):
            raise ValueError(f"state['last_saved']={last_saved} needs a state['step'] at or "
                             f"after it, got {step}: not a state Tracker.state_dict() writes")
        totals = {unit: _amount(_state_int(state, unit), f"state[{unit!r}]") for unit in UNITS}
        on_disk, metrics = _state_retention(state, step, last_saved)
        self._step, self._last_saved, self._totals = step, last_saved, totals
        self._on_disk, self._metrics = on_disk, metrics
        self._since = self._clock()
        self._stopped = False

    # ---- SIGTERM --------------------------------------------------------------------

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise ValueError("handle_sigterm=True must be set in the main thread "
                             "(Python runs signal handlers there)")
        self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self._sigterm = True
        self._requested = _STOP

    def close(self) -> None:
        """Restore the SIGTERM handler that was there before (when one was installed)."""
        if self._previous_handler is not None:
            if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None

    def __enter__(self: _TrackerT) -> _TrackerT:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self.finish()
        finally:
            self.close()

    # ---- helpers --------------------------------------------------------------------

    def _resolve(self) -> tuple[SyncFunction | None, int]:
        """(sync callable or None, this rank), decided at the first update and kept."""
        if self._resolved is None:
            dist = _torch_distributed()
            rank = self._rank_arg
            if rank is None:
                rank = int(dist.get_rank()) if dist is not None else 0
            sync: SyncFunction | None
            if self._sync_arg is False:
                sync = None
            elif self._sync_arg is not None:
                sync = self._sync_arg
            else:
                sync = _torch_sync(dist) if dist is not None else None
            self._resolved = (sync, rank)
        return self._resolved

    def _diagnose(self, diagnostic: Diagnostic) -> None:
        self._diagnostics.append(diagnostic)
        report([diagnostic], strict=self._strict)

    def __repr__(self) -> str:
        parts = []
        if self._schedule is not None:
            parts.append(repr(self._schedule))
        parts += [f"every={rule.given!r}" for rule in self._units]
        if self._every_seconds is not None:
            parts.append(f"every_seconds={self._every_seconds}")
        if self._keep is not None:
            parts.append(f"keep={self._keep!r}")
        return f"Tracker({', '.join(parts)})"


def _unit_rules(every: object) -> tuple[_UnitRule, ...]:
    """The Tracker's `every` as unit rules; errors name `every` (or `every[i]`)."""
    if every is None:
        return ()
    values = [every] if isinstance(every, (str, int)) else every
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"every must be a string like '50000tok' / '10000sp' or a list of them, "
                        f"got {every!r}")
    rules = []
    for i, value in enumerate(values):
        name = "every" if values is not every else f"every[{i}]"
        interval, unit = parse_every(value, name)
        if unit not in UNITS:
            raise ValueError(
                f"{name}={value!r} counts {unit}, which are known before training starts: "
                f"pass schedule=Schedule(run, every={value!r}) instead; a Tracker's every= "
                "counts samples ('10000sp') or tokens ('1e9tok')")
        rules.append(_UnitRule(unit, value, interval))
    return tuple(rules)


def _amount(value: SupportsIndex, name: str) -> int:
    """`value` as a non-negative Python int of any size: to_int's checks (TypeError for
    bools, floats and non-integers, ValueError below 0) without its int64 ceiling, since
    cumulative amounts are Python ints and never need to fit in int64."""
    try:
        return to_int(value, name, minimum=0)
    except OverflowError:  # an integer (to_int checked the type) outside int64
        amount = operator.index(value)
        if amount < 0:
            raise ValueError(f"{name} must be a non-negative integer, got a negative integer "
                             f"of {amount.bit_length()} bits") from None
        return amount


def _state_int(state: Mapping[str, object], key: str) -> SupportsIndex:
    """state[key] when it can be an integer (to_int / _amount check the rest); a TypeError
    naming it when not."""
    value = state[key]
    if not isinstance(value, SupportsIndex):
        raise TypeError(f"state[{key!r}] must be an integer, got {value!r} "
                        f"({type(value).__name__})")
    return value


def _state_step(state: Mapping[str, object], key: str, *, zero_is_none: bool) -> int | None:
    """state[key] as a step (an int64 >= 0) or None; in format 1, 0 also meant None."""
    if state[key] is None:
        return None
    step = to_int(_state_int(state, key), f"state[{key!r}]", minimum=0)
    return None if zero_is_none and step == 0 else step


def _bound_retention(keep: object, schedule: Schedule | None) -> Retention | None:
    """`keep` checked and, with a schedule, bound to its run (keep_every needs a run)."""
    if keep is None:
        return None
    if not isinstance(keep, Retention):
        raise TypeError(f"keep must be a ckptsched.Retention or None, got {keep!r} "
                        f"({type(keep).__name__})")
    if schedule is None:
        if keep.keep_every is not None and keep.run is None:
            raise ValueError(f"keep={keep!r}: keep_every needs the run's steps, and this Tracker "
                             "has no schedule; pass keep=retention.bind(run) or a schedule")
        return keep
    if keep.run is not None and keep.run != schedule.run:
        raise ValueError(f"keep is bound to {keep.run!r}, not to the schedule's run "
                         f"{schedule.run!r}; pass the unbound Retention")
    return keep.bind(schedule.run)


def _metric_value(value: object, name: str) -> float:
    """A keep_best metric as a float (NaN allowed: it ranks worst).  Real numbers and
    one-element tensors / numpy scalars (anything whose .item() is a real number); bools and
    anything else raise TypeError naming `name`."""
    number = value
    if not isinstance(value, numbers.Real) and callable(getattr(value, "item", None)):
        try:
            number = value.item()  # type: ignore[attr-defined]
        except (TypeError, ValueError, RuntimeError):  # e.g. a tensor of several elements
            number = value
    if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
        raise TypeError(f"{name} must be a real number (the checkpoint's metric), got "
                        f"{value!r} ({type(value).__name__})")
    return float(number)


def _state_retention(state: Mapping[str, object], step: int | None,
                     last_saved: int | None) -> tuple[list[int], dict[int, float]]:
    """(on_disk, metrics) of a state: its "on_disk" / "metrics" when present (checked), else
    the last save alone (a state written without keep=)."""
    if "on_disk" not in state or state["on_disk"] is None:
        return ([] if last_saved is None else [last_saved]), {}
    raw = state["on_disk"]
    if not isinstance(raw, (list, tuple)):
        raise TypeError(f"state['on_disk'] must be a list of steps, got {raw!r} "
                        f"({type(raw).__name__})")
    on_disk = [to_int(_state_int_at(raw, i), f"state['on_disk'][{i}]") for i in range(len(raw))]
    if on_disk != sorted(set(on_disk)):
        raise ValueError(f"state['on_disk'] must hold distinct steps in ascending order, got "
                         f"{on_disk!r}: not a state Tracker.state_dict() writes")
    if on_disk and (step is None or on_disk[-1] > step):
        raise ValueError(f"state['on_disk'] holds step {on_disk[-1]}, after state['step']={step}: "
                         "not a state Tracker.state_dict() writes")
    values = state.get("metrics")
    if values is None:
        values = [None] * len(on_disk)
    if not isinstance(values, (list, tuple)) or len(values) != len(on_disk):
        raise ValueError(f"state['metrics'] must be a list as long as state['on_disk'] "
                         f"({len(on_disk)}), got {values!r}")
    metrics = {s: _metric_value(v, f"state['metrics'][{i}]")
               for i, (s, v) in enumerate(zip(on_disk, values)) if v is not None}
    return on_disk, metrics


def _state_int_at(values: list[object] | tuple[object, ...], i: int) -> SupportsIndex:
    value = values[i]
    if not isinstance(value, SupportsIndex):
        raise TypeError(f"state['on_disk'][{i}] must be an integer, got {value!r} "
                        f"({type(value).__name__})")
    return value


def _check_vote(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (_NONE, _SAVE, _STOP):
        raise ValueError(f"sync must return the agreed vote 0, 1 or 2, got {value!r}")
    return value


def _torch_distributed() -> ModuleType | None:
    """torch.distributed when it is initialised with more than one rank; never imports torch."""
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    return dist if dist.get_world_size() > 1 else None


def _torch_sync(dist: ModuleType) -> SyncFunction:
    """The default sync: an all-reduce (max) of the vote as a one-element int64 tensor."""
    torch = importlib.import_module("torch")  # by name: torch is optional, even to type checkers

    backend = str(dist.get_backend()).lower()
    if "gloo" in backend or "mpi" in backend or not torch.cuda.is_available():
        device = torch.device("cpu")
    else:
        device = torch.device("cuda", torch.cuda.current_device())

    def sync(vote: int) -> int:
        tensor = torch.tensor([vote], dtype=torch.int64, device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return int(tensor.item())

    return sync

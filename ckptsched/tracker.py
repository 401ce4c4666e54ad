"""`Tracker`: save decisions for what is not known before training starts.

A `Schedule` answers for steps fixed in advance.  A Tracker adds what only the running
loop knows:

* progress that varies per step (packed sequences, batch-size ramps): `every="50000tok"`
  or `every="10000sp"` save at the first step whose cumulative tokens (samples) reach each
  boundary, by exact boundary crossing on an integer axis (the crossing test is the
  core's: a Schedule on that axis answers `due(before, after)`);
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

Distributed runs: when `torch.distributed` is initialised (and has more than one rank),
every `update` combines one small vote per rank through `sync` so that every rank takes
the same decision at every step: rank 0 alone votes on the clock (ranks' clocks are never
compared), every rank votes for its own requests and rules, and all act on the agreed
result.  `sync(vote: int) -> int` is called on every rank at the same update and must
return the same value everywhere; the default is an all-reduce (max) of a one-element
int64 tensor, which for the clock is a broadcast from rank 0.  `sync=False` turns it off.
"""
from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ._common import INT64_MAX
from ._numbers import parse_every, to_bool, to_int, to_rational
from .diagnostics import Diagnostic, WARNING, make, report
from .run import Run
from .schedule import Schedule

__all__ = ["Decision", "Tracker"]

FORMAT = "ckptsched.Tracker/1"
UNITS = ("samples", "tokens")
# An axis on which one "step" is one sample (token): unit boundaries become step boundaries.
_UNIT_RUN = Run(max_steps=INT64_MAX, samples_per_step=1, tokens_per_step=1)

# votes, combined with max() across ranks
_NONE, _SAVE, _STOP = 0, 1, 2


@dataclass(frozen=True)
class Decision:
    """What to do after optimizer step `step`: `save` (also the truth value), `stop`
    (pre-empted: save, then leave the loop), and `reasons` ("schedule", "samples",
    "tokens", "time", "request", "sigterm", "other rank")."""

    step: int
    save: bool
    stop: bool = False
    reasons: tuple = ()

    def __bool__(self) -> bool:
        return self.save


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
    """

    def __init__(self, schedule=None, *, every=None, every_seconds=None, sync=None,
                 rank=None, clock=None, handle_sigterm=False, strict=False):
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
        self._clock = time.monotonic if clock is None else clock
        self._strict = to_bool(strict, "strict")
        handle_sigterm = to_bool(handle_sigterm, "handle_sigterm")

        self._step = None           # the last step given to update()
        self._last_saved = None     # the last step whose decision was to save
        self._totals = dict.fromkeys(UNITS, 0)
        self._since = self._clock()
        self._requested = _NONE     # set by request_save() and the signal handler
        self._sigterm = False
        self._stopped = False
        self._diagnostics = []
        self._resolved = None       # (sync callable or None, rank), fixed at the first update
        self._previous_handler = None
        if handle_sigterm:
            self._install_sigterm()

    # ---- the decision ---------------------------------------------------------------

    def update(self, step, *, samples=None, tokens=None) -> Decision:
        """The decision after optimizer step `step` (completed updates, 1-based), which
        processed `samples` samples and `tokens` tokens (this step's amounts: pass the
        global amounts, summed over ranks).  Call it once per optimizer step, on every
        rank, and save when the result is true."""
        step = to_int(step, "step", minimum=0)
        amounts = {"samples": None if samples is None else to_int(samples, "samples", minimum=0),
                   "tokens": None if tokens is None else to_int(tokens, "tokens", minimum=0)}
        for unit, given, _ in self._units:
            if amounts[unit] is None:
                raise ValueError(f"this Tracker saves every={given!r}: pass {unit}= to "
                                 f"update() (the {unit} of this step)")
        sync, rank = self._resolve()
        reasons = []

        if self._step is not None and step < self._step:
            self._diagnose(Diagnostic(
                "STEP_WENT_BACK", WARNING,
                f"update(step={step}) came after step {self._step}: the step counter went "
                "backwards (a restart without load_state_dict, or a counter that restarts "
                "each epoch?); pass the global optimizer step; decisions continue from "
                f"step {step}",
                {"step": step, "previous_step": self._step}))
            if self._last_saved is not None and self._last_saved > step:
                self._last_saved = None  # those saves lie ahead again: redo them
            scheduled = self._schedule is not None and self._schedule.should_save(step)
        else:
            scheduled = self._schedule is not None and self._schedule.due(self._step or 0, step)
        if scheduled:
            reasons.append("schedule")

        for unit in UNITS:
            if amounts[unit] is not None:
                before = self._totals[unit]
                self._totals[unit] = after = before + amounts[unit]
                if any(u == unit and rule.due(before, after) for u, _, rule in self._units):
                    reasons.append(unit)

        if self._every_seconds is not None and rank == 0:
            if self._clock() - self._since >= self._every_seconds:
                reasons.append("time")
        requested = self._requested
        if requested:
            reasons.append("sigterm" if self._sigterm else "request")

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
    def step(self):
        """The last step given to update(), or None."""
        return self._step

    @property
    def last_saved(self):
        """The last step whose decision was to save, or None."""
        return self._last_saved

    @property
    def diagnostics(self) -> tuple:
        """The runtime diagnostics reported so far."""
        return tuple(self._diagnostics)

    def finish(self, step=None) -> tuple:
        """Call when training ends: FINAL_NOT_SAVED when the last step (`step`, default the
        last one given to update) was not saved.  Returns the new diagnostics."""
        last = self._step if step is None else to_int(step, "step", minimum=0)
        new = []
        if last and self._last_saved != last:
            saved = self._last_saved
            new.append(make(
                "FINAL_NOT_SAVED",
                f"training ended at step {last}, but the last save was "
                + (f"at step {saved}" if saved else "never")
                + f": the work of {last - (saved or 0)} step(s) is not saved; save after the "
                "loop, or use a Schedule with final=True",
                last_save=saved, total_steps=last))
        for d in new:
            self._diagnose(d)
        return tuple(new)

    # ---- resume ---------------------------------------------------------------------

    def state_dict(self) -> dict:
        """What a checkpoint needs to continue the same decisions (plain ints)."""
        return {"format": FORMAT, "step": self._step or 0, "last_saved": self._last_saved or 0,
                "samples": self._totals["samples"], "tokens": self._totals["tokens"]}

    def load_state_dict(self, state) -> None:
        """Continue from `state_dict()`.  The clock restarts: the checkpoint being resumed
        is the last save.  Pending requests are not part of the state."""
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping from Tracker.state_dict(), got "
                            f"{type(state).__name__}")
        if state.get("format") != FORMAT:
            raise ValueError(f"state['format'] must be {FORMAT!r}, got {state.get('format')!r}")
        values = {}
        for key in ("step", "last_saved", "samples", "tokens"):
            if key not in state:
                raise ValueError(f"state is missing {key!r}")
            values[key] = to_int(state[key], f"state[{key!r}]", minimum=0)
        self._step = values["step"] or None
        self._last_saved = values["last_saved"] or None
        self._totals = {"samples": values["samples"], "tokens": values["tokens"]}
        self._since = self._clock()
        self._stopped = False

    # ---- SIGTERM --------------------------------------------------------------------

    def _install_sigterm(self):
        if threading.current_thread() is not threading.main_thread():
            raise ValueError("handle_sigterm=True must be set in the main thread "
                             "(Python runs signal handlers there)")
        self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame):
        self._sigterm = True
        self._requested = _STOP

    def close(self) -> None:
        """Restore the SIGTERM handler that was there before (when one was installed)."""
        if self._previous_handler is not None:
            if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.finish()
        finally:
            self.close()

    # ---- helpers --------------------------------------------------------------------

    def _resolve(self):
        if self._resolved is None:
            dist = _torch_distributed()
            rank = self._rank_arg
            if rank is None:
                rank = dist.get_rank() if dist is not None else 0
            if self._sync_arg is False:
                sync = None
            elif self._sync_arg is not None:
                sync = self._sync_arg
            else:
                sync = _torch_sync(dist) if dist is not None else None
            self._resolved = (sync, rank)
        return self._resolved

    def _diagnose(self, diagnostic):
        self._diagnostics.append(diagnostic)
        report([diagnostic], strict=self._strict)

    def __repr__(self):
        parts = []
        if self._schedule is not None:
            parts.append(repr(self._schedule))
        parts += [f"every={given!r}" for _, given, _ in self._units]
        if self._every_seconds is not None:
            parts.append(f"every_seconds={self._every_seconds}")
        return f"Tracker({', '.join(parts)})"


def _unit_rules(every):
    if every is None:
        return ()
    values = [every] if isinstance(every, (str, int)) else every
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"every must be a string like '50000tok' / '10000sp' or a list of them, "
                        f"got {every!r}")
    rules = []
    for i, value in enumerate(values):
        name = "every" if values is not every else f"every[{i}]"
        amount, unit = parse_every(value, name)
        if unit not in UNITS:
            raise ValueError(
                f"{name}={value!r} counts {unit}, which are known before training starts: "
                f"pass schedule=Schedule(run, every={value!r}) instead; a Tracker's every= "
                "counts samples ('10000sp') or tokens ('1e9tok')")
        rules.append((unit, value, Schedule(_UNIT_RUN, every=value)))
    return tuple(rules)


def _check_vote(value):
    if isinstance(value, bool) or not isinstance(value, int) or value not in (_NONE, _SAVE, _STOP):
        raise ValueError(f"sync must return the agreed vote 0, 1 or 2, got {value!r}")
    return value


def _torch_distributed():
    """torch.distributed when it is initialised with more than one rank; never imports torch."""
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    return dist if dist.get_world_size() > 1 else None


def _torch_sync(dist):
    import torch

    backend = str(dist.get_backend()).lower()
    if "gloo" in backend or "mpi" in backend or not torch.cuda.is_available():
        device = torch.device("cpu")
    else:
        device = torch.device("cuda", torch.cuda.current_device())

    def sync(vote):
        tensor = torch.tensor([vote], dtype=torch.int64, device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return int(tensor.item())

    return sync

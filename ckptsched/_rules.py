"""Turn a Schedule's validated request into backend rules, extra steps and request diagnostics.

A rule is a tuple (kind, a, b, stop) understood by both backends (see `_common`):
EVERY steps a, a+b, ... <= stop; EVEN the first step at or after each boundary i*a/b.
Every number here is a rule parameter; every step number comes from the backend.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Tuple, Union

from . import _backend
from ._common import INT64_MAX, RULE_EVEN, RULE_EVERY
from ._numbers import show
from .diagnostics import Diagnostic, make
from .run import Run

UNIT_NEEDS = {"epochs": "steps_per_epoch", "samples": "samples_per_step", "tokens": "tokens_per_step"}

#: (kind, a, b, stop), as `_common` describes.
Rule = Tuple[int, int, int, int]
#: Steps listed with at=: sorted distinct ints of any size, or an increasing range (any size).
Listed = Union[Tuple[int, ...], range]

#: The most dropped steps of an at=range(...) an OUT_OF_RANGE diagnostic lists (its count is exact).
MAX_LISTED_DROPPED = 100_000


@dataclass(frozen=True)
class Words:
    """How the messages of one schedule name what it does at its steps, by the schedule's name.

    An eval schedule is never described as saves: its messages say "evaluation", and its
    comparison with transformers / Axolotl uses their eval arguments."""

    name: str            # the schedule's name, as the messages start: "eval schedule: ..."
    step: str            # one scheduled step: "save"
    steps: str           # several: "saves"
    verb: str            # "this schedule saves nothing"
    done: str            # "every step is saved"
    missing: str         # "the final 5 steps go unsaved"
    per_epoch: str       # Axolotl's per-epoch argument for it
    hf_argument: str     # transformers' TrainingArguments field for it
    hf_at_last: bool     # transformers also does it at the last step (it saves there; it
                         # neither evaluates nor logs there with the "steps" strategy)

    def diagnostic(self, code: str, message: str, **data: Any) -> Diagnostic:
        """The diagnostic `code` of this schedule: its message names the schedule and its
        data carries data["schedule"]."""
        return make(code, f"{self.name} schedule: {message}", schedule=self.name, **data)


#: The words of the schedules a Plan names; any other name gets `words_for`'s generic ones.
VOCABULARY = {
    "save": Words("save", "save", "saves", "saves", "saved", "go unsaved",
                  "saves_per_epoch", "save_steps", True),
    "eval": Words("eval", "evaluation", "evaluations", "evaluates", "evaluated",
                  "go unevaluated", "evals_per_epoch", "eval_steps", False),
    "log": Words("log", "log", "logs", "logs", "logged", "go unlogged",
                 "logs_per_epoch", "logging_steps", False),
}


def words_for(name: str) -> Words:
    """The words of the schedule called `name` (generic "scheduled steps" for a name of one's own)."""
    known = VOCABULARY.get(name)
    if known is not None:
        return known
    return Words(name, "scheduled step", "scheduled steps", "schedules", "scheduled",
                 "go unscheduled", "saves_per_epoch", "save_steps", True)


@dataclass(frozen=True)
class Request:
    """The validated arguments of a Schedule (see Schedule for their meaning)."""

    saves_per_epoch: int | None = None
    count: int | None = None
    every: tuple[Fraction, str] | None = None   # (amount, unit)
    every_given: object = None                   # as the user wrote it, for messages
    start: int | None = None
    until: int | None = None
    ratio: Fraction | None = None
    ratio_given: Any = None                      # as given (a float, Fraction, ...), for messages
    at: Listed = ()
    first: bool = False
    final: bool = True
    name: str = "save"                           # what the schedule is for (`words_for`)

    @property
    def words(self) -> Words:
        """How this schedule's messages name its steps."""
        return words_for(self.name)


@dataclass(frozen=True)
class Compiled:
    rules: tuple[tuple[str, Rule], ...]    # ((label, rule), ...)
    extra: tuple[int, ...]                 # sorted distinct steps in [1, T]
    diagnostics: tuple[Diagnostic, ...]


def _even(spacing: Fraction, stop: int, name: str, given: object) -> Rule:
    """An EVEN rule with boundaries every `spacing` steps; OverflowError naming `name`."""
    if max(spacing.numerator, spacing.denominator) > INT64_MAX:
        raise OverflowError(f"{name}={show(given)} gives a spacing of {_text(spacing)} steps, "
                            "whose terms exceed the int64 range")
    return (RULE_EVEN, spacing.numerator, spacing.denominator, stop)


def _needs(run: Run, attribute: str, name: str, given: object) -> int | Fraction:
    value: int | Fraction | None = getattr(run, attribute)
    if value is None:
        raise ValueError(f"{name}={show(given)} needs a Run with {attribute}")
    return value


def saves_per_epoch_rule(run: Run, k: int) -> tuple[str, Rule]:
    """The label and EVEN rule of saves_per_epoch=k: boundaries every S/k steps (S the run's
    steps per epoch), at ceil(i*S/k), up to the run's last step.  ValueError when the run has
    no steps_per_epoch."""
    S = run.steps_per_epoch
    if S is None:
        raise ValueError(f"saves_per_epoch={k} needs a Run with steps_per_epoch")
    return f"saves_per_epoch={k}", (RULE_EVEN, S, k, run.total_steps)


def count_rule(T: int, n: int) -> tuple[str, Rule]:
    """The label and EVEN rule of count=n on a run of T steps: boundaries every T/n steps,
    at ceil(i*T/n), up to T."""
    return f"count={n}", (RULE_EVEN, T, n, T)


def compile_request(run: Run, req: Request) -> Compiled:
    """The rules, extra steps and request-level diagnostics of `req` on `run`."""
    T = run.total_steps
    w = req.words
    rules: list[tuple[str, Rule]] = []
    diags: list[Diagnostic] = []

    if req.saves_per_epoch is not None:
        k = req.saves_per_epoch
        label, rule = saves_per_epoch_rule(run, k)
        rules.append((label, rule))
        S = rule[1]
        if k > S:
            diags.append(w.diagnostic(
                "FEWER_THAN_REQUESTED",
                f"saves_per_epoch={k} but an epoch has only {S} optimizer steps: every step is "
                f"{w.done} ({S} per epoch, not {k}); ask for at most {S} {w.steps} per epoch",
                rule=label, requested=k, per_epoch=S))

    if req.count is not None:
        n = req.count
        rules.append(count_rule(T, n))
        if n > T:
            diags.append(w.diagnostic(
                "FEWER_THAN_REQUESTED",
                f"count={n} but the run has only {T} steps: every step is {w.done} ({T} "
                f"{w.steps}, not {n}); ask for count <= {T}",
                rule=f"count={n}", requested=n, got=T))

    if req.every is not None:
        every = _every_rule(run, req, diags)
        if every is not None:
            rules.append(every)
    elif req.start is not None or req.until is not None:
        name = "start" if req.start is not None else "until"
        raise ValueError(f"{name} applies to every=; got {name}={getattr(req, name)!r} without every")

    if req.ratio is not None:
        rules.append(_ratio_rule(run, req, diags))

    diags += [_never_fires(w, label, rule, T, req.final) for label, rule in rules
              if _backend.impl.Engine([rule], []).last() == 0]
    extra: set[int] = set()
    if isinstance(req.at, range):
        below, inside, above = _clip_range(req.at, T)
        if _range_len(inside) == 1:
            extra.add(inside.start)
        elif inside:  # two steps within 1..T: the stride is < T, an int64
            rules.append((f"at={show(req.at)}", (RULE_EVERY, inside.start, inside.step, inside[-1])))
        dropped_count = _range_len(below) + _range_len(above)
        dropped = list(itertools.islice(itertools.chain(below, above), MAX_LISTED_DROPPED))
    else:
        extra.update(s for s in req.at if 1 <= s <= T)
        dropped = [s for s in req.at if not 1 <= s <= T]
        dropped_count = len(dropped)
    if dropped_count:
        diags.append(w.diagnostic(
            "OUT_OF_RANGE",
            f"at= lists {show(dropped_count)} step(s) outside the run's steps 1..{T}, dropped: "
            f"{_preview(dropped, total=dropped_count)}",
            dropped=dropped, dropped_count=dropped_count, total_steps=T))
    if req.first:
        extra.add(1)
    if req.final:
        extra.add(T)
    return Compiled(tuple(rules), tuple(sorted(extra)), tuple(diags))


def _range_len(steps: range) -> int:
    """len() of an increasing range of any size (len() itself fails past sys.maxsize)."""
    return max(0, -((steps.start - steps.stop) // steps.step))


def _clip_range(steps: range, T: int) -> tuple[range, range, range]:
    """(below, inside, above): the parts of the increasing range `steps` before step 1,
    within 1..T and after T, computed in O(1) at any size."""
    n = _range_len(steps)
    lo = min(n, max(0, -((steps.start - 1) // steps.step)))       # elements < 1
    hi = min(n, max(lo, (T - steps.start) // steps.step + 1))      # elements <= T
    return steps[:lo], steps[lo:hi], steps[hi:]


def _every_rule(run: Run, req: Request, diags: list[Diagnostic]) -> tuple[str, Rule] | None:
    """The rule of every=, or None when its first boundary lies beyond the run (reported)."""
    T = run.total_steps
    w = req.words
    assert req.every is not None
    amount, unit = req.every
    label = f"every={show(req.every_given)}"
    if unit != "steps" and req.start is not None:
        raise ValueError(f"start applies to every= in steps; got start={req.start!r} with {label}")
    stop = T if req.until is None else min(req.until, T)
    if unit == "steps":
        n = int(amount)
        start = n if req.start is None else req.start
        if req.until is not None and req.until < start:
            raise ValueError(f"until={req.until!r} is before the first step start={start!r} of {label}")
        rule = (RULE_EVERY, start, n, stop)
        if start > stop:
            return label, rule  # reported by _never_fires
        if req.final and req.until is None and not _backend.impl.Engine([rule], []).contains(T):
            last = _backend.impl.Engine([rule], []).last()
            diags.append(w.diagnostic(
                "UNEVEN_TAIL",
                f"{label} does not divide the {T}-step run: after the last regular {w.step} at "
                f"{last} the final {w.step} at {T} comes early; use count= for evenly spaced "
                f"{w.steps} that end at the last step",
                rule=label, last_regular=last, total_steps=T))
        return label, rule
    per_step = Fraction(_needs(run, UNIT_NEEDS[unit], "every", req.every_given))
    if unit == "epochs":
        spacing = amount * per_step  # steps per epoch
    else:
        spacing = amount / per_step  # samples (tokens) per boundary / per step
    if spacing < 1:
        diags.append(w.diagnostic(
            "FEWER_THAN_REQUESTED",
            f"{label} is less than one optimizer step ({_text(spacing)} steps): several "
            f"boundaries fall in one step, which counts once; every step is {w.done}",
            rule=label, spacing=_text(spacing)))
        return label, (RULE_EVEN, 1, 1, stop)  # the same steps, whatever the spacing's size
    first = -(-spacing.numerator // spacing.denominator)
    if first > stop:  # beyond the run (at any size, even past int64): no step
        diags.append(_never_fires_at(w, label, first, T, req.final))
        return None
    return label, _even(spacing, stop, "every", req.every_given)


def _ratio_rule(run: Run, req: Request, diags: list[Diagnostic]) -> tuple[str, Rule]:
    T = run.total_steps
    w = req.words
    r = req.ratio
    assert r is not None
    interval = _backend.impl.ratio_interval(T, r.numerator, r.denominator)
    label = f"ratio={show(req.ratio_given)}"
    rule = (RULE_EVERY, interval, interval, T)
    if req.final and not _backend.impl.Engine([rule], []).contains(T):
        diags.append(w.diagnostic(
            "UNEVEN_TAIL",
            f"{label} gives an interval of {interval} steps, which does not divide the "
            f"{T}-step run; the final {w.step} at {T} comes early",
            rule=label, interval=interval, total_steps=T))
    return label, rule


def _never_fires(w: Words, label: str, rule: Rule, T: int, final: bool) -> Diagnostic:
    kind, a, b, _ = rule
    first = _backend.impl.Engine([(kind, a, b, INT64_MAX)], []).next_after(0)
    assert first is not None
    return _never_fires_at(w, label, first, T, final)


def _never_fires_at(w: Words, label: str, first: int, T: int, final: bool) -> Diagnostic:
    return w.diagnostic("OUT_OF_RANGE",
                        f"{label} never fires: its first step {show(first)} is past the run's "
                        f"{T} steps" + (f"; only the final {w.step} remains" if final else "")
                        + "; use a shorter interval, count=, or ratio=",
                        rule=label, first_step=first, total_steps=T)


def _text(value: Fraction) -> str:
    """str(value) for messages and data, abbreviated when too long to print."""
    try:
        return str(value)
    except ValueError:
        return show(value)


def _preview(values: Sequence[int], n: int = 8, total: int | None = None) -> str:
    """The first `n` values for a message, and how many there are in all (`total`, default
    len(values)) when that is more."""
    total = len(values) if total is None else total
    shown = ", ".join(show(v) for v in values[:n])
    return shown + (f", ... ({show(total)} in all)" if total > n else "")

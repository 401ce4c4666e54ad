"""Turn a Schedule's validated request into backend rules, extra steps and request diagnostics.

A rule is a tuple (kind, a, b, stop) understood by both backends (see `_common`):
EVERY steps a, a+b, ... <= stop; EVEN the first step at or after each boundary i*a/b.
Every number here is a rule parameter; every step number comes from the backend.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from . import _backend
from ._common import INT64_MAX, RULE_EVEN, RULE_EVERY
from ._frameworks import transformers_interval
from .diagnostics import make

UNIT_NEEDS = {"epochs": "steps_per_epoch", "samples": "samples_per_step", "tokens": "tokens_per_step"}


@dataclass(frozen=True)
class Request:
    """The validated arguments of a Schedule (see Schedule for their meaning)."""

    saves_per_epoch: int | None = None
    count: int | None = None
    every: tuple | None = None        # (amount: Fraction, unit: str)
    every_given: object = None        # as the user wrote it, for messages
    start: int | None = None
    until: int | None = None
    ratio: Fraction | None = None
    ratio_given: object = None
    at: tuple = ()
    first: bool = False
    final: bool = True


@dataclass(frozen=True)
class Compiled:
    rules: tuple        # ((label, rule), ...)
    extra: tuple        # sorted distinct steps in [1, T]
    diagnostics: tuple


def _even(spacing: Fraction, stop: int, name: str, given) -> tuple:
    """An EVEN rule with boundaries every `spacing` steps; OverflowError naming `name`."""
    if max(spacing.numerator, spacing.denominator) > INT64_MAX:
        raise OverflowError(f"{name}={given!r} gives a spacing of {spacing} steps, "
                            "whose terms exceed the int64 range")
    return (RULE_EVEN, spacing.numerator, spacing.denominator, stop)


def _needs(run, attribute: str, name: str, given):
    value = getattr(run, attribute)
    if value is None:
        raise ValueError(f"{name}={given!r} needs a Run with {attribute}")
    return value


def compile_request(run, req: Request) -> Compiled:
    """The rules, extra steps and request-level diagnostics of `req` on `run`."""
    T = run.total_steps
    rules, diags = [], []

    if req.saves_per_epoch is not None:
        k = req.saves_per_epoch
        S = _needs(run, "steps_per_epoch", "saves_per_epoch", k)
        rules.append((f"saves_per_epoch={k}", (RULE_EVEN, S, k, T)))
        if k > S:
            diags.append(make(
                "FEWER_THAN_REQUESTED",
                f"saves_per_epoch={k} but an epoch has only {S} optimizer steps: every step is "
                f"saved ({S} per epoch, not {k}); ask for at most {S} saves per epoch",
                rule=f"saves_per_epoch={k}", requested=k, per_epoch=S))

    if req.count is not None:
        n = req.count
        rules.append((f"count={n}", (RULE_EVEN, T, n, T)))
        if n > T:
            diags.append(make(
                "FEWER_THAN_REQUESTED",
                f"count={n} but the run has only {T} steps: every step is saved ({T} saves, "
                f"not {n}); ask for count <= {T}",
                rule=f"count={n}", requested=n, got=T))

    if req.every is not None:
        rules.append(_every_rule(run, req, diags))
    elif req.start is not None or req.until is not None:
        name = "start" if req.start is not None else "until"
        raise ValueError(f"{name} applies to every=; got {name}={getattr(req, name)!r} without every")

    if req.ratio is not None:
        rules.append(_ratio_rule(run, req, diags))

    diags += [_never_fires(label, rule, T, req.final) for label, rule in rules
              if _backend.impl.Engine([rule], []).last() == 0]
    extra = {s for s in req.at if 1 <= s <= T}
    dropped = sorted(s for s in req.at if not 1 <= s <= T)
    if dropped:
        diags.append(make(
            "OUT_OF_RANGE",
            f"at= lists {len(dropped)} step(s) outside the run's steps 1..{T}, dropped: "
            f"{_preview(dropped)}",
            dropped=dropped, total_steps=T))
    if req.first:
        extra.add(1)
    if req.final:
        extra.add(T)
    return Compiled(tuple(rules), tuple(sorted(extra)), tuple(diags))


def _every_rule(run, req: Request, diags: list):
    T = run.total_steps
    amount, unit = req.every
    label = f"every={req.every_given!r}"
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
            diags.append(make(
                "UNEVEN_TAIL",
                f"{label} does not divide the {T}-step run: after the last regular save at "
                f"{last} the final save at {T} comes early; use count= for evenly spaced saves "
                "that end at the last step",
                rule=label, last_regular=last, total_steps=T))
        return label, rule
    per_step = Fraction(_needs(run, UNIT_NEEDS[unit], "every", req.every_given))
    if unit == "epochs":
        spacing = amount * per_step  # steps per epoch
    else:
        spacing = amount / per_step  # samples (tokens) per boundary / per step
    if spacing < 1:
        diags.append(make(
            "FEWER_THAN_REQUESTED",
            f"{label} is less than one optimizer step ({spacing} steps): several boundaries "
            "fall in one step, which saves once; every step is saved",
            rule=label, spacing=str(spacing)))
    return label, _even(spacing, stop, "every", req.every_given)


def _ratio_rule(run, req: Request, diags: list):
    T = run.total_steps
    r = req.ratio
    interval = _backend.impl.ratio_interval(T, r.numerator, r.denominator)
    label = f"ratio={req.ratio_given!r}"
    rule = (RULE_EVERY, interval, interval, T)
    hf = transformers_interval(T, float(req.ratio_given))
    if hf != interval:
        diags.append(make(
            "HF_MISMATCH",
            f"{label}: transformers computes ceil({T} * {float(req.ratio_given)!r}) in float = {hf} "
            f"and saves every {hf} steps; the exact interval ceil({T} * {r}) is {interval}",
            framework="transformers", rule=label, interval=interval, hf_interval=hf))
    if req.final and not _backend.impl.Engine([rule], []).contains(T):
        diags.append(make(
            "UNEVEN_TAIL",
            f"{label} gives an interval of {interval} steps, which does not divide the "
            f"{T}-step run; the final save at {T} comes early",
            rule=label, interval=interval, total_steps=T))
    return label, rule


def _never_fires(label: str, rule: tuple, T: int, final: bool):
    kind, a, b, _ = rule
    first = _backend.impl.Engine([(kind, a, b, INT64_MAX)], []).next_after(0)
    return make("OUT_OF_RANGE",
                f"{label} never fires: its first step {first} is past the run's {T} steps"
                + ("; only the final save remains" if final else "")
                + "; use a shorter interval, count=, or ratio=",
                rule=label, first_step=first, total_steps=T)


def _preview(values, n: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (f", ... ({len(values)} in all)" if len(values) > n else "")

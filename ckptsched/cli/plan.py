"""`ckptsched plan`: show a run's whole schedule, its diagnostics, and what transformers
or Axolotl would save instead.

The table lists every step, or its first and last --rows/2 when there are more: found
with next_after queries (the last ones by bisection), so a run of 10**18 steps prints
without ever being built.  --json lists the steps only up to the library's MAX_MATERIALIZED
(`"steps": null` beyond)."""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
from fractions import Fraction

from .. import _backend
from .._frameworks import transformers_engine, transformers_equivalent
from .._numbers import simplest_rational
from ._shared import all_steps, first_steps, integer, is_integer, last_steps, shown
from ..diagnostics import WARNING, logger
from ..run import Run
from ..schedule import MAX_MATERIALIZED, Schedule

HELP = "Show the exact steps a run would save at, with diagnostics (and --compare-hf)."


def _whole(text, minimum):
    """A flag's integer value >= minimum (argparse type); int64 range is the library's."""
    words = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    try:
        value = integer(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {words}, got {shown(text)}") from None
    except OverflowError as exc:
        if text.strip().startswith("-"):
            raise argparse.ArgumentTypeError(f"must be {words}, got {shown(text)}") from None
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {words}, got {shown(text)}")
    return value


def _positive_int(text):
    return _whole(text, 1)


def _non_negative_int(text):
    return _whole(text, 0)


def _rational(text):
    """An exact number: '4', '2.3' (= 23/10), '7/100', '1e-2'."""
    exponent = _EXPONENT.search(text)
    digits = exponent.group(1).replace("_", "").lstrip("0") if exponent else ""
    if len(digits) > 4 or int(digits or 0) > _MAX_EXPONENT:
        # Fraction("1e400000000") would compute 10**400000000 first: minutes, gigabytes
        raise argparse.ArgumentTypeError(
            f"{shown(text)} has an exponent beyond {_MAX_EXPONENT}: far outside what an exact "
            "number in int64 can hold (a numerator and a denominator of at most 19 digits)")
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        digits = sum(c.isdigit() for c in text)
        if digits > 1000 and _NUMBER_LIKE.fullmatch(text.strip()):
            raise argparse.ArgumentTypeError(
                f"{shown(text)} has {digits} digits: too many for an exact number in int64 "
                "(a numerator and a denominator of at most 19 digits)") from None
        raise argparse.ArgumentTypeError(
            f"must be a number like 4, 2.3 or 7/100, got {shown(text)}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {shown(text)}")
    if value.denominator == 1:
        return int(value)
    # a float reads better in reprs and is what transformers would see; keep the
    # Fraction only when the float would not mean the same number to ckptsched
    as_float = float(value)
    return as_float if simplest_rational(as_float) == value else value


_NUMBER_LIKE = re.compile(r"[0-9_.eE+/-]+")
_EXPONENT = re.compile(r"[eE][+-]?([0-9_]+)")
_MAX_EXPONENT = 4300  # 10**4300 is built at once; int64 needs no more than 10**19


def _step_list(text):
    steps = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            steps.append(integer(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be comma-separated steps like 100,250, got {shown(text)}") from None
        except OverflowError as exc:
            raise argparse.ArgumentTypeError(f"step {exc}") from None
    return steps


def add_run_arguments(parser):
    """The flags that describe a Run (shared with other subcommands)."""
    g = parser.add_argument_group("run geometry (give --steps-per-epoch or the dataset flags)")
    g.add_argument("--steps-per-epoch", type=_positive_int, help="optimizer steps per epoch S")
    g.add_argument("--epochs", type=_rational, help="epochs: an integer or exact number (2.3 = 23/10)")
    g.add_argument("--max-steps", type=_positive_int, help="total optimizer steps T (wins over --epochs)")
    g.add_argument("--num-examples", type=_positive_int, help="dataset size (instead of --steps-per-epoch)")
    g.add_argument("--micro-batch-size", type=_positive_int, default=1,
                   help="examples per micro-batch per rank, with --num-examples (default 1)")
    g.add_argument("--grad-accum", type=_positive_int, default=1,
                   help="micro-batches per optimizer step, with --num-examples (default 1)")
    g.add_argument("--world-size", type=_positive_int, default=1,
                   help="data-parallel ranks, with --num-examples (default 1)")
    g.add_argument("--drop-last", action="store_true", help="the dataloader drops incomplete batches")
    g.add_argument("--partial-accumulation", choices=("step", "drop"), default="step",
                   help="a trailing partial accumulation steps (transformers >= 4.52) or is dropped")
    g.add_argument("--samples-per-step", type=_rational,
                   help="examples per optimizer step, for sample units in --every (10000sp)")
    g.add_argument("--tokens-per-step", type=_rational,
                   help="tokens per optimizer step, for token units in --every (1e9tok)")


def run_from_args(args) -> Run:
    if args.num_examples is not None:
        if args.steps_per_epoch is not None:
            raise ValueError("give --steps-per-epoch or --num-examples, not both")
        return Run.from_dataset(args.num_examples, args.micro_batch_size, args.grad_accum,
                                args.world_size, epochs=args.epochs, max_steps=args.max_steps,
                                drop_last=args.drop_last,
                                partial_accumulation=args.partial_accumulation,
                                tokens_per_step=args.tokens_per_step)
    if args.steps_per_epoch is None and args.max_steps is None:
        raise ValueError("give --steps-per-epoch (with --epochs), --max-steps, or --num-examples")
    if args.steps_per_epoch is not None and args.epochs is None and args.max_steps is None:
        raise ValueError("--steps-per-epoch needs --epochs or --max-steps")
    return Run(args.steps_per_epoch, args.epochs, max_steps=args.max_steps,
               samples_per_step=args.samples_per_step, tokens_per_step=args.tokens_per_step)


def add_arguments(parser):
    add_run_arguments(parser)
    r = parser.add_argument_group("rules (any combination: the schedule is their union)")
    r.add_argument("--saves-per-epoch", type=_positive_int,
                   help="k evenly spaced saves per epoch, the last at the epoch end")
    r.add_argument("--count", type=_positive_int, help="n evenly spaced saves, the last at T")
    r.add_argument("--every", help="steps (500) or a unit: 2ep, 10000sp, 1e9tok")
    r.add_argument("--start", type=_positive_int, help="first step of --every")
    r.add_argument("--until", type=_positive_int, help="last step --every may use")
    r.add_argument("--ratio", type=_rational, help="transformers' ratio 0 < r < 1: every ceil(T*r)")
    r.add_argument("--at", type=_step_list, help="listed steps, comma-separated")
    r.add_argument("--first", action="store_true", help="also save after step 1")
    r.add_argument("--no-final", dest="final", action="store_false", help="do not force a save at T")
    r.add_argument("--min-interval", type=_non_negative_int, default=0,
                   help="drop saves closer than this many steps to the previous kept one "
                        "(default 0: keep all)")
    r.add_argument("--max-gap", type=_positive_int,
                   help="warn (LONG_GAP) when two saves are more than this many steps apart")
    o = parser.add_argument_group("output")
    o.add_argument("--strict", action="store_true", help="exit 1 when any warning is found")
    o.add_argument("--compare-hf", action="store_true",
                   help="also show what transformers / Axolotl would save")
    o.add_argument("--json", action="store_true", help="machine-readable output")
    o.add_argument("--rows", type=_positive_int, default=40,
                   help="table rows to print before eliding the middle (default 40)")


def _schedule_kwargs(args) -> dict:
    every = args.every
    if every is not None and is_integer(every):
        try:
            every = integer(every)
        except OverflowError as exc:
            raise OverflowError(f"argument --every: {exc}") from None
    return dict(saves_per_epoch=args.saves_per_epoch, count=args.count, every=every,
                start=args.start, until=args.until, ratio=args.ratio, at=args.at,
                first=args.first, final=args.final, min_interval=args.min_interval,
                max_gap=args.max_gap)


@contextlib.contextmanager
def _quiet_logger():
    """The CLI prints diagnostics itself; keep the logger from printing them twice."""
    saved = logger.propagate, logger.handlers[:]
    logger.propagate = False
    logger.handlers[:] = [logging.NullHandler()]
    try:
        yield
    finally:
        logger.propagate, logger.handlers[:] = saved[0], saved[1]


def _where(run, step) -> str:
    if run.steps_per_epoch is None:
        return f"step {step} of {run.total_steps}"
    epoch, position = run.locate(step)
    return f"epoch {epoch}, step {position} of {run.steps_per_epoch}"


def _hf(run, kwargs):
    """(description, Engine) of what transformers / Axolotl would save, or (reason, None)."""
    found = transformers_equivalent(run, **{k: kwargs[k] for k in
                                            ("saves_per_epoch", "count", "every", "ratio")})
    if found is None:
        return "no transformers equivalent for these rules", None
    description, interval = found
    return description, transformers_engine(run.total_steps, interval)


# Python argument names as they appear in ckptsched's error messages, and their flags.
_FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "steps_per_epoch", "epochs", "max_steps", "num_examples", "micro_batch_size", "grad_accum",
    "world_size", "samples_per_step", "tokens_per_step", "saves_per_epoch", "count", "every",
    "start", "until", "ratio", "at", "min_interval", "max_gap")}


def _naming_the_flag(exc: Exception) -> ValueError:
    """The error of a library call, reworded to name the flag the user typed: the argument
    the message starts with, else the first `name=` / `name[` it mentions."""
    message = str(exc)
    match = re.match(r"(\w+)", message)
    name = match.group(1) if match and match.group(1) in _FLAGS else None
    if name is None:
        mentions = [(m.start(), m.group(1)) for m in re.finditer(r"\b(\w+)[=\[]", message)
                    if m.group(1) in _FLAGS]
        name = min(mentions)[1] if mentions else None
    prefix = f"argument {_FLAGS[name]}: " if name else ""
    if name and str(MAX_MATERIALIZED) in message:  # the run is too long for this rule
        message += (f" (on the command line: leave out {_FLAGS[name]} for this run, or plan "
                    "fewer steps)")
    return ValueError(prefix + message)


def run(args) -> int:
    kwargs = _schedule_kwargs(args)
    try:
        run_ = run_from_args(args)
        with _quiet_logger():
            sched = Schedule(run_, **kwargs)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _naming_the_flag(exc) from None
    hf_description, hf_engine = _hf(run_, kwargs) if args.compare_hf else (None, None)
    warnings = [d for d in sched.diagnostics if d.severity == WARNING]
    if args.json:
        _print_json(run_, sched, hf_description, hf_engine)
    else:
        _print_table(run_, sched, hf_description, hf_engine, args.rows)
    return 1 if args.strict and warnings else 0


# ---- listing steps without building the schedule ---------------------------------------

def _count(sched):
    """len(sched), or None when counting would walk too many steps of overlapping rules."""
    try:
        return len(sched)
    except ValueError:
        return None


def _step_list_or_none(fill):
    """fill(MAX_MATERIALIZED) (an engine's, or a schedule's steps) as a list of ints, or
    None when there are too many to list."""
    try:
        return [int(s) for s in fill()]
    except ValueError:
        return None


def _table_rows(next_after, last, rows, count=None):
    """(ordinal, step) of every step, or of the first and last rows//2 with None between
    them when there are more than `rows` steps; the tail's ordinals count back from the
    end (-1 is the last).  A generator: it walks the steps it yields (and, when `count`
    is None, at most rows + 1 steps to count them), never the whole schedule."""
    if count is None:
        count, step = 0, next_after(0)
        while step is not None and count <= rows:
            count, step = count + 1, next_after(step)
    if count <= rows:
        yield from enumerate(all_steps(next_after), 1)
        return
    half = max(rows // 2, 1)
    yield from enumerate(first_steps(next_after, half), 1)
    yield None
    yield from enumerate(last_steps(next_after, last, half), -half)


def _union_next_after(*schedules):
    """next_after of the union of schedules (anything with a next_after method)."""
    def next_after(step):
        found = [s for s in (x.next_after(step) for x in schedules) if s is not None]
        return min(found) if found else None
    return next_after


# ---- output ------------------------------------------------------------------------------

def _print_json(run_, sched, hf_description, hf_engine):
    out = {
        "backend": _backend.NAME,
        "run": {"steps_per_epoch": run_.steps_per_epoch,
                "epochs": None if run_.epochs is None else str(run_.epochs),
                "max_steps": run_.max_steps, "total_steps": run_.total_steps,
                "num_epochs": run_.num_epochs},
        "schedule": repr(sched),
        "count": _count(sched),
        "steps": _step_list_or_none(lambda: sched.steps),
        "diagnostics": [{"code": d.code, "severity": d.severity, "message": d.message,
                         "data": d.data} for d in sched.diagnostics],
    }
    if hf_description is not None:
        hf = {"steps": None, "count": None}
        if hf_engine is not None:
            hf = {"steps": _step_list_or_none(lambda: hf_engine.fill(MAX_MATERIALIZED)),
                  "count": hf_engine.count(MAX_MATERIALIZED)}
        out["compare_hf"] = {"description": hf_description, **hf}
    print(json.dumps(out, indent=2, default=str))


def _saves(count) -> str:
    if count is None:
        return (f"an unknown number of saves (counting would walk more than {MAX_MATERIALIZED} "
                "steps of overlapping rules)")
    return f"{count} saves"


def _print_table(run_, sched, hf_description, hf_engine, rows):
    T = run_.total_steps
    if run_.steps_per_epoch is not None:
        print(f"run: {run_.steps_per_epoch} steps/epoch, {run_.num_epochs} epoch(s), "
              f"{T} steps in all  [{run_!r}, backend {_backend.NAME}]")
    else:
        print(f"run: {T} steps  [{run_!r}, backend {_backend.NAME}]")
    print(f"schedule: {sched!r}")
    print()
    count = _count(sched)
    if hf_engine is None:
        print(f"{'n':>6}  {'step':>10}  where in the run")
        for item in _table_rows(sched.next_after, sched.last, rows, count):
            if item is None:
                print(f"{'...':>6}  {'...':>10}")
                continue
            n, step = item
            ordinal = n if n > 0 else ("?" if count is None else count + 1 + n)
            print(f"{ordinal:>6}  {step:>10}  {_where(run_, step)}")
        print(f"\n{_saves(count)}")
    else:
        union = _union_next_after(sched, hf_engine)
        last = max(sched.last or 0, hf_engine.last() or 0)
        print(f"{'step':>10}  {'ckptsched':>9}  {'HF':>4}  where in the run")
        for item in _table_rows(union, last, rows):
            if item is None:
                print(f"{'...':>10}")
                continue
            step = item[1]
            ours = "save" if step in sched else "-"
            theirs = "save" if hf_engine.contains(step) else "-"
            print(f"{step:>10}  {ours:>9}  {theirs:>4}  {_where(run_, step)}")
        print(f"\nckptsched: {_saves(count)};  HF ({hf_description}): "
              f"{hf_engine.count(MAX_MATERIALIZED)} saves")
    if sched.diagnostics:
        print("\ndiagnostics:")
        for d in sched.diagnostics:
            print(f"  {d.code} ({d.severity}): {d.message}")
    else:
        print("\nno diagnostics: the schedule is exactly what was asked")

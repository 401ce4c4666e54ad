"""`ckptsched plan`: show a run's whole schedule, its diagnostics, and what transformers
or Axolotl would save instead."""
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
from ..diagnostics import WARNING, logger
from ..run import Run
from ..schedule import MAX_MATERIALIZED, Schedule

HELP = "Show the exact steps a run would save at, with diagnostics (and --compare-hf)."


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _non_negative_int(text):
    return 0 if text.strip() == "0" else _positive_int(text)


def _rational(text):
    """An exact number: '4', '2.3' (= 23/10), '7/100', '1e-2'."""
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"must be a number like 4, 2.3 or 7/100, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    if value.denominator == 1:
        return int(value)
    # a float reads better in reprs and is what transformers would see; keep the
    # Fraction only when the float would not mean the same number to ckptsched
    as_float = float(value)
    return as_float if simplest_rational(as_float) == value else value


def _step_list(text):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated steps like 100,250, got {text!r}") from None


def add_run_arguments(parser):
    """The flags that describe a Run (shared with other subcommands)."""
    g = parser.add_argument_group("run geometry (give --steps-per-epoch or the dataset flags)")
    g.add_argument("--steps-per-epoch", type=_positive_int, help="optimizer steps per epoch S")
    g.add_argument("--epochs", type=_rational, help="epochs: an integer or exact number (2.3 = 23/10)")
    g.add_argument("--max-steps", type=_positive_int, help="total optimizer steps T (wins over --epochs)")
    g.add_argument("--num-examples", type=_positive_int, help="dataset size (instead of --steps-per-epoch)")
    g.add_argument("--micro-batch-size", type=_positive_int, default=1)
    g.add_argument("--grad-accum", type=_positive_int, default=1)
    g.add_argument("--world-size", type=_positive_int, default=1)
    g.add_argument("--drop-last", action="store_true", help="the dataloader drops incomplete batches")
    g.add_argument("--partial-accumulation", choices=("step", "drop"), default="step",
                   help="a trailing partial accumulation steps (transformers >= 4.52) or is dropped")
    g.add_argument("--samples-per-step", type=_rational)
    g.add_argument("--tokens-per-step", type=_rational)


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
    r.add_argument("--saves-per-epoch", type=_positive_int)
    r.add_argument("--count", type=_positive_int, help="n evenly spaced saves, the last at T")
    r.add_argument("--every", help="steps (500) or a unit: 2ep, 10000sp, 1e9tok")
    r.add_argument("--start", type=_positive_int, help="first step of --every")
    r.add_argument("--until", type=_positive_int, help="last step --every may use")
    r.add_argument("--ratio", type=_rational, help="transformers' ratio 0 < r < 1: every ceil(T*r)")
    r.add_argument("--at", type=_step_list, help="listed steps, comma-separated")
    r.add_argument("--first", action="store_true", help="also save after step 1")
    r.add_argument("--no-final", dest="final", action="store_false", help="do not force a save at T")
    r.add_argument("--min-interval", type=_non_negative_int, default=0)
    r.add_argument("--max-gap", type=_positive_int)
    o = parser.add_argument_group("output")
    o.add_argument("--strict", action="store_true", help="exit 1 when any warning is found")
    o.add_argument("--compare-hf", action="store_true",
                   help="also show what transformers / Axolotl would save")
    o.add_argument("--json", action="store_true", help="machine-readable output")
    o.add_argument("--rows", type=_positive_int, default=40,
                   help="table rows to print before eliding the middle (default 40)")


def _schedule_kwargs(args) -> dict:
    every = args.every
    if every is not None and every.strip().isdigit():
        every = int(every)
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


def _elide(items, rows):
    """The first and last rows/2 items, with None where the middle is left out."""
    if len(items) <= rows:
        return list(items)
    half = max(rows // 2, 1)
    return list(items[:half]) + [None] + list(items[-half:])


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
    return ValueError(prefix + message)


def run(args) -> int:
    kwargs = _schedule_kwargs(args)
    try:
        run_ = run_from_args(args)
        with _quiet_logger():
            sched = Schedule(run_, **kwargs)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _naming_the_flag(exc) from None
    try:
        steps = [int(s) for s in sched.steps]
    except ValueError:
        steps = None  # too large to list; the count and diagnostics still apply
    hf_description, hf_engine = _hf(run_, kwargs) if args.compare_hf else (None, None)
    warnings = [d for d in sched.diagnostics if d.severity == WARNING]
    if args.json:
        _print_json(run_, sched, steps, hf_description, hf_engine)
    else:
        _print_table(run_, sched, steps, hf_description, hf_engine, args.rows)
    return 1 if args.strict and warnings else 0


def _hf_steps(hf_engine):
    return None if hf_engine is None else [int(s) for s in hf_engine.fill(MAX_MATERIALIZED)]


def _print_json(run_, sched, steps, hf_description, hf_engine):
    out = {
        "backend": _backend.NAME,
        "run": {"steps_per_epoch": run_.steps_per_epoch,
                "epochs": None if run_.epochs is None else str(run_.epochs),
                "max_steps": run_.max_steps, "total_steps": run_.total_steps,
                "num_epochs": run_.num_epochs},
        "schedule": repr(sched),
        "count": len(sched),
        "steps": steps,
        "diagnostics": [{"code": d.code, "severity": d.severity, "message": d.message,
                         "data": d.data} for d in sched.diagnostics],
    }
    if hf_description is not None:
        hf_steps = _hf_steps(hf_engine)
        out["compare_hf"] = {"description": hf_description, "steps": hf_steps,
                             "count": None if hf_steps is None else len(hf_steps)}
    print(json.dumps(out, indent=2, default=str))


def _print_table(run_, sched, steps, hf_description, hf_engine, rows):
    T = run_.total_steps
    if run_.steps_per_epoch is not None:
        print(f"run: {run_.steps_per_epoch} steps/epoch, {run_.num_epochs} epoch(s), "
              f"{T} steps in all  [{run_!r}, backend {_backend.NAME}]")
    else:
        print(f"run: {T} steps  [{run_!r}, backend {_backend.NAME}]")
    print(f"schedule: {sched!r}")
    print()
    if steps is None:
        print(f"{len(sched)} saves (too many to list; first {sched.next_after(0)}, last {sched.last})")
    elif hf_engine is None:
        print(f"{'n':>6}  {'step':>10}  where in the run")
        for item in _elide(list(enumerate(steps, 1)), rows):
            if item is None:
                print(f"{'...':>6}  {'...':>10}")
                continue
            n, step = item
            print(f"{n:>6}  {step:>10}  {_where(run_, step)}")
        print(f"\n{len(steps)} saves")
    else:
        hf_steps = _hf_steps(hf_engine)
        union = sorted(set(steps) | set(hf_steps))
        ours, theirs = set(steps), set(hf_steps)
        print(f"{'step':>10}  {'ckptsched':>9}  {'HF':>4}  where in the run")
        for step in _elide(union, rows):
            if step is None:
                print(f"{'...':>10}")
                continue
            mark = lambda present: "save" if present else "-"
            print(f"{step:>10}  {mark(step in ours):>9}  {mark(step in theirs):>4}  {_where(run_, step)}")
        print(f"\nckptsched: {len(steps)} saves;  HF ({hf_description}): {len(hf_steps)} saves")
    if sched.diagnostics:
        print("\ndiagnostics:")
        for d in sched.diagnostics:
            print(f"  {d.code} ({d.severity}): {d.message}")
    else:
        print("\nno diagnostics: the schedule is exactly what was asked")

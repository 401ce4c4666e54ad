"""`ckptsched plan`: show a run's whole schedule, its diagnostics, and what transformers
or Axolotl would save instead; with a plan's flags, its save / eval / log schedules together,
what is on disk after each save, the peak and the survivors; --plot draws it.

The table lists every step, or its first and last --rows/2 when there are more: found
with next_after queries (the last ones by bisection), so a run of 10**18 steps prints
without ever being built.  --json lists the steps only up to the library's MAX_MATERIALIZED
(`"steps": null` beyond).

The rule flags come in three families generated from one table (_RULES): the save rules as
they always were (--every, --saves-per-epoch, ...), and the same rules for evaluations
(--eval-every, --eval-per-epoch, ...) and logging (--log-every, ...).  Any eval / log rule,
retention flag (--keep-last, --keep-every, --keep-best, --load-best-model-at-end) or size
(--checkpoint-size, --disk-budget: "16GB", "500MiB", ckptsched.sizes) makes the output a
plan's (a Plan needs every save step); without them it is exactly the single-schedule table.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from fractions import Fraction
from typing import Any, Optional

from .. import _backend
from .._frameworks import transformers_engine, transformers_equivalent
from .._numbers import simplest_rational
from ._shared import (all_steps, byte_size, first_steps, integer, is_integer, last_steps,
                      quiet_logger, shown)
from ..diagnostics import WARNING
from ..plan import Plan
from ..retention import Retention
from ..run import Run
from ..schedule import MAX_MATERIALIZED, Schedule
from ..sizes import format_size

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


# The rule flags, generated for the three families (save, eval, log) from one table, so they
# stay in step: (Schedule argument, flag suffix for save, flag suffix for eval / log, argparse
# keywords, help with {n} the noun and {v} the plural).
_RULES: tuple[tuple[str, str, str, dict[str, Any], str], ...] = (
    ("saves_per_epoch", "saves-per-epoch", "per-epoch", dict(type=_positive_int),
     "k evenly spaced {v} per epoch, the last at the epoch end"),
    ("count", "count", "count", dict(type=_positive_int), "n evenly spaced {v}, the last at T"),
    ("every", "every", "every", dict(), "a {n} every N steps (500) or a unit: 2ep, 10000sp, 1e9tok"),
    ("start", "start", "start", dict(type=_positive_int), "first step of the {n} --every rule"),
    ("until", "until", "until", dict(type=_positive_int),
     "last step the {n} --every rule may use"),
    ("ratio", "ratio", "ratio", dict(type=_rational),
     "transformers' ratio 0 < r < 1 for {v}: every ceil(T*r)"),
    ("at", "at", "at", dict(type=_step_list), "{v} at the listed steps, comma-separated"),
    ("first", "first", "first", dict(action="store_true"), "also a {n} after step 1"),
    ("final", "no-final", "no-final", dict(action="store_false"), "do not force a {n} at T"),
    ("min_interval", "min-interval", "min-interval", dict(type=_non_negative_int, default=0),
     "drop {v} closer than this many steps to the previous kept one (default 0: keep all)"),
    ("max_gap", "max-gap", "max-gap", dict(type=_positive_int),
     "warn (LONG_GAP) when two {v} are more than this many steps apart"),
)

_METAVARS = dict(saves_per_epoch="K", count="N", every="RULE", start="STEP", until="STEP",
                 ratio="R", at="STEPS", min_interval="N", max_gap="N")

#: (family, noun, plural) of the three schedules a plan shows; the flags of eval and log
#: are --eval-<suffix> and --log-<suffix>.
_FAMILIES = (("save", "save", "saves"), ("eval", "evaluation", "evaluations"),
             ("log", "log step", "log steps"))


def _flag(family: str, rule: tuple) -> str:
    return "--" + (rule[1] if family == "save" else f"{family}-{rule[2]}")


def _dest(family: str, argument: str) -> str:
    return argument if family == "save" else f"{family}_{argument}"


def add_arguments(parser):
    add_run_arguments(parser)
    for family, noun, plural in _FAMILIES:
        title = ("rules (any combination: the schedule is their union)" if family == "save" else
                 f"{family} rules (the same rules, for the steps that {family}; optional)")
        g = parser.add_argument_group(title)
        for rule in _RULES:
            argument, _, _, keywords, text = rule
            if family != "save" and "action" not in keywords:
                keywords = dict(keywords, metavar=_METAVARS[argument])
            g.add_argument(_flag(family, rule), dest=_dest(family, argument),
                           help=text.format(n=noun, v=plural), **keywords)
    k = parser.add_argument_group("retention and disk (a plan: what is on disk after each save)")
    k.add_argument("--keep-last", type=_positive_int, metavar="N",
                   help="keep the N most recent checkpoints (default: keep all)")
    k.add_argument("--keep-every", metavar="RULE",
                   help="also keep forever the first save at or after every N steps (1000) or "
                        "unit (1ep, 10000sp, 1e9tok)")
    k.add_argument("--keep-best", type=_positive_int, metavar="K",
                   help="also keep the K best-scoring checkpoints (chosen at run time)")
    k.add_argument("--load-best-model-at-end", action="store_true",
                   help="load the best evaluated model at the end, as transformers does (needs "
                        "eval rules; checks BEST_NOT_SAVED and what transformers would refuse)")
    k.add_argument("--checkpoint-size", type=byte_size("--checkpoint-size"), metavar="SIZE",
                   help="bytes per checkpoint: 16GB, 2e9, 500MiB, 1.5TB")
    k.add_argument("--disk-budget", type=byte_size("--disk-budget"), metavar="SIZE",
                   help="warn (DISK_BUDGET) when the peak on disk exceeds SIZE (needs "
                        "--checkpoint-size)")
    o = parser.add_argument_group("output")
    o.add_argument("--strict", action="store_true", help="exit 1 when any warning is found")
    o.add_argument("--compare-hf", action="store_true",
                   help="also show what transformers / Axolotl would save")
    o.add_argument("--json", action="store_true", help="machine-readable output")
    o.add_argument("--rows", type=_positive_int, default=40,
                   help="table rows to print before eliding the middle (default 40)")
    o.add_argument("--plot", type=_plot_path, metavar="FILE",
                   help="draw the plan to FILE (.png, .svg or .pdf; needs matplotlib: "
                        "pip install 'ckptsched[plot]')")


_PLOT_FORMATS = (".png", ".svg", ".pdf")


def _plot_path(text):
    if not text.lower().endswith(_PLOT_FORMATS):
        raise argparse.ArgumentTypeError(
            f"must be a file name ending in {', '.join(_PLOT_FORMATS)}, got {shown(text)}")
    return text


def _schedule_kwargs(args, family: str = "save") -> dict:
    """The Schedule keyword arguments of one family's flags."""
    kwargs = {argument: getattr(args, _dest(family, argument)) for argument, *_ in _RULES}
    every = kwargs["every"]
    if every is not None and is_integer(every):
        try:
            kwargs["every"] = integer(every)
        except OverflowError as exc:
            flag = _flag(family, _RULES[2])
            raise OverflowError(f"argument {flag}: {exc}") from None
    return kwargs


def _family_given(args, family: str) -> bool:
    """Did the command line give any of `family`'s rule flags (eval / log are optional)?"""
    kwargs = _schedule_kwargs(args, family)
    defaults = dict(first=False, final=True, min_interval=0)
    return any(value != defaults.get(name) for name, value in kwargs.items())


def _plan_flags_given(args) -> bool:
    """Any flag that turns the single-schedule table into a plan's."""
    return (_family_given(args, "eval") or _family_given(args, "log")
            or any(getattr(args, name) not in (None, False) for name in (
                "keep_last", "keep_every", "keep_best", "load_best_model_at_end",
                "checkpoint_size", "disk_budget")))




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
_RUN_FLAGS = {name: "--" + name.replace("_", "-") for name in (
    "steps_per_epoch", "epochs", "max_steps", "num_examples", "micro_batch_size", "grad_accum",
    "world_size", "samples_per_step", "tokens_per_step")}
_PLAN_FLAGS = {"keep_last": "--keep-last", "keep_every": "--keep-every",
               "keep_best": "--keep-best", "load_best_model_at_end": "--load-best-model-at-end",
               "checkpoint_bytes": "--checkpoint-size", "disk_budget": "--disk-budget"}


def _family_flags(family: str) -> dict:
    """The Schedule argument names of one family's rules, and their flags."""
    return {rule[0]: _flag(family, rule) for rule in _RULES if rule[0] not in ("first", "final")}


_FLAGS = {**_RUN_FLAGS, **_family_flags("save")}


def _naming_the_flag(exc: Exception, flags: Optional[dict] = None) -> ValueError:
    """The error of a library call, reworded to name the flag the user typed: the argument
    the message starts with, else the first `name=` / `name[` it mentions (`flags`: the
    argument names to look for, and their flags; default those of the run and the save rules)."""
    flags = _FLAGS if flags is None else flags
    message = str(exc)
    match = re.match(r"(\w+)", message)
    name = match.group(1) if match and match.group(1) in flags else None
    if name is None:
        mentions = [(m.start(), m.group(1)) for m in re.finditer(r"\b(\w+)[=\[]", message)
                    if m.group(1) in flags]
        name = min(mentions)[1] if mentions else None
    prefix = f"argument {flags[name]}: " if name else ""
    if name and str(MAX_MATERIALIZED) in message:  # the run is too long for this rule
        message += (f" (on the command line: leave out {flags[name]} for this run, or plan "
                    "fewer steps)")
    return ValueError(prefix + message)


def run(args) -> int:
    if args.plot is not None:
        _require_matplotlib()
    kwargs = _schedule_kwargs(args)
    try:
        run_ = run_from_args(args)
        with quiet_logger():
            sched = Schedule(run_, **kwargs)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _naming_the_flag(exc) from None
    hf_description, hf_engine = _hf(run_, kwargs) if args.compare_hf else (None, None)
    as_plan = _plan_flags_given(args)
    plan = _plan_from_args(args, run_, sched) if as_plan or args.plot is not None else None
    if plan is not None and as_plan:
        diagnostics = plan.diagnostics
        if args.json:
            _print_plan_json(plan, args, hf_description, hf_engine)
        else:
            _print_plan_table(plan, args, hf_description, hf_engine)
    else:  # today's single-schedule output (--plot alone adds only the picture)
        diagnostics = sched.diagnostics
        if args.json:
            _print_json(run_, sched, hf_description, hf_engine)
        else:
            _print_table(run_, sched, hf_description, hf_engine, args.rows)
    if args.plot is not None:
        _draw(plan, args, hf_engine)
    warnings = [d for d in diagnostics if d.severity == WARNING]
    return 1 if args.strict and warnings else 0


def _plan_from_args(args, run_, save):
    """The Plan of the command line: `save` and the eval / log families' Schedules (built here,
    so that an error names the family's flag), the retention and the sizes."""
    families = {}
    for family in ("eval", "log"):
        if not _family_given(args, family):
            families[family] = None
            continue
        try:
            with quiet_logger():
                families[family] = Schedule(run_, **_schedule_kwargs(args, family))
        except (TypeError, ValueError, OverflowError) as exc:
            raise _naming_the_flag(exc, _family_flags(family)) from None
    try:
        keep = None
        if any(v is not None for v in (args.keep_last, args.keep_every, args.keep_best)):
            keep_every = args.keep_every
            if keep_every is not None and is_integer(keep_every):
                keep_every = integer(keep_every)
            keep = Retention(keep_last=args.keep_last, keep_every=keep_every,
                             keep_best=args.keep_best)
        with quiet_logger():
            return Plan(run_, save=save, eval=families["eval"], log=families["log"], keep=keep,
                        checkpoint_bytes=args.checkpoint_size, disk_budget=args.disk_budget,
                        load_best_model_at_end=args.load_best_model_at_end)
    except (TypeError, ValueError, OverflowError) as exc:
        if "load_best_model_at_end=True keeps the best" in str(exc):
            raise ValueError("argument --load-best-model-at-end: needs eval rules (--eval-every, "
                             "--eval-per-epoch, ...): the best model is chosen among the "
                             "evaluations") from None
        if str(exc).startswith("disk_budget=") and args.checkpoint_size is None:
            raise ValueError("argument --disk-budget: needs --checkpoint-size (the size of one "
                             "checkpoint) to compare the peak on disk with it") from None
        raise _naming_the_flag(exc, _PLAN_FLAGS) from None


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
        "run": _run_json(run_),
        "schedule": repr(sched),
        "count": _count(sched),
        "steps": _step_list_or_none(lambda: sched.steps),
        "diagnostics": _diagnostics_json(sched.diagnostics),
    }
    if hf_description is not None:
        out["compare_hf"] = _compare_hf_json(hf_description, hf_engine)
    print(json.dumps(out, indent=2, default=str))


def _run_json(run_) -> dict:
    """The run's geometry as JSON."""
    return {"steps_per_epoch": run_.steps_per_epoch,
            "epochs": None if run_.epochs is None else str(run_.epochs),
            "max_steps": run_.max_steps, "total_steps": run_.total_steps,
            "num_epochs": run_.num_epochs}


def _diagnostics_json(diagnostics) -> list:
    """Diagnostics as JSON objects: code, severity, message, data."""
    return [{"code": d.code, "severity": d.severity, "message": d.message, "data": d.data}
            for d in diagnostics]


def _compare_hf_json(hf_description: str, hf_engine) -> dict:
    """What transformers / Axolotl would do, as JSON: its description, steps and count
    (None where they cannot be listed)."""
    hf = {"steps": None, "count": None}
    if hf_engine is not None:
        hf = {"steps": _step_list_or_none(lambda: hf_engine.fill(MAX_MATERIALIZED)),
              "count": hf_engine.count(MAX_MATERIALIZED)}
    return {"description": hf_description, **hf}


def _saves(count) -> str:
    if count is None:
        return (f"an unknown number of saves (counting would walk more than {MAX_MATERIALIZED} "
                "steps of overlapping rules)")
    return f"{count} saves"


def _print_run_line(run_) -> None:
    """The table's first line: the run's geometry, its repr and the backend in use."""
    T = run_.total_steps
    if run_.steps_per_epoch is not None:
        print(f"run: {run_.steps_per_epoch} steps/epoch, {run_.num_epochs} epoch(s), "
              f"{T} steps in all  [{run_!r}, backend {_backend.NAME}]")
    else:
        print(f"run: {T} steps  [{run_!r}, backend {_backend.NAME}]")


def _print_table(run_, sched, hf_description, hf_engine, rows):
    _print_run_line(run_)
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
    _print_diagnostics(sched.diagnostics, "the schedule")


# ---- a plan: save / eval / log together, retention and disk -----------------------------

_SHOWN_ON_DISK = 4  # list the steps on disk when there are at most this many


def _shows_disk(plan) -> bool:
    """Does the plan say more about the disk than "every checkpoint stays"?"""
    keep = plan.keep
    return (plan.checkpoint_bytes is not None or keep.keep_last is not None
            or keep.keep_every is not None or keep.keep_best is not None)


def _on_disk_cell(plan, index: int) -> str:
    """What is on disk after the `index`-th save (0-based) and its deletions."""
    timeline = plan.timeline
    count = int(timeline.after[index])
    text = f"{count} ckpt" + ("" if count == 1 else "s")
    if timeline.after_bytes is not None:
        text += f", {format_size(int(timeline.after_bytes[index]))}"
    if count <= _SHOWN_ON_DISK:
        steps = plan.on_disk_after(int(timeline.step[index])).tolist()
        best = count - len(steps)
        text += ": " + ", ".join(str(s) for s in steps) + (f" + {best} best" if best else "")
    return text


def _families(plan) -> list:
    """(name, Schedule) of the plan's schedules, save first."""
    return [(name, s) for name, s in (("save", plan.save), ("eval", plan.eval), ("log", plan.log))
            if s is not None]


def _print_plan_table(plan, args, hf_description, hf_engine):
    run_ = plan.run
    _print_run_line(run_)
    families = _families(plan)
    for name, schedule in families:
        print(f"{name}: {schedule!r}")
    if _shows_disk(plan):
        print(f"keep: {plan.keep!r}")
    print()
    sources = [s for _, s in families] + ([hf_engine] if hf_engine is not None else [])
    union = _union_next_after(*sources)
    last = max([s.last or 0 for _, s in families] + [hf_engine.last() or 0 if hf_engine else 0])
    save_index = {int(step): i for i, step in enumerate(plan.timeline.step)}
    disk = _shows_disk(plan)
    header = [f"{'step':>10}"] + [f"{name:>4}" for name, _ in families]
    if hf_engine is not None:
        header.append("HF save")
    rows = []
    for item in _table_rows(union, last, args.rows):
        if item is None:
            rows.append(None)
            continue
        step = item[1]
        cells = [f"{step:>10}"]
        for name, schedule in families:
            cells.append(f"{(name if step in schedule else '-'):>4}")
        if hf_engine is not None:
            cells.append(f"{('save' if hf_engine.contains(step) else '-'):>7}")
        where = _where(run_, step)
        on_disk = _on_disk_cell(plan, save_index[step]) if disk and step in save_index else ""
        rows.append((cells, where, on_disk))
    width = max([len(r[1]) for r in rows if r is not None] + [len("where in the run")])
    print(("  ".join(header) + f"  {'where in the run':<{width}}"
           + ("  on disk after" if disk else "")).rstrip())
    for row in rows:
        if row is None:
            print(f"{'...':>10}")
            continue
        cells, where, on_disk = row
        print(("  ".join(cells) + f"  {where:<{width}}  {on_disk}").rstrip())
    print()
    counts = []
    for name, schedule in families:
        noun = {"save": "saves", "eval": "evaluations", "log": "log steps"}[name]
        count = _count(schedule)
        counts.append(f"{'?' if count is None else count} {noun}")
    print("; ".join(counts))
    if hf_engine is not None:
        print(f"HF ({hf_description}): {hf_engine.count(MAX_MATERIALIZED)} saves")
    elif hf_description is not None:
        print(f"HF: {hf_description}")
    if disk:
        _print_disk(plan)
    _print_diagnostics(plan.diagnostics, "the plan")


def _print_diagnostics(diagnostics, what: str) -> None:
    """The diagnostics of `what` (a schedule or a plan), one per line, or that there are none."""
    if diagnostics:
        print("\ndiagnostics:")
        for d in diagnostics:
            print(f"  {d.code} ({d.severity}): {d.message}")
    else:
        print(f"\nno diagnostics: {what} is exactly what was asked")


def _steps_preview(steps, shown_count: int = 8) -> str:
    values = [str(s) for s in steps[:shown_count]]
    return ", ".join(values) + (f", ... ({len(steps)} in all)" if len(steps) > shown_count else "")


def _print_disk(plan):
    peak, size = plan.peak, plan.checkpoint_bytes
    if peak.step is None:
        print("peak on disk: nothing is saved")
        return
    in_bytes = "" if peak.bytes is None else f", {format_size(peak.bytes)} ({peak.bytes} bytes)"
    print(f"peak on disk: {peak.count} checkpoints{in_bytes}, during the save at step "
          f"{peak.step} (before older ones are deleted)")
    if plan.disk_budget is not None:
        verdict = "over it" if peak.bytes > plan.disk_budget else "fits"
        print(f"disk budget: {format_size(plan.disk_budget)} ({plan.disk_budget} bytes): "
              f"the peak {verdict}")
    survivors = plan.survivors.tolist()
    best = int(plan.timeline.after[-1]) - len(survivors)
    extra = f" + {best} best by metric" if best else ""
    in_bytes = "" if size is None else f" ({format_size((len(survivors) + best) * size)})"
    print(f"survivors at the end: {len(survivors) + best}{in_bytes}: "
          f"{_steps_preview(survivors)}{extra}")


def _schedule_json(schedule):
    return {"schedule": repr(schedule), "count": _count(schedule),
            "steps": _step_list_or_none(lambda: schedule.steps)}


_LISTED_SAVES = 1000  # --json lists the steps on disk after each save up to this many saves


def _on_disk_lists(plan):
    """The steps on disk after each save (keep_best's runtime picks not included), or None
    for a plan of more than _LISTED_SAVES saves (the lists would grow as its square)."""
    steps = plan.timeline.step
    if len(steps) > _LISTED_SAVES:
        return None
    return [plan.on_disk_after(int(s)).tolist() for s in steps]


def _print_plan_json(plan, args, hf_description, hf_engine):
    run_, save, t = plan.run, plan.save, plan.timeline
    keep = plan.keep

    def as_list(array):
        return None if array is None else array.tolist()

    out = {
        "backend": _backend.NAME,
        "run": _run_json(run_),
        **_schedule_json(save),
        "eval": None if plan.eval is None else _schedule_json(plan.eval),
        "log": None if plan.log is None else _schedule_json(plan.log),
        "keep": {"keep_last": keep.keep_last, "keep_every": keep._keep_every_given(),
                 "keep_best": keep.keep_best},
        "load_best_model_at_end": plan.load_best_model_at_end,
        "checkpoint_bytes": plan.checkpoint_bytes, "disk_budget": plan.disk_budget,
        "timeline": {"step": as_list(t.step), "during": as_list(t.during),
                     "after": as_list(t.after), "during_bytes": as_list(t.during_bytes),
                     "after_bytes": as_list(t.after_bytes)},
        "on_disk_after": _on_disk_lists(plan),
        "peak": plan.peak._asdict(),
        "survivors": plan.survivors.tolist(),
        "diagnostics": _diagnostics_json(plan.diagnostics),
    }
    if hf_description is not None:
        out["compare_hf"] = _compare_hf_json(hf_description, hf_engine)
    print(json.dumps(out, indent=2, default=str))


# ---- --plot --------------------------------------------------------------------------------

def _require_matplotlib():
    """--plot needs matplotlib: say so (exit 2) before any work when it is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError("argument --plot: needs matplotlib; install it with "
                         "pip install 'ckptsched[plot]'") from None


def _draw(plan, args, hf_engine):
    """Write the plan's picture to args.plot, with transformers' save / eval steps as hollow
    marks when --compare-hf found them."""
    from ..plotting import plot_plan, save_figure

    compare = {}
    engines = {"save": hf_engine}
    if hf_engine is not None and plan.eval is not None:
        engines["eval"] = _hf(plan.run, _schedule_kwargs(args, "eval"))[1]
    for family, engine in engines.items():
        if engine is not None:
            steps = _step_list_or_none(lambda: engine.fill(MAX_MATERIALIZED))
            if steps is not None:  # else too many to draw: left out of the picture
                compare[family] = steps
    figure = plot_plan(plan, compare=compare, compare_label="transformers / Axolotl")
    save_figure(figure, args.plot)
    print(f"ckptsched plan: wrote {args.plot}", file=sys.stderr)

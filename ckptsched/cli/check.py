"""`ckptsched check CONFIG --num-examples N`: an Axolotl config's exact schedules next to
what Axolotl would do, with the diagnostics.  Exit 1 with --strict when they differ or a
warning was found; 2 for bad usage, or with --strict when the two schedules are too large
to compare step by step (the tables still print without --strict)."""
from __future__ import annotations

import argparse
import json
import sys

from .._numbers import to_int
from ..diagnostics import WARNING, Diagnostic
from ..sizes import format_size
from ._shared import all_steps, byte_size, first_steps, integer, last_steps, quiet_logger

HELP = "compare an Axolotl config's exact save/eval schedules with what Axolotl would do"


def _whole_number(text):
    """An integer flag's value (argparse type); its range is checked with to_int in run()."""
    try:
        return integer(text)
    except (ValueError, OverflowError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser) -> None:
    parser.add_argument("config", metavar="CONFIG", help="an Axolotl YAML config (needs PyYAML)")
    parser.add_argument("--num-examples", type=_whole_number, required=True, metavar="N",
                        help="training examples per epoch, after the validation split "
                             "(packed sequences with sample_packing)")
    parser.add_argument("--world-size", type=_whole_number, default=1, metavar="W",
                        help="data-parallel ranks (default 1)")
    parser.add_argument("--partial-accumulation", choices=("step", "drop"), default="step",
                        help="does a trailing partial gradient accumulation step? "
                             "'step' for transformers >= 4.52 (default), 'drop' before")
    parser.add_argument("--rows", type=_whole_number, default=40, metavar="R",
                        help="at most this many rows per side-by-side table (default 40)")
    parser.add_argument("--checkpoint-size", type=byte_size("--checkpoint-size"), metavar="SIZE",
                        help="bytes per checkpoint (16GB, 2e9, 500MiB): the peak on disk in bytes")
    parser.add_argument("--disk-budget", type=byte_size("--disk-budget"), metavar="SIZE",
                        help="warn (DISK_BUDGET) when the peak on disk exceeds SIZE "
                             "(needs --checkpoint-size)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when Axolotl would differ or a warning is found")


def run(args) -> int:
    num_examples = to_int(args.num_examples, "--num-examples")
    world_size = to_int(args.world_size, "--world-size")
    rows = to_int(args.rows, "--rows", minimum=2)
    if args.disk_budget is not None and args.checkpoint_size is None:
        raise ValueError("argument --disk-budget: needs --checkpoint-size (the size of one "
                         "checkpoint) to compare the peak on disk with it")
    from ..integrations import axolotl

    try:
        plan = axolotl.schedules_from_config(args.config, num_examples, world_size=world_size,
                                             partial_accumulation=args.partial_accumulation)
        cfg = axolotl.load_config(args.config)
    except ImportError as exc:
        raise ValueError(f"CONFIG {args.config}: {exc}") from None
    except OSError as exc:
        raise ValueError(f"CONFIG {args.config}: {exc.strerror or exc}") from None
    preview = _preview(axolotl, cfg, plan, args, num_examples, world_size)
    refusal = axolotl.transformers_refusal_of(cfg, plan)
    diagnostics, notes = _one_load_best_message(
        plan, plan.diagnostics if preview is None else preview.diagnostics)
    kinds = [k for k in ("save", "eval")
             if getattr(plan, k) is not None or getattr(plan, f"axolotl_{k}").strategy != "no"]
    differs = {k: _differs(plan, k) for k in kinds}
    warnings = [d for d in diagnostics if d.severity == WARNING]
    if args.strict and None in differs.values() and not (warnings or any(differs.values())):
        raise ValueError(f"--strict: the run has {plan.run.total_steps} steps, too many to "
                         "compare the schedules step by step; give a smaller --num-examples "
                         "(or leave out --strict to see the tables)")
    out = sys.stdout
    if args.json:
        json.dump(_as_json(plan, args, differs, preview, diagnostics, notes, refusal), out,
                  indent=2)
        out.write("\n")
    else:
        _print(plan, args, differs, rows, out, preview, diagnostics, notes, refusal)
    return 1 if args.strict and (any(differs.values()) or warnings or refusal) else 0


def _preview(axolotl, cfg, schedules, args, num_examples, world_size):
    """The config's Plan (retention, disk, load_best_model_at_end), or None when the run has
    too many saves to preview one by one."""
    try:
        with quiet_logger():
            return axolotl.plan_from_config(
                cfg, num_examples, world_size=world_size,
                partial_accumulation=args.partial_accumulation,
                checkpoint_bytes=args.checkpoint_size, disk_budget=args.disk_budget,
                schedules=schedules)
    except ValueError as exc:
        if "the plan needs every" in str(exc):
            return None
        raise


def _one_load_best_message(plan, diagnostics):
    """(diagnostics, notes) of the check, with one message where two would tell the same fact:
    when the config sets load_best_model_at_end but Axolotl passes false to transformers, the
    plan's HF_REFUSED (transformers would refuse these save / eval steps with it) and Axolotl's
    note (it drops it) become one HF_REFUSED warning that says what Axolotl does and what to
    change; the note goes.  Anything else is returned as it is."""
    notes = list(plan.notes)
    reason = plan.load_best_dropped
    refused = [d for d in diagnostics if d.code == "HF_REFUSED"]
    if reason is None or not refused:
        return list(diagnostics), notes
    first = refused[0]
    message = (f"load_best_model_at_end is true in the config, but Axolotl passes false to "
               f"transformers ({reason}): training runs, and the best model is never loaded "
               "at the end, without a warning; to load it, make save_steps a multiple "
               "of eval_steps (the same saves_per_epoch as evals_per_epoch, or integer "
               "save_steps a multiple of integer eval_steps)")
    merged = Diagnostic(first.code, first.severity, message,
                        {**first.data, "framework": "axolotl", "axolotl_reason": reason})
    kept = [merged if d is first else d for d in diagnostics
            if d is first or d.code != "HF_REFUSED"]
    return kept, [note for note in notes if reason not in note]


def _differs(plan, kind):
    """plan.differs(kind), or None when the schedules are too large to compare."""
    try:
        return plan.differs(kind)
    except ValueError:
        return None


# ---- text -----------------------------------------------------------------------------

def _column(schedule, n, rows):
    """The cells of one side of a table of n rows (a schedule's i-th step, or "-" past its
    end), or of its first and last rows//2 rows with None between them when n > rows.  A
    generator of next_after queries: a schedule too large to build still prints."""
    count = 0 if schedule is None else len(schedule)
    if n <= rows:
        steps = all_steps(schedule.next_after) if count else iter(())
        for _ in range(n):
            yield str(next(steps, "-"))
        return
    half = rows // 2
    head = first_steps(schedule.next_after, min(half, count)) if count else []
    tail_count = max(0, count - (n - half))  # the schedule's steps among the last rows
    tail = last_steps(schedule.next_after, schedule.last, tail_count) if tail_count else []
    yield from (str(s) for s in head)
    yield from ["-"] * (half - len(head))
    yield None
    yield from (str(s) for s in tail)
    yield from ["-"] * (half - len(tail))


def _print(plan, args, differs, rows, out, preview, diagnostics, notes, refusal):
    run = plan.run
    w = out.write
    w(f"config: {args.config}\n")
    w(f"run:    {args.num_examples} examples, world size {args.world_size}: "
      f"{run.steps_per_epoch} optimizer steps per epoch, {run.total_steps} steps"
      + (f" ({run.num_epochs} epochs)" if run.num_epochs else "") + "\n")
    if not differs:
        w("\nthe config asks for no saves and no evaluations\n")
    for kind, differ in differs.items():
        ours, theirs = getattr(plan, kind), getattr(plan, f"axolotl_{kind}")
        ours_count = 0 if ours is None else len(ours)
        theirs_count = len(theirs)
        verb = "saves" if kind == "save" else "evaluations"
        left = f"ckptsched: {plan.requests[kind]}"
        right = f"axolotl: {theirs.describe()}"
        width = max(len(left), 24)
        same = {False: "  (same steps)", None: "  (too many steps to compare)"}.get(differ, "")
        if theirs.strategy == "best":
            same = ""
        w(f"\n{kind}\n")
        w(f"  {'#':>5}  {left:<{width}}  {right}\n")
        w(f"  {'':>5}  {f'{ours_count} {verb}':<{width}}  {theirs_count} {verb}{same}\n")
        n = max(ours_count, theirs_count)
        numbers = range(1, n + 1) if n <= rows else \
            [*range(1, rows // 2 + 1), None, *range(n - rows // 2 + 1, n + 1)]
        for number, a, b in zip(numbers, _column(ours, n, rows), _column(theirs, n, rows)):
            if number is None:
                w(f"  {'...':>5}\n")
                continue
            mark = "" if a == b else "  *"
            w(f"  {number:>5}  {a:<{width}}  {b}{mark}\n")
    hf_refused = any(d.code == "HF_REFUSED" for d in diagnostics)
    _print_plan(preview, None if hf_refused else refusal, w)
    if diagnostics:
        w("\ndiagnostics:\n")
        for d in diagnostics:
            w(f"  {d}\n")
    if notes:
        w("\nnotes:\n")
        for note in notes:
            w(f"  {note}\n")


def _print_plan(preview, refusal, w):
    """Retention and disk of the plan, and transformers' start-up verdict."""
    if refusal is not None:
        w(f"\ntransformers would refuse to start: {' '.join(refusal.split())}\n")
    if preview is None:
        w("\nplan: too many saves to preview the disk one save at a time\n")
        return
    keep, peak = preview.keep, preview.peak
    if keep.keep_last is None and preview.checkpoint_bytes is None:
        return
    rules = ", ".join(f"{name}={getattr(keep, name)}" for name in ("keep_last", "keep_best")
                      if getattr(keep, name) is not None)
    w(f"\nplan: {rules or 'keep every checkpoint'}")
    if peak.step is not None:
        size = "" if peak.bytes is None else f" ({format_size(peak.bytes)})"
        w(f"; peak {peak.count} checkpoints{size} during the save at step {peak.step}; "
          f"{len(preview.survivors)} survive the run")
    w("\n")


# ---- JSON -----------------------------------------------------------------------------

def _steps(schedule):
    """The steps as a list; None for no schedule, or when there are too many to list."""
    if schedule is None:
        return None
    try:
        return [int(s) for s in schedule.steps]
    except ValueError:
        return None


def _as_json(plan, args, differs, preview, diagnostics, notes, refusal):
    run = plan.run
    out = {"config": str(args.config),
           "run": {"num_examples": args.num_examples, "world_size": args.world_size,
                   "steps_per_epoch": run.steps_per_epoch, "total_steps": run.total_steps,
                   "epochs": None if run.epochs is None else str(run.epochs)}}
    for kind in ("save", "eval"):
        ours, theirs = getattr(plan, kind), getattr(plan, f"axolotl_{kind}")
        out[kind] = {
            "request": plan.requests[kind],
            "ckptsched": _steps(ours),
            "axolotl": {"strategy": theirs.strategy, "setting": theirs.setting,
                        "interval": theirs.interval, "total_steps": theirs.total_steps,
                        "steps": _steps(theirs)},
            "differs": differs.get(kind, False)}
    out["transformers_refusal"] = refusal
    out["plan"] = None if preview is None else {
        "keep_last": preview.keep.keep_last, "keep_best": preview.keep.keep_best,
        "load_best_model_at_end": preview.load_best_model_at_end,
        "checkpoint_bytes": preview.checkpoint_bytes, "disk_budget": preview.disk_budget,
        "peak": preview.peak._asdict(), "survivors": preview.survivors.tolist()}
    out["diagnostics"] = [{"code": d.code, "severity": d.severity, "message": d.message}
                          for d in diagnostics]
    out["notes"] = list(notes)
    return out

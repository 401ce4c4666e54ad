"""`ckptsched check CONFIG --num-examples N`: an Axolotl config's exact schedules next to
what Axolotl would do, with the diagnostics.  Exit 1 with --strict when they differ or a
warning was found; 2 for bad usage."""
from __future__ import annotations

import json
import sys

from .._numbers import to_int
from ..diagnostics import WARNING

HELP = "compare an Axolotl config's exact save/eval schedules with what Axolotl would do"


def add_arguments(parser) -> None:
    parser.add_argument("config", metavar="CONFIG", help="an Axolotl YAML config (needs PyYAML)")
    parser.add_argument("--num-examples", type=int, required=True, metavar="N",
                        help="training examples per epoch, after the validation split "
                             "(packed sequences with sample_packing)")
    parser.add_argument("--world-size", type=int, default=1, metavar="W",
                        help="data-parallel ranks (default 1)")
    parser.add_argument("--partial-accumulation", choices=("step", "drop"), default="step",
                        help="does a trailing partial gradient accumulation step? "
                             "'step' for transformers >= 4.52 (default), 'drop' before")
    parser.add_argument("--rows", type=int, default=40, metavar="R",
                        help="at most this many rows per side-by-side table (default 40)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when Axolotl would differ or a warning is found")


def run(args) -> int:
    num_examples = to_int(args.num_examples, "--num-examples")
    world_size = to_int(args.world_size, "--world-size")
    rows = to_int(args.rows, "--rows", minimum=2)
    from ..integrations.axolotl import schedules_from_config

    try:
        plan = schedules_from_config(args.config, num_examples, world_size=world_size,
                                     partial_accumulation=args.partial_accumulation)
    except ImportError as exc:
        raise ValueError(f"CONFIG {args.config}: {exc}") from None
    except OSError as exc:
        raise ValueError(f"CONFIG {args.config}: {exc.strerror or exc}") from None
    kinds = [k for k in ("save", "eval")
             if getattr(plan, k) is not None or getattr(plan, f"axolotl_{k}").strategy != "no"]
    differs = [k for k in kinds if plan.differs(k)]
    warnings = [d for d in plan.diagnostics if d.severity == WARNING]
    out = sys.stdout
    if args.json:
        json.dump(_as_json(plan, args, kinds), out, indent=2)
        out.write("\n")
    else:
        _print(plan, args, kinds, rows, out)
    return 1 if args.strict and (differs or warnings) else 0


# ---- text -----------------------------------------------------------------------------

def _print(plan, args, kinds, rows, out):
    run = plan.run
    w = out.write
    w(f"config: {args.config}\n")
    w(f"run:    {args.num_examples} examples, world size {args.world_size}: "
      f"{run.steps_per_epoch} optimizer steps per epoch, {run.total_steps} steps"
      + (f" ({run.num_epochs} epochs)" if run.num_epochs else "") + "\n")
    if not kinds:
        w("\nthe config asks for no saves and no evaluations\n")
    for kind in kinds:
        ours, theirs = getattr(plan, kind), getattr(plan, f"axolotl_{kind}")
        ours_steps = [] if ours is None else ours.steps.tolist()
        theirs_steps = theirs.steps.tolist()
        verb = "saves" if kind == "save" else "evaluations"
        left = f"ckptsched: {plan.requests[kind]}"
        right = f"axolotl: {theirs.describe()}"
        width = max(len(left), 24)
        w(f"\n{kind}\n")
        w(f"  {'#':>5}  {left:<{width}}  {right}\n")
        w(f"  {'':>5}  {f'{len(ours_steps)} {verb}':<{width}}  {len(theirs_steps)} {verb}"
          + ("  (same steps)" if ours_steps == theirs_steps else "") + "\n")
        n = max(len(ours_steps), len(theirs_steps))
        shown = range(n) if n <= rows else [*range(rows // 2), None, *range(n - rows // 2, n)]
        for i in shown:
            if i is None:
                w(f"  {'...':>5}\n")
                continue
            a = str(ours_steps[i]) if i < len(ours_steps) else "-"
            b = str(theirs_steps[i]) if i < len(theirs_steps) else "-"
            mark = "" if a == b else "  *"
            w(f"  {i + 1:>5}  {a:<{width}}  {b}{mark}\n")
    if plan.diagnostics:
        w("\ndiagnostics:\n")
        for d in plan.diagnostics:
            w(f"  {d}\n")
    if plan.notes:
        w("\nnotes:\n")
        for note in plan.notes:
            w(f"  {note}\n")


# ---- JSON -----------------------------------------------------------------------------

def _steps(schedule):
    return None if schedule is None else [int(s) for s in schedule.steps]


def _as_json(plan, args, kinds):
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
            "differs": kind in kinds and plan.differs(kind)}
    out["diagnostics"] = [{"code": d.code, "severity": d.severity, "message": d.message}
                          for d in plan.diagnostics]
    out["notes"] = list(plan.notes)
    return out

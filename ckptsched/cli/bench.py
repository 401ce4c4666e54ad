"""`ckptsched bench`: run the benchmark suite (ckptsched.benchmarks) and print its report."""
from __future__ import annotations

import argparse
import json
import sys

from ..benchmarks import CASES, print_report, run_suite
from ._shared import integer, shown

HELP = "benchmark C vs the pure-Python reference and numpy baselines (medians and ratios)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run for CI")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--repeat", metavar="N", help="samples per timing (default 7, quick 3)")
    parser.add_argument("--only", metavar="CASE[,CASE...]",
                        help="run only these cases: " + ", ".join(CASES))


def run(args: argparse.Namespace) -> int:
    repeat = 3 if args.quick else 7
    if args.repeat is not None:
        try:
            repeat = integer(args.repeat)
        except (ValueError, OverflowError):
            repeat = 0
        if repeat < 1:
            raise ValueError(f"--repeat must be a positive integer, got {shown(args.repeat)}")
    cases = list(CASES) if args.only is None else [c.strip() for c in args.only.split(",")]
    try:
        report = run_suite(cases, bool(args.quick), repeat)
    except ValueError as exc:
        if args.only is not None and "unknown benchmark case" in str(exc):
            raise ValueError(f"--only: {exc}") from None
        raise
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_report(report)
    return 0

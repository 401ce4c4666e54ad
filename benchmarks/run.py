"""Run the full benchmark suite (`ckptsched bench`) and keep its JSON report.

    python3 benchmarks/run.py                 # full sizes, prints the table, saves JSON
    python3 benchmarks/run.py --quick         # smoke sizes
    python3 benchmarks/run.py --only sweep_fill,memory

The suite itself lives in ckptsched/benchmarks.py so that an installed package can run it
(`ckptsched bench`); this script, run against the installed package, adds the saved
report: benchmarks/results/<date>.json.
"""
import argparse
import datetime
import json
import os
import sys
from pathlib import Path

from ckptsched.benchmarks import CASES, print_report, run_suite


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--out", help="JSON file (default benchmarks/results/<date>.json)")
    args = parser.parse_args()
    cases = [c.strip() for c in args.only.split(",")] if args.only else list(CASES)
    repeat = args.repeat if args.repeat is not None else (3 if args.quick else 7)
    report = run_suite(cases, args.quick, repeat)
    report["date"] = datetime.datetime.now().isoformat(timespec="seconds")
    report["cpus"] = os.cpu_count()
    print_report(report)
    out = Path(args.out) if args.out else (
        Path(__file__).resolve().parent / "results" / f"{report['date'][:10]}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run())

"""Run the full benchmark suite (`ckptsched bench`) and keep its JSON report.

    python3 benchmarks/run.py                 # full sizes, prints the table, saves JSON
    python3 benchmarks/run.py --quick         # smoke sizes
    python3 benchmarks/run.py --only sweep_fill,memory

The suite itself lives in ckptsched/_cli_bench.py so that an installed package can run it
(`ckptsched bench`); this script adds the saved report: benchmarks/results/<date>.json.
"""
import argparse
import datetime
import io
import json
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ckptsched._cli_bench import _print  # noqa: E402
from ckptsched.cli import main  # noqa: E402


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only")
    parser.add_argument("--repeat")
    parser.add_argument("--out", help="JSON file (default benchmarks/results/<date>.json)")
    args = parser.parse_args()
    argv = ["bench", "--json"] + (["--quick"] if args.quick else [])
    argv += ["--only", args.only] if args.only else []
    argv += ["--repeat", args.repeat] if args.repeat else []
    buf = io.StringIO()
    with redirect_stdout(buf):
        status = main(argv)
    if status:
        return status
    report = json.loads(buf.getvalue())
    report["date"] = datetime.datetime.now().isoformat(timespec="seconds")
    report["cpus"] = os.cpu_count()
    _print(report)
    out = Path(args.out) if args.out else (
        Path(__file__).resolve().parent / "results" / f"{report['date'][:10]}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nsaved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(run())

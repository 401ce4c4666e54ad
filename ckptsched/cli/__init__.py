"""The `ckptsched` command: one subcommand per module of this package (`cli/<name>.py`).

Each subcommand module provides `HELP` (one line), `add_arguments(parser)` and
`run(args) -> int`.  Exit codes: 0 success, 1 a finding the user asked to fail on
(e.g. --strict), 2 bad usage (argparse, or a bad value, with a message naming the flag).
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = ("plan", "sweep", "check", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ckptsched", description="Exact checkpoint / eval / log schedules for training runs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run, _parser=p)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except (TypeError, ValueError, OverflowError) as exc:
        args._parser.print_usage(sys.stderr)
        print(f"ckptsched {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

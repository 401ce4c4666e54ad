"""The `ckptsched` command: one subcommand per module of this package (`cli/<name>.py`).

Each subcommand module provides `HELP` (one line), `add_arguments(parser)` and
`run(args) -> int`.

The exit statuses are listed once, in EPILOG (shown by `ckptsched --help`).  A closed
standard output (`ckptsched plan ... | head -1`) exits with 141 = 128 + SIGPIPE, the status
of a C program killed by SIGPIPE, so a shell with `set -o pipefail` sees the same as for
`cat` or `seq`; the output stops quietly: no traceback and no "Exception ignored" message,
since stdout is pointed at /dev/null before exiting.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from .._version import __version__
from ._shared import shortened

SUBCOMMANDS = ("plan", "sweep", "check", "bench")

EXIT_OK, EXIT_FINDING, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141

EPILOG = """\
exit status:
  0    success
  1    a finding you asked to fail on (plan/check --strict, sweep --fail-on)
  2    bad usage: a bad flag, value or file (the message names it), a request
       too large for this machine, or output that cannot be written
  130  interrupted (Ctrl-C)
  141  standard output closed early (e.g. `| head`): the output stops quietly

run `ckptsched COMMAND --help` for the flags of a command"""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose --help / --version / usage output does not swallow a closed
    stdout (argparse ignores OSError there), so that main() can exit 141 for it as for
    every other output."""

    def _print_message(self, message, file=None):
        if message:
            (file or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ckptsched", description="Exact checkpoint / eval / log schedules for training runs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ckptsched {__version__}",
                        help="print the version of ckptsched and exit")
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
    """Run the command line `argv` (default sys.argv[1:]) and return the exit status.
    argparse's own errors and --help / --version exit through SystemExit, as usual."""
    with _usable_streams():
        try:
            try:
                return _parse_and_run(argv)
            finally:
                # Surface a closed pipe here, not as "Exception ignored" at interpreter exit.
                sys.stdout.flush()
        except BrokenPipeError:
            _discard_stdout()
            return EXIT_BROKEN_PIPE
        except OSError as exc:  # the last of the output could not be written (a full disk)
            _discard_stdout()
            print(f"ckptsched: error: cannot write the output: {exc.strerror or exc}",
                  file=sys.stderr)
            return EXIT_USAGE


@contextlib.contextmanager
def _usable_streams():
    """Standard streams that were closed when Python started (None) write to /dev/null
    meanwhile, so `ckptsched sweep runs.csv -o out.csv >&-` still works."""
    missing = [name for name in ("stdout", "stderr") if getattr(sys, name) is None]
    for name in missing:
        setattr(sys, name, open(os.devnull, "w"))
    try:
        yield
    finally:
        for name in missing:
            getattr(sys, name).close()
            setattr(sys, name, None)


def _parse_and_run(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except (TypeError, ValueError, OverflowError) as exc:
        return _usage_error(args, str(exc))
    except MemoryError as exc:
        detail = f" ({exc})" if str(exc) else ""
        return _usage_error(args, f"out of memory{detail}: the request is too large for this "
                                  "machine; ask for fewer steps, runs or rows", usage=False)
    except RecursionError:
        return _usage_error(args, "the input is nested too deeply to read", usage=False)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print(f"ckptsched {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.filename is not None:
            return _usage_error(args, f"{exc.filename}: {exc.strerror or exc}", usage=False)
        _discard_stdout()  # most likely stdout itself (a full disk): drop what is buffered
        return _usage_error(args, f"cannot write the output: {exc.strerror or exc}",
                            usage=False)


def _usage_error(args, message: str, usage: bool = True) -> int:
    """Print the usage (unless usage=False: not a mistake of the command line) and a
    one-line error for `args.command`; the exit status 2."""
    if usage:
        args._parser.print_usage(sys.stderr)
    one_line = shortened(" ".join(message.split()))
    print(f"ckptsched {args.command}: error: {one_line}", file=sys.stderr)
    return EXIT_USAGE


def _discard_stdout() -> None:
    """Point the stdout file descriptor at /dev/null, so that what is still buffered is
    dropped quietly when the interpreter exits (the recipe of Python's signal docs)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (an in-process capture): nothing to flush at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())

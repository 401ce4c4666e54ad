"""Shared by the subcommands: parsing integers, reading input files, showing values in
messages, and listing the ends of a schedule without building it.

Every error names the flag (or file) and shows the value abbreviated, so a 5000-digit
argument or a megabyte cell gives one readable line, never Python's own digit-limit error.
"""
from __future__ import annotations

import contextlib
import logging
import re
import sys
import warnings
from typing import Iterator

from .._text import decode_utf8

INT64_MAX = 2**63 - 1

# What int() accepts as a decimal integer (ASCII digits, optional sign, single underscores).
_INTEGER = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*")


def shown(text: str, limit: int = 40) -> str:
    """repr(text), with the middle left out when it is longer than `limit` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:20]!r}...{text[-10:]!r} ({len(text)} characters)"


def shortened(message: str, limit: int = 200) -> str:
    """`message` with every word longer than `limit` characters (a value echoed whole by
    a library message) abbreviated in the middle."""
    return re.sub(rf"\S{{{limit + 1},}}",
                  lambda m: f"{m.group()[:30]}...{m.group()[-10:]} ({len(m.group())} characters)",
                  message)


def is_integer(text: str) -> bool:
    """Is `text` a decimal integer as int() reads it (ASCII digits, sign, underscores)?"""
    return _INTEGER.fullmatch(text.strip()) is not None


def integer(text: str) -> int:
    """int(text) for a flag's value.  ValueError when it is not a decimal integer;
    OverflowError when it has more digits than an int64, raised before Python's
    4300-digit limit on int() can fire.  The messages show the value, not the flag: the
    caller prefixes it."""
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise ValueError(f"must be an integer, got {shown(text)}")
    sign = "-" if stripped.startswith("-") else ""
    digits = stripped.lstrip("+-").replace("_", "").lstrip("0") or "0"
    if len(digits) > 19:  # 10**19 > INT64_MAX: no need to build the int
        raise OverflowError(f"{shown(text)} exceeds the int64 range (max {INT64_MAX})")
    return int(sign + digits)


def read_text(path: str, what: str) -> str:
    """The UTF-8 text of the file `path` ('-': standard input), a byte-order mark dropped.
    ValueError naming `what` and the file when it cannot be read or decoded."""
    where = "stdin" if path == "-" else path
    try:
        if path == "-":
            if sys.stdin is None:
                raise ValueError(f"{what} '-': there is no standard input to read")
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as exc:
        raise ValueError(f"{what} {where}: cannot read it: {exc.strerror or exc}") from None
    if isinstance(data, str):  # a text-only stdin (tests, embedding): already decoded
        return data[1:] if data.startswith("\ufeff") else data
    return decode_utf8(data, where)


def previous_step(next_after, step: int):
    """The largest scheduled step below `step`, or None: bisection with next_after only
    (about 63 queries), so a table's last rows never need the whole schedule."""
    lo, hi = 0, step - 1  # the answer x is the least x with no scheduled step in (x, step)
    while lo < hi:
        mid = (lo + hi) // 2
        following = next_after(mid)
        if following is None or following >= step:
            hi = mid
        else:
            lo = mid + 1
    return lo or None


def all_steps(next_after):
    """The steps of a schedule in order, one next_after query at a time (never a list)."""
    step = next_after(0)
    while step is not None:
        yield step
        step = next_after(step)


def first_steps(next_after, k: int) -> list:
    """The first k steps of a schedule (all of them when it has fewer), in order."""
    steps: list[int] = []
    step = next_after(0)
    while step is not None and len(steps) < k:
        steps.append(step)
        step = next_after(step)
    return steps


def last_steps(next_after, last, k: int) -> list:
    """The last k steps of a schedule whose last step is `last` (None: empty), in order;
    about 63 next_after queries per step, whatever the schedule's size."""
    steps: list[int] = []
    step = last
    while step is not None and len(steps) < k:
        steps.append(step)
        step = previous_step(next_after, step)
    return steps[::-1]


def byte_size(flag: str):
    """An argparse type for a byte count flag ("16GB", "2e9", "500MiB"; ckptsched.sizes):
    the number of bytes, or an error naming `flag` and the value."""
    import argparse

    from ..sizes import parse_size

    def parse(text: str) -> int:
        try:
            return parse_size(text, flag)
        except (ValueError, OverflowError) as exc:
            raise argparse.ArgumentTypeError(shortened(str(exc))) from None
    return parse


@contextlib.contextmanager
def quiet_logger() -> Iterator[None]:
    """The CLI prints diagnostics itself: keep the "ckptsched" logger and ScheduleWarning
    from reporting them a second time while schedules and plans are built."""
    from ..diagnostics import ScheduleWarning, logger

    saved = logger.propagate, logger.handlers[:]
    logger.propagate = False
    logger.handlers[:] = [logging.NullHandler()]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScheduleWarning)
            yield
    finally:
        logger.propagate, logger.handlers[:] = saved[0], saved[1]

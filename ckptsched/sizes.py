"""Byte counts as people write them: ``16GB``, ``2e9``, ``500MiB``, ``1.5TB``.

    parse_size("16GB", "checkpoint_bytes")   # 16_000_000_000
    parse_size("500MiB", "--disk-budget")    # 524_288_000
    format_size(16_000_000_000)              # '16 GB'

Decimal units (kB, MB, GB, TB, PB, EB) are powers of 1000, binary units (KiB, MiB, GiB, TiB,
PiB, EiB) powers of 1024; ``B`` or no unit is bytes.  Units are read case-insensitively
(``16gb``), and ``K`` / ``M`` / ``G`` / ``T`` / ``P`` / ``E`` alone are the decimal units.  The
number is read exactly (no float rounding): ``1.5TB`` is 1_500_000_000_000, while ``1.5B`` or
``0.3KiB`` are fractional bytes and an error.
"""
from __future__ import annotations

import numbers
import re
from fractions import Fraction

from ._numbers import INT64_MAX

__all__ = ["parse_size", "format_size"]

_DECIMAL = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15,
            "e": 10**18}
_BINARY = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50, "eib": 2**60}
_UNITS = {**_DECIMAL, **{f"{k}b": v for k, v in _DECIMAL.items() if k not in ("", "b")},
          **_BINARY}

_SIZE = re.compile(r"\s*(?P<number>[+-]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)"
                   r"(?:[eE](?P<exponent>[+-]?[0-9]{1,4}))?)\s*(?P<unit>[A-Za-z]*)\s*")
_FORMS = "a byte count such as 16GB, 2e9, 500MiB or 1.5TB"


def parse_size(value: object, name: str) -> int:
    """A positive whole number of bytes from an int, a whole float (16e9) or a string with an
    optional unit.  TypeError / ValueError / OverflowError name `name` and the value."""
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Real)):
        raise TypeError(f"{name} must be {_FORMS}, got {value!r} ({type(value).__name__})")
    if isinstance(value, str):
        amount = _parse_text(value, name)
    elif isinstance(value, numbers.Integral):
        amount = Fraction(int(value))
    else:
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{name} must be {_FORMS}, got {value!r}")
        amount = Fraction(float(value))
    if amount.denominator != 1:
        raise ValueError(f"{name}={value!r} is a fractional number of bytes "
                         f"({float(amount)!r}); give a whole number of bytes")
    if amount < 1:
        raise ValueError(f"{name} must be a positive number of bytes, got {value!r}")
    if amount > INT64_MAX:
        raise OverflowError(f"{name}={value!r} is {int(amount)} bytes, past the int64 range "
                            f"(max {INT64_MAX})")
    return int(amount)


def _parse_text(text: str, name: str) -> Fraction:
    shown = repr(text) if len(text) <= 40 else repr(text[:30] + "...")
    match = _SIZE.fullmatch(text)
    if match is None or "__" in match.group("number") or match.group("number").endswith("_"):
        raise ValueError(f"{name}={shown} is not understood; expected {_FORMS} (units: B, kB, "
                         "MB, GB, TB, PB, EB in powers of 1000; KiB, MiB, GiB, TiB, PiB, EiB in "
                         "powers of 1024)")
    unit = match.group("unit")
    multiplier = _UNITS.get(unit.lower())
    if multiplier is None:
        raise ValueError(f"{name}={shown}: unknown unit {unit!r}; use B, kB, MB, GB, TB, PB, EB "
                         "(powers of 1000) or KiB, MiB, GiB, TiB, PiB, EiB (powers of 1024)")
    exponent = int(match.group("exponent") or 0)
    mantissa = match.group("number").split("e")[0].split("E")[0].lstrip("+-").replace("_", "")
    whole, _, fraction = mantissa.partition(".")
    # 10**40 bytes is far past int64: don't build larger numbers (nor hit Python's 4300-digit
    # limit on int(); a size never needs more than a few dozen digits)
    if len(whole.lstrip("0")) + exponent > 40:
        raise OverflowError(f"{name}={shown} is far past the int64 range (max {INT64_MAX} bytes)")
    if len(whole) + len(fraction) > 80:
        raise ValueError(f"{name}={shown} has {len(whole) + len(fraction)} digits; a byte count "
                         f"needs at most 19: expected {_FORMS}")
    return Fraction(match.group("number").replace("_", "")) * multiplier


def format_size(count: int) -> str:
    """`count` bytes in the largest decimal unit that keeps it >= 1, with up to 4 significant
    digits: 16_000_000_000 -> '16 GB', 1_536_000 -> '1.536 MB', 999 -> '999 B'."""
    for unit, multiplier in (("EB", 10**18), ("PB", 10**15), ("TB", 10**12), ("GB", 10**9),
                             ("MB", 10**6), ("kB", 10**3)):
        if abs(count) >= multiplier:
            return f"{count / multiplier:.4g} {unit}"
    return f"{count} B"

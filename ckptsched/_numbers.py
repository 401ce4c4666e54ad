"""Exact conversion and validation of user-supplied numbers.

Every public argument that carries a count, an amount or a list of steps passes through this
module before any step arithmetic happens. The contract (see docs/semantics.md, "User floats" and
"Bad input"):

* integers stay integers; anything that is not an integer where one is needed is a ``TypeError``;
* user floats mean the *simplest* rational that rounds to the same float (``0.07`` is 7/100),
  never the float's binary expansion and never a float product;
* 0, negatives, NaN and infinities raise ``ValueError``; values the int64 C core cannot hold
  raise ``OverflowError``;
* every message names the argument and shows the offending value (abbreviated by `show` when it
  is too long to print: Python refuses ``str()`` of ints over 4300 digits).
"""
from __future__ import annotations

import decimal
import math
import numbers
import operator
import re
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

try:  # numpy is optional; it is only used to recognise numpy scalars and arrays.
    import numpy as np
except ImportError:  # pragma: no cover
    np = None  # type: ignore[assignment]

__all__ = [
    "INT64_MAX",
    "show",
    "simplest_rational",
    "to_int",
    "to_rational",
    "to_bool",
    "parse_every",
    "step_range",
    "to_step_list",
]

INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)

_NP_BOOL: tuple[type, ...] = (np.bool_,) if np is not None else ()
_NP_FLOAT: tuple[type, ...] = (np.floating,) if np is not None else ()
_NP_ARRAY: tuple[type, ...] = (np.ndarray,) if np is not None else ()
# (float type, precision in bits including the hidden bit, minimum normal exponent) of the
# binary formats a user float may come in: each is judged in its own precision.
_FORMATS: list[tuple[type, int, int]] = [(float, 53, -1022)]
if np is not None:
    _FORMATS += [(np.float32, 24, -126), (np.float16, 11, -14)]
_FLOAT_TYPES = tuple(ftype for ftype, _, _ in _FORMATS)  # numpy longdouble is not supported

#: Reprs longer than this are shortened in messages (head ... tail).
MAX_SHOWN = 120
# Decimal exponents beyond which an `every` amount in epochs / samples / tokens is kept as
# 10**+-_UNIT_EXPONENT_CAP: its spacing is then beyond any run (or below one step) either way.
_UNIT_EXPONENT_CAP = 100
_LOG10_2 = 0.30102999566398120


def show(value: object) -> str:
    """`repr(value)` for messages, abbreviated so that building a message never fails.

    Ints too long for ``str()`` (Python's 4300-digit limit) become ``<int of about N
    digits>``; lists / tuples / dicts show each element so; any other repr longer than MAX_SHOWN
    characters keeps its head and tail.
    """
    try:
        text = repr(value)
    except ValueError:
        if isinstance(value, int):
            sign = "-" if value < 0 else ""
            return f"<{sign}int of about {int(abs(value).bit_length() * _LOG10_2) + 1} digits>"
        if isinstance(value, (list, tuple)):
            inner = ", ".join(show(v) for v in value[:8]) + (", ..." if len(value) > 8 else "")
            return f"[{inner}]" if isinstance(value, list) else f"({inner})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
        return f"<{type(value).__name__} too large to print>"
    if len(text) > MAX_SHOWN:
        return f"{text[:MAX_SHOWN // 2]}...{text[-20:]} ({len(text)} characters)"
    return text



def _kind(value: object) -> str:
    return f"{show(value)} ({type(value).__name__})"


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, *_NP_BOOL))


# --------------------------------------------------------------------------- simplest_rational

def simplest_rational(x: float | np.floating[Any]) -> Fraction:
    """Return the simplest rational that rounds to exactly the float ``x``.

    ``x`` is a finite, non-negative Python float (or numpy float64 / float32 / float16 scalar,
    each judged in its own format). The result is the fraction with the smallest denominator
    (and among those the smallest numerator) inside the interval of reals that round to ``x``
    under round-half-to-even: bounded by the midpoints to the neighbouring floats, endpoints
    included iff ``x``'s significand is even. Hence ``float(simplest_rational(x)) == x``.
    ``0.07`` -> 7/100, ``2.3`` -> 23/10, ``1/6`` -> 1/6, ``0.0`` -> 0.

    Integral floats map to exactly that integer (``1e22`` -> 10**22, ``2.0**70`` -> 2**70):
    the denominator 1 is minimal either way, but above 2**53 (2**24 for float32) several
    integers round to the same float and we keep ``x`` itself rather than the smallest of them.

    Computed in exact Fraction arithmetic (continued fractions), never with float arithmetic.
    Raises ``TypeError`` for other types (including numpy longdouble), ``ValueError`` for
    negative, NaN or infinite ``x``.
    """
    for ftype, precision, emin in _FORMATS:
        if isinstance(x, ftype):
            break
    else:
        raise TypeError(f"simplest_rational needs a float, got {_kind(x)}")
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"simplest_rational needs a finite float >= 0, got {show(x)}")
    num, den = x.as_integer_ratio()  # den is a power of two
    if den == 1:
        return Fraction(num)
    value = Fraction(num, den)
    exponent = num.bit_length() - den.bit_length()  # floor(log2(value)), exact
    ulp = Fraction(2) ** (max(exponent, emin) - precision + 1)
    significand = value / ulp  # an integer
    # At a power of two (not subnormal) the float below is only half an ulp away.
    below = ulp / 2 if significand == 2 ** (precision - 1) and exponent > emin else ulp
    even = significand.numerator % 2 == 0
    return _simplest_in(value - below / 2, value + ulp / 2, even)


def _simplest_in(lo: Fraction, hi: Fraction | None, closed: bool) -> Fraction:
    """Smallest-denominator rational in the interval from ``lo`` to ``hi`` (0 <= lo < hi),
    both ends included iff ``closed``; ties (only possible between integers) go to the
    smallest. Stern-Brocot descent, iterative because the expansion can be ~1500 terms long."""
    terms = []
    lo_in = hi_in = closed
    while True:
        whole = lo.numerator // lo.denominator
        first = whole if (lo_in and whole == lo) else whole + 1  # smallest integer >= lo in it
        if hi is None or first < hi or (first == hi and hi_in):
            terms.append(first)
            break
        # No integer inside: x = whole + 1/y with y in the reciprocal (reversed) interval.
        terms.append(whole)
        lo, hi = 1 / (hi - whole), (None if lo == whole else 1 / (lo - whole))
        lo_in, hi_in = hi_in, lo_in
    result = Fraction(terms.pop())
    for term in reversed(terms):
        result = term + 1 / result
    return result


# --------------------------------------------------------------------------- scalars

def _positive_words(minimum: int) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer >= {minimum}"


def to_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Validate an integer argument and return it as a Python int.

    Accepts Python ints and numpy integer scalars (anything with ``__index__``) except bools.
    Floats are rejected even when integral (``2.0``): an integer count given as a float is
    likely a bug. Raises ``TypeError`` for non-integers, ``ValueError`` if ``value < minimum``,
    ``OverflowError`` outside the int64 range.
    """
    result = _integer(value, name)
    if result < minimum:
        raise ValueError(f"{name} must be {_positive_words(minimum)}, got {show(value)}")
    if not _INT64_MIN <= result <= INT64_MAX:
        raise OverflowError(f"{name}={show(value)} exceeds the int64 range (max {INT64_MAX})")
    return result


def _check_int64(result: Fraction, value: object, name: str) -> Fraction:
    if abs(result.numerator) > INT64_MAX or result.denominator > INT64_MAX:
        raise OverflowError(
            f"{name}={show(value)} needs a numerator or denominator that exceeds the int64 "
            f"range (max {INT64_MAX}); use a simpler value or a fractions.Fraction")
    return result


def to_rational(value: object, name: str, *, positive: bool = True,
                allow_zero: bool = False) -> Fraction:
    """Validate a number and return it as an exact Fraction.

    Accepts ints, numpy integers, Fractions (and other ``numbers.Rational``), decimal.Decimal
    (exact), and floats / numpy floats as their :func:`simplest_rational`:

    * a float means the simplest rational that rounds to the same double: ``2.3`` is 23/10,
      ``0.07`` is 7/100, ``1/6`` is 1/6;
    * a whole-number float means exactly its value, ``int(x)``, at any magnitude: ``1e17`` is
      10**17 (above 2**53 several integers round to the same double; it is never replaced by
      the smallest of them);
    * numpy float32 / float16 scalars are judged in their own precision:
      ``np.float32(0.07)`` is 7/100, not 0.07000000029802322 (its value as a double);
      numpy float64 is a Python float; numpy longdouble is a ``TypeError``.

    With ``positive`` (default) the value must be > 0, or >= 0 if ``allow_zero``; with
    ``positive=False`` any sign is accepted. Raises ``TypeError`` for bools, strings and other
    types, ``ValueError`` for NaN, infinities and values of the wrong sign, ``OverflowError``
    when numerator or denominator exceed INT64_MAX (the C core works in int64).
    """
    if _is_bool(value):
        raise TypeError(f"{name} must be a number, got {_kind(value)}")
    if isinstance(value, str):
        raise TypeError(f"{name} must be a number, not a string: got {show(value)}; "
                        f"pass e.g. 2.3 or fractions.Fraction('23/10')")
    if isinstance(value, _FLOAT_TYPES) or isinstance(value, decimal.Decimal):
        number: Any = value  # a float of one of _FORMATS, or a Decimal
        if isinstance(number, decimal.Decimal):
            finite = number.is_finite()
        else:
            finite = math.isfinite(number)
        if not finite:
            raise ValueError(f"{name} must be a finite number, got {show(value)}")
        sign = int(number > 0) - int(number < 0)
        exact = None
    else:
        exact = _exact_rational(value, name)
        sign = int(exact > 0) - int(exact < 0)
    if positive and (sign < 0 or (sign == 0 and not allow_zero)):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {show(value)}")
    if exact is None:
        if isinstance(value, decimal.Decimal):
            exact = _from_decimal(value, value, name)
        else:
            exact = sign * simplest_rational(abs(number))
    return _check_int64(exact, value, name)


def _exact_rational(value: object, name: str) -> Fraction:
    """An int, numpy integer or numbers.Rational as a Fraction; TypeError for other types."""
    if isinstance(value, numbers.Rational) and not hasattr(value, "__index__"):
        return Fraction(operator.index(value.numerator), operator.index(value.denominator))
    try:
        return Fraction(operator.index(value))  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be a number (int, float, fractions.Fraction or "
                        f"decimal.Decimal), got {_kind(value)}") from None


def _from_decimal(dec: decimal.Decimal, value: object, name: str) -> Fraction:
    """Exact Fraction of a finite Decimal; magnitudes >= 1e19 or < 1e-19 (which cannot be an
    int64 ratio) are an OverflowError up front instead of building 10**exponent."""
    if dec and not -19 <= dec.adjusted() < 19:
        _check_int64(Fraction(INT64_MAX + 1), value, name)
    return Fraction(*dec.as_integer_ratio())


def to_bool(value: object, name: str) -> bool:
    """Return ``value`` if it is a real bool (or numpy.bool_); anything else is a TypeError
    (``0``, ``1``, ``"yes"`` and ``None`` are not accepted as flags)."""
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {_kind(value)}")
    return bool(value)


# --------------------------------------------------------------------------- every

_UNITS = {
    "": "steps", "st": "steps", "step": "steps", "steps": "steps",
    "ep": "epochs", "epoch": "epochs", "epochs": "epochs",
    "sp": "samples", "sample": "samples", "samples": "samples",
    "tok": "tokens", "token": "tokens", "tokens": "tokens",
}
_EVERY_RE = re.compile(
    r"\s*(?P<number>[+-]?(?:\d+\s*/\s*\d+|(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?))"
    r"\s*(?P<unit>[a-z]*)\s*",
    re.IGNORECASE | re.ASCII,
)
_EVERY_FORMS = "an int number of steps or a string like '500', '2ep', '10000sp', '1e9tok'"


def parse_every(value: object, name: str = "every") -> tuple[Fraction, str]:
    """Parse an ``every`` interval into ``(amount, unit)`` with an exact Fraction amount.

    ``value`` is an int (a number of optimizer steps) or a string ``"<number><unit>"`` with
    optional whitespace. The number may be an integer, a decimal, scientific (``1e9``) or a
    fraction (``1/3``), parsed exactly. Units (case-insensitive): none / st / step / steps ->
    ``"steps"``; ep / epoch / epochs -> ``"epochs"``; sp / sample / samples -> ``"samples"``;
    tok / token / tokens -> ``"tokens"``. ``"0.5 ep"`` -> ``(Fraction(1, 2), "epochs")``.

    A number of steps must fit in int64 (else ``OverflowError``). An amount in epochs, samples
    or tokens may be of any size: the schedule decides whether its spacing in steps lies in
    the run. Decimal exponents beyond +-100 (``"1e999999ep"``) are kept as 10**+-100 instead
    of being built: any such spacing is far beyond 2**63 steps, or far below one step.

    Raises ``TypeError`` for floats, bools, None and other types; ``ValueError`` for an
    unparseable string, an amount <= 0, or a non-integer number of steps.
    """
    if not isinstance(value, str):
        try:
            return Fraction(to_int(value, name)), "steps"
        except TypeError:
            raise TypeError(f"{name} must be {_EVERY_FORMS}; got {_kind(value)}") from None
    match = _EVERY_RE.fullmatch(value)
    unit = _UNITS.get(match.group("unit").lower()) if match else None
    if match is None or unit is None:
        raise ValueError(
            f"{name}={show(value)} is not understood; expected {_EVERY_FORMS} "
            f"(units: steps/st, epochs/ep, samples/sp, tokens/tok)")
    number = re.sub(r"\s+", "", match.group("number"))
    top, _, bottom = number.partition("/")
    if bottom and not bottom.strip("0"):
        raise ValueError(f"{name}={show(value)} divides by zero")
    if bottom:  # integer / integer: sizes are bounded by the string, no exponent to fear
        amount = Fraction(decimal.Decimal(top).as_integer_ratio()[0],
                          decimal.Decimal(bottom).as_integer_ratio()[0])
    elif unit == "steps":
        amount = _from_decimal(decimal.Decimal(top), value, name)
    else:
        amount = _unit_amount(decimal.Decimal(top))
    if amount <= 0:
        raise ValueError(f"{name}={show(value)} must be > 0")
    if unit != "steps":
        return amount, unit
    if amount.denominator != 1:
        raise ValueError(f"{name}={show(value)} is not a whole number of steps; "
                         f"use an epoch/sample/token unit or an integer")
    return _check_int64(amount, value, name), unit


def _unit_amount(dec: decimal.Decimal) -> Fraction:
    """A finite Decimal amount exactly, with exponents beyond +-_UNIT_EXPONENT_CAP capped."""
    if dec and dec.adjusted() > _UNIT_EXPONENT_CAP:
        return Fraction(10) ** (_UNIT_EXPONENT_CAP + 1)
    if dec and dec.adjusted() < -_UNIT_EXPONENT_CAP:
        return Fraction(10) ** -(_UNIT_EXPONENT_CAP + 1)
    return Fraction(*dec.as_integer_ratio())


# --------------------------------------------------------------------------- step lists

def step_range(values: range) -> range:
    """`values` as an increasing range with the same elements (O(1), any size)."""
    return values if values.step > 0 else values[::-1]


def to_step_list(values: object, name: str = "at") -> list[int]:
    """Validate explicit steps and return them as sorted, de-duplicated Python ints.

    ``values`` is any iterable of integers (list, tuple, range, set, generator, 1-D numpy
    integer array, ...) except a string, bytes or a mapping. Each element must be an integer
    (Python int or numpy integer); bools, floats, strings are a ``TypeError`` naming
    ``f"{name}[{i}]"``. Integers of any sign and size are kept: the schedule drops those
    outside the run's steps 1..T and reports them (OUT_OF_RANGE). A bare number, a string
    and float/bool/object arrays are a ``TypeError``; arrays that are not 1-D a ``ValueError``.
    The elements are read one by one (interruptible); a `range` is better given to
    `Schedule` as it is, which handles it in O(1) (see `step_range`).
    """
    if isinstance(values, _NP_ARRAY):
        array: Any = values
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of steps, got shape {array.shape}")
        if array.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an integer array, got dtype {array.dtype}")
        values = array.tolist()
    elif (isinstance(values, (str, bytes, bytearray, Mapping))
          or not isinstance(values, Iterable)):
        raise TypeError(f"{name} must be an iterable of integer steps (list, tuple, range, set "
                        f"or 1-D integer array), got {_kind(values)}")
    assert isinstance(values, Iterable)
    return sorted({_integer(v, f"{name}[{i}]") for i, v in enumerate(values)})


def _integer(value: object, name: str) -> int:
    """`value` as a Python int of any size; TypeError for bools, floats and non-integers."""
    if _is_bool(value) or isinstance(value, (float, *_NP_FLOAT)):
        raise TypeError(f"{name} must be an integer, got {_kind(value)}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {_kind(value)}") from None

"""Exact conversion and validation of user-supplied numbers.

Every public argument that carries a count, an amount or a list of steps passes through this
module before any step arithmetic happens. The contract (see docs/semantics.md, "User floats" and
"Bad input"):

* integers stay integers; anything that is not an integer where one is needed is a ``TypeError``;
* user floats mean the *simplest* rational that rounds to the same float (``0.07`` is 7/100),
  never the float's binary expansion and never a float product;
* 0, negatives, NaN and infinities raise ``ValueError``; values the int64 C core cannot hold
  raise ``OverflowError``;
* every message names the argument and shows the offending value.
"""

import decimal
import math
import numbers
import operator
import re
from fractions import Fraction

try:  # numpy is optional; it is only used to recognise numpy scalars and arrays.
    import numpy as np
except ImportError:  # pragma: no cover
    np = None

__all__ = [
    "INT64_MAX",
    "simplest_rational",
    "to_int",
    "to_rational",
    "to_bool",
    "parse_every",
    "to_step_list",
]

INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)

_NP_BOOL = (np.bool_,) if np is not None else ()
_NP_FLOAT = (np.floating,) if np is not None else ()
_NP_ARRAY = np.ndarray if np is not None else ()
# (precision in bits including the hidden bit, minimum normal exponent) of binary formats.
_FORMATS = [(float, 53, -1022)]
if np is not None:
    _FORMATS += [(np.float32, 24, -126), (np.float16, 11, -14)]
_FLOAT_TYPES = tuple(ftype for ftype, _, _ in _FORMATS)  # numpy longdouble is not supported


def _show(value):
    """repr(value), or a short description when repr fails (ints over Python's digit limit)."""
    try:
        return repr(value)
    except ValueError:
        return f"<{type(value).__name__} too large to print>"


def _kind(value):
    return f"{_show(value)} ({type(value).__name__})"


def _is_bool(value):
    return isinstance(value, (bool, *_NP_BOOL))


# --------------------------------------------------------------------------- simplest_rational

def simplest_rational(x) -> Fraction:
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
        raise ValueError(f"simplest_rational needs a finite float >= 0, got {_show(x)}")
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


def _simplest_in(lo, hi, closed):
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

def _positive_words(minimum):
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer >= {minimum}"


def to_int(value, name, *, minimum=1) -> int:
    """Validate an integer argument and return it as a Python int.

    Accepts Python ints and numpy integer scalars (anything with ``__index__``) except bools.
    Floats are rejected even when integral (``2.0``): an integer count given as a float is
    likely a bug. Raises ``TypeError`` for non-integers, ``ValueError`` if ``value < minimum``,
    ``OverflowError`` outside the int64 range.
    """
    if _is_bool(value) or isinstance(value, (float, *_NP_FLOAT)):
        raise TypeError(f"{name} must be an integer, got {_kind(value)}")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {_kind(value)}") from None
    if result < minimum:
        raise ValueError(f"{name} must be {_positive_words(minimum)}, got {_show(value)}")
    if not _INT64_MIN <= result <= INT64_MAX:
        raise OverflowError(f"{name}={_show(value)} exceeds the int64 range (max {INT64_MAX})")
    return result


def _check_int64(result, value, name):
    if abs(result.numerator) > INT64_MAX or result.denominator > INT64_MAX:
        raise OverflowError(
            f"{name}={_show(value)} needs a numerator or denominator that exceeds the int64 "
            f"range (max {INT64_MAX}); use a simpler value or a fractions.Fraction")
    return result


def to_rational(value, name, *, positive=True, allow_zero=False) -> Fraction:
    """Validate a number and return it as an exact Fraction.

    Accepts ints, numpy integers, Fractions (and other ``numbers.Rational``), decimal.Decimal
    (exact), and floats / numpy floats (as their :func:`simplest_rational`, so ``2.3`` is 23/10).
    With ``positive`` (default) the value must be > 0, or >= 0 if ``allow_zero``; with
    ``positive=False`` any sign is accepted. Raises ``TypeError`` for bools, strings and other
    types, ``ValueError`` for NaN, infinities and values of the wrong sign, ``OverflowError``
    when numerator or denominator exceed INT64_MAX (the C core works in int64).
    """
    if _is_bool(value):
        raise TypeError(f"{name} must be a number, got {_kind(value)}")
    if isinstance(value, str):
        raise TypeError(f"{name} must be a number, not a string: got {_show(value)}; "
                        f"pass e.g. 2.3 or fractions.Fraction('23/10')")
    is_float = isinstance(value, _FLOAT_TYPES)
    if is_float or isinstance(value, decimal.Decimal):
        if not (math.isfinite(value) if is_float else value.is_finite()):
            raise ValueError(f"{name} must be a finite number, got {_show(value)}")
        exact = None
    elif isinstance(value, numbers.Rational) and not hasattr(value, "__index__"):
        exact = Fraction(operator.index(value.numerator), operator.index(value.denominator))
    else:
        try:
            exact = Fraction(operator.index(value))
        except TypeError:
            raise TypeError(f"{name} must be a number (int, float, fractions.Fraction or "
                            f"decimal.Decimal), got {_kind(value)}") from None
    compare = value if exact is None else exact
    sign = int(compare > 0) - int(compare < 0)
    if positive and (sign < 0 or (sign == 0 and not allow_zero)):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {_show(value)}")
    if exact is None:
        if is_float:
            exact = sign * simplest_rational(abs(value))
        else:
            exact = _from_decimal(value, value, name)
    return _check_int64(exact, value, name)


def _from_decimal(dec, value, name):
    """Exact Fraction of a finite Decimal; magnitudes >= 1e19 or < 1e-19 (which cannot be an
    int64 ratio) are an OverflowError up front instead of building 10**exponent."""
    if dec and not -19 <= dec.adjusted() < 19:
        _check_int64(Fraction(INT64_MAX + 1), value, name)
    return Fraction(*dec.as_integer_ratio())


def to_bool(value, name) -> bool:
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


def parse_every(value, name="every") -> tuple:
    """Parse an ``every`` interval into ``(amount, unit)`` with an exact Fraction amount.

    ``value`` is an int (a number of optimizer steps) or a string ``"<number><unit>"`` with
    optional whitespace. The number may be an integer, a decimal, scientific (``1e9``) or a
    fraction (``1/3``), parsed exactly. Units (case-insensitive): none / st / step / steps ->
    ``"steps"``; ep / epoch / epochs -> ``"epochs"``; sp / sample / samples -> ``"samples"``;
    tok / token / tokens -> ``"tokens"``. ``"0.5 ep"`` -> ``(Fraction(1, 2), "epochs")``.

    Raises ``TypeError`` for floats, bools, None and other types; ``ValueError`` for an
    unparseable string, an amount <= 0, or a non-integer number of steps; ``OverflowError``
    when numerator or denominator exceed INT64_MAX.
    """
    if not isinstance(value, str):
        try:
            return Fraction(to_int(value, name)), "steps"
        except TypeError:
            raise TypeError(f"{name} must be {_EVERY_FORMS}; got {_kind(value)}") from None
    match = _EVERY_RE.fullmatch(value)
    unit = _UNITS.get(match.group("unit").lower()) if match else None
    if unit is None:
        raise ValueError(
            f"{name}={_show(value)} is not understood; expected {_EVERY_FORMS} "
            f"(units: steps/st, epochs/ep, samples/sp, tokens/tok)")
    number = re.sub(r"\s+", "", match.group("number"))
    top, _, bottom = number.partition("/")
    if bottom and not bottom.strip("0"):
        raise ValueError(f"{name}={_show(value)} divides by zero")
    if bottom:  # integer / integer: sizes are bounded by the string, no exponent to fear
        amount = Fraction(decimal.Decimal(top).as_integer_ratio()[0],
                          decimal.Decimal(bottom).as_integer_ratio()[0])
    else:
        amount = _from_decimal(decimal.Decimal(top), value, name)
    if amount <= 0:
        raise ValueError(f"{name}={_show(value)} must be > 0")
    if unit == "steps" and amount.denominator != 1:
        raise ValueError(f"{name}={_show(value)} is not a whole number of steps; "
                         f"use an epoch/sample/token unit or an integer")
    return _check_int64(amount, value, name), unit


# --------------------------------------------------------------------------- step lists

def to_step_list(values, name="at") -> list:
    """Validate explicit steps and return them as sorted, de-duplicated Python ints.

    ``values`` is a list, tuple, range, set / frozenset or a 1-D numpy integer array. Each
    element must be an integer >= 0 (bools, floats, strings are a ``TypeError`` naming
    ``f"{name}[{i}]"``; negatives a ``ValueError``; values past INT64_MAX an ``OverflowError``).
    Zero and steps past the end of the run are kept: the schedule reports and drops them.
    A bare number or string, other types and float/bool/object arrays are a ``TypeError``;
    arrays that are not 1-D a ``ValueError``.
    """
    if isinstance(values, _NP_ARRAY):
        if values.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of steps, got shape {values.shape}")
        if values.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an integer array, got dtype {values.dtype}")
        values = values.tolist()
    elif not isinstance(values, (list, tuple, range, set, frozenset)):
        raise TypeError(f"{name} must be a sequence of steps (list, tuple, range, set or "
                        f"1-D integer array), got {_kind(values)}")
    return sorted({to_int(v, f"{name}[{i}]", minimum=0) for i, v in enumerate(values)})

"""Tests for ckptsched._numbers: exact user numbers and bad-input errors."""

import decimal
import math
import struct
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from ckptsched._numbers import (
    INT64_MAX,
    MAX_SHOWN,
    parse_every,
    show,
    step_range,
    simplest_rational,
    to_bool,
    to_int,
    to_rational,
    to_step_list,
)

D = decimal.Decimal
HUGE = 10**5000  # repr() of this raises in Python >= 3.11; messages must still be built


# --------------------------------------------------------------------------- oracle

def rounding_interval(x):
    """(lo, hi, closed) of the reals that round to x, from nextafter and the bit pattern:
    an implementation independent of the one under test."""
    if isinstance(x, np.float32):
        bits, zero, inf = int(x.view(np.uint32)), np.float32(0), np.float32(np.inf)
    elif isinstance(x, np.float16):
        bits, zero, inf = int(x.view(np.uint16)), np.float16(0), np.float16(np.inf)
    if isinstance(x, (np.float32, np.float16)):
        with np.errstate(over="ignore"):  # nextafter(max, inf) is inf
            down, up = np.nextafter(x, zero), np.nextafter(x, inf)
    else:
        bits = struct.unpack("<Q", struct.pack("<d", x))[0]
        down, up = math.nextafter(x, 0), math.nextafter(x, math.inf)
    v, below = F(*x.as_integer_ratio()), F(*down.as_integer_ratio())
    if math.isfinite(up):
        above = F(*up.as_integer_ratio())
    else:  # largest finite float: the gap above equals the gap below (same binade)
        above = v + (v - below)
    return (v + below) / 2, (v + above) / 2, bits % 2 == 0


def inside(r, interval):
    lo, hi, closed = interval
    return lo < r < hi or (closed and r in (lo, hi))


def assert_simplest(x, r, max_q=2000):
    interval = rounding_interval(x)
    assert inside(r, interval)
    lo, hi, _ = interval
    for q in range(1, min(r.denominator, max_q)):  # no smaller denominator fits
        for p in range(math.ceil(lo * q), math.floor(hi * q) + 1):
            assert not inside(F(p, q), interval), (x, r, F(p, q))
    precision = 24 if isinstance(x, np.float32) else 11 if isinstance(x, np.float16) else 53
    if r.denominator == 1 and r <= 2**precision:  # smallest numerator among integers; above
        assert not inside(r - 1, interval)       # 2**precision integral floats map to x itself


# --------------------------------------------------------------------------- simplest_rational

@pytest.mark.parametrize("x, expected", [
    (0.07, F(7, 100)),
    (2.3, F(23, 10)),
    (1 / (6 * 1), F(1, 6)),
    (0.57, F(57, 100)),
    (0.1, F(1, 10)),
    (1 / 3, F(1, 3)),
    (2 / 3, F(2, 3)),
    (0.5, F(1, 2)),
    (3.0, F(3)),
    (0.0, F(0)),
    (-0.0, F(0)),
    (1e22, F(10**22)),
    (2.0**70, F(2**70)),
    (1e300, F(int(1e300))),
    (float(2**53 + 2), F(2**53 + 2)),
    (1 / 7, F(1, 7)),
    (np.float64(0.07), F(7, 100)),
    (np.float32(0.1), F(1, 10)),
    (np.float32(2.3), F(23, 10)),
    (np.float16(0.1), F(1, 10)),
    (np.float16(1 / 3), F(1, 3)),
])
def test_simplest_rational_examples(x, expected):
    result = simplest_rational(x)
    assert result == expected and type(result) is F


def test_simplest_rational_keeps_float_products_honest():
    # 100 * 0.57 is 56.99999999999999, a different double from 57: it is not silently 57.
    x = 100 * 0.57
    r = simplest_rational(x)
    assert r != 57 and float(r) == x


@pytest.mark.parametrize("x", [
    1e-300, 5e-324, 1e-310, 2.2250738585072014e-308, 2.225073858507201e-308,
    1.7976931348623157e308, 0.3, 1e-5, 123456.789, 2.0**-1022, 2.0**-1074 * 3, 0.1 + 0.2,
    np.float32(1e-45), np.float32(3.4028235e38), np.float16(6e-8), np.float16(65504.0),
])
def test_simplest_rational_extremes_round_trip(x):
    r = simplest_rational(x)
    assert r >= 0
    assert inside(r, rounding_interval(x))
    if isinstance(x, float):
        assert float(r) == x
    assert_simplest(x, r, max_q=200)


@pytest.mark.parametrize("x, exc", [
    (-0.5, ValueError), (math.nan, ValueError), (math.inf, ValueError), (-math.inf, ValueError),
    (np.float32("nan"), ValueError), (1, TypeError), (F(1, 2), TypeError), ("0.5", TypeError),
    (None, TypeError), (True, TypeError), (D("0.5"), TypeError),
])
def test_simplest_rational_bad(x, exc):
    with pytest.raises(exc):
        simplest_rational(x)


@pytest.mark.parametrize("q", range(1, 61))
def test_simplest_rational_recovers_small_fractions(q):
    for p in range(0, 4 * q + 1):
        assert simplest_rational(p / q) == F(p, q)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
@example(5e-324)
@example(1.7976931348623157e308)
@example(2.0**-1022)
@example(1.0)
def test_simplest_rational_property_float64(x):
    r = simplest_rational(x)
    assert float(r) == x
    assert_simplest(x, r)
    if x != 0 and math.frexp(x)[0] != 0.5 and r.denominator > 1:
        # limit_denominator finds the closest fraction with a smaller denominator; the rounding
        # interval is symmetric away from powers of two, so it must not round to x.
        assert float(F(x).limit_denominator(r.denominator - 1)) != x


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-320, max_value=1e-290))
def test_simplest_rational_property_tiny(x):
    r = simplest_rational(x)
    assert float(r) == x
    assert_simplest(x, r, max_q=50)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_simplest_rational_recovers_quotients(p, q):
    x = p / q
    r = simplest_rational(x)
    assert float(r) == x
    assert r.denominator <= q  # p/q itself rounds to x, so the answer is at least as simple


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False, width=32))
def test_simplest_rational_property_float32(x):
    x = np.float32(x)
    assert_simplest(x, simplest_rational(x), max_q=500)


def test_simplest_rational_all_float16():
    values = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16)  # every finite x >= 0
    for x in values:
        r = simplest_rational(x)
        assert inside(r, rounding_interval(x)), x
    for x in values[::97]:
        assert_simplest(x, simplest_rational(x), max_q=300)


# --------------------------------------------------------------------------- to_int

@pytest.mark.parametrize("value, kwargs, expected", [
    (1, {}, 1),
    (500, {}, 500),
    (INT64_MAX, {}, INT64_MAX),
    (np.int64(7), {}, 7),
    (np.uint8(255), {}, 255),
    (np.int32(3), {}, 3),
    (np.uint64(INT64_MAX), {}, INT64_MAX),
    (0, {"minimum": 0}, 0),
    (-3, {"minimum": -5}, -3),
    (5, {"minimum": 5}, 5),
])
def test_to_int_good(value, kwargs, expected):
    result = to_int(value, "steps_per_epoch", **kwargs)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value, kwargs, exc, fragment", [
    (True, {}, TypeError, "True (bool)"),
    (False, {"minimum": 0}, TypeError, "False"),
    (np.bool_(True), {}, TypeError, "must be an integer"),
    (2.0, {}, TypeError, "must be an integer, got 2.0 (float)"),
    (2.5, {}, TypeError, "2.5"),
    (np.float64(2.0), {}, TypeError, "float64"),
    (np.float32(2.0), {}, TypeError, "float32"),
    ("3", {}, TypeError, "'3' (str)"),
    (None, {}, TypeError, "None"),
    (F(3), {}, TypeError, "Fraction"),
    (D(3), {}, TypeError, "Decimal"),
    ([3], {}, TypeError, "[3]"),
    (np.array([3]), {}, TypeError, "ndarray"),
    (1j, {}, TypeError, "complex"),
    (0, {}, ValueError, "must be a positive integer, got 0"),
    (-1, {}, ValueError, "-1"),
    (np.int64(-4), {}, ValueError, "positive"),
    (-1, {"minimum": 0}, ValueError, "non-negative integer, got -1"),
    (4, {"minimum": 5}, ValueError, ">= 5, got 4"),
    (2**63, {}, OverflowError, "int64"),
    (np.uint64(2**64 - 1), {}, OverflowError, "int64"),
    pytest.param(HUGE, {}, OverflowError, "int64", id="huge"),
    (-(2**63) - 1, {"minimum": -(2**70)}, OverflowError, "int64"),
])
def test_to_int_bad(value, kwargs, exc, fragment):
    with pytest.raises(exc) as info:
        to_int(value, "steps_per_epoch", **kwargs)
    assert "steps_per_epoch" in str(info.value)
    assert fragment in str(info.value)


@given(st.integers(1, INT64_MAX))
def test_to_int_identity(n):
    assert to_int(n, "n") == n


# --------------------------------------------------------------------------- to_rational

@pytest.mark.parametrize("value, kwargs, expected", [
    (3, {}, F(3)),
    (np.int32(3), {}, F(3)),
    (np.uint64(5), {}, F(5)),
    (F(7, 3), {}, F(7, 3)),
    (D("2.30"), {}, F(23, 10)),
    (D("1e-18"), {}, F(1, 10**18)),
    (D("9.2e18"), {}, F(92 * 10**17)),
    (2.3, {}, F(23, 10)),
    (0.07, {}, F(7, 100)),
    (1 / 6, {}, F(1, 6)),
    (np.float64(0.57), {}, F(57, 100)),
    (np.float32(0.07), {}, F(7, 100)),
    (np.float16(0.5), {}, F(1, 2)),
    (1e18, {}, F(10**18)),
    (INT64_MAX, {}, F(INT64_MAX)),
    (F(1, INT64_MAX), {}, F(1, INT64_MAX)),
    (0, {"allow_zero": True}, F(0)),
    (0.0, {"allow_zero": True}, F(0)),
    (-0.0, {"allow_zero": True}, F(0)),
    (D("0"), {"allow_zero": True}, F(0)),
    (-0.5, {"positive": False}, F(-1, 2)),
    (-2.3, {"positive": False}, F(-23, 10)),
    (-3, {"positive": False}, F(-3)),
    (D("-0.25"), {"positive": False}, F(-1, 4)),
    (F(-1, 3), {"positive": False}, F(-1, 3)),
    (0, {"positive": False}, F(0)),
])
def test_to_rational_good(value, kwargs, expected):
    result = to_rational(value, "epochs", **kwargs)
    assert result == expected and type(result) is F


@pytest.mark.parametrize("value, kwargs, exc, fragment", [
    (True, {}, TypeError, "True"),
    (np.bool_(False), {"allow_zero": True}, TypeError, "False"),
    ("2.3", {}, TypeError, "Fraction('23/10')"),
    ("", {}, TypeError, "string"),
    (None, {}, TypeError, "None"),
    ([1], {}, TypeError, "[1]"),
    (1j, {}, TypeError, "complex"),
    (np.complex128(1), {}, TypeError, "complex"),
    (np.array([1.0, 2.0]), {}, TypeError, "ndarray"),
    (object(), {}, TypeError, "object"),
    (math.nan, {}, ValueError, "nan"),
    (math.inf, {}, ValueError, "inf"),
    (-math.inf, {"positive": False}, ValueError, "inf"),
    (np.float32("nan"), {}, ValueError, "nan"),
    (D("NaN"), {}, ValueError, "NaN"),
    (D("sNaN"), {}, ValueError, "NaN"),
    (D("-Infinity"), {}, ValueError, "Infinity"),
    (0, {}, ValueError, "must be > 0, got 0"),
    (0.0, {}, ValueError, "0.0"),
    (-0.0, {}, ValueError, "-0.0"),
    (F(0), {}, ValueError, "> 0"),
    (D("0.000"), {}, ValueError, "> 0"),
    (-1, {}, ValueError, "-1"),
    (-1, {"allow_zero": True}, ValueError, ">= 0, got -1"),
    (-0.5, {}, ValueError, "-0.5"),
    (F(-1, 2), {}, ValueError, "> 0"),
    (D("-1e30"), {}, ValueError, "> 0"),  # the sign is reported before the size
    (np.int64(-2), {}, ValueError, "-2"),
    (1e-300, {}, OverflowError, "1e-300"),
    (5e-324, {}, OverflowError, "int64"),
    (1e19, {}, OverflowError, "int64"),
    (1e300, {}, OverflowError, "int64"),
    (-1e19, {"positive": False}, OverflowError, "int64"),
    (2**63, {}, OverflowError, "int64"),
    pytest.param(HUGE, {}, OverflowError, "int64", id="huge"),
    (F(1, 2**63), {}, OverflowError, "int64"),
    (F(2**63, 3), {}, OverflowError, "int64"),
    (D("1e-25"), {}, OverflowError, "int64"),
    (D("1e19"), {}, OverflowError, "int64"),
    (D("1e999999999"), {}, OverflowError, "int64"),  # must not build 10**999999999
    (D("1e-999999999"), {}, OverflowError, "int64"),
    (D("-1e999999999"), {"positive": False}, OverflowError, "int64"),
])
def test_to_rational_bad(value, kwargs, exc, fragment):
    with pytest.raises(exc) as info:
        to_rational(value, "epochs", **kwargs)
    assert "epochs" in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.skipif(np.longdouble is np.float64, reason="longdouble is float64 here")
def test_to_rational_rejects_longdouble():
    with pytest.raises(TypeError, match="epochs"):
        to_rational(np.longdouble(0.5), "epochs")


@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=F(1, 10**4), max_value=10**6, max_denominator=10**4))
def test_to_rational_float_recovers_simple_fractions(f):
    # fractions with denominators <= 1e4 are >= 1e-8 apart, far more than the width of the
    # rounding interval of a double <= 1e6, so f is the only such fraction that rounds there
    assert to_rational(float(f), "x") == f
    assert to_rational(f, "x") == f


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=D("1e-12"), max_value=D("1e6"), places=12,
                   allow_nan=False, allow_infinity=False))
def test_to_rational_decimal_exact(d):
    assert to_rational(d, "x") == F(d)


# --------------------------------------------------------------------------- to_bool

@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (np.bool_(True), True), (np.bool_(False), False),
])
def test_to_bool_good(value, expected):
    result = to_bool(value, "final")
    assert result is expected


@pytest.mark.parametrize("value", [1, 0, "yes", "True", None, 1.0, np.int8(1), [True]])
def test_to_bool_bad(value):
    with pytest.raises(TypeError) as info:
        to_bool(value, "final")
    assert "final" in str(info.value) and repr(value) in str(info.value)


# --------------------------------------------------------------------------- parse_every

@pytest.mark.parametrize("value, expected", [
    (500, (F(500), "steps")),
    (np.int64(7), (F(7), "steps")),
    ("500", (F(500), "steps")),
    ("2ep", (F(2), "epochs")),
    ("0.5 ep", (F(1, 2), "epochs")),
    ("10000sp", (F(10000), "samples")),
    ("1e9tok", (F(10**9), "tokens")),
    ("1/3ep", (F(1, 3), "epochs")),
    ("  3 / 6  Epochs ", (F(1, 2), "epochs")),
    (".5ep", (F(1, 2), "epochs")),
    ("2.ep", (F(2), "epochs")),
    ("+3ep", (F(3), "epochs")),
    ("1.5e3st", (F(1500), "steps")),
    ("1.5E3 STEPS", (F(1500), "steps")),
    ("12 step", (F(12), "steps")),
    ("4/2", (F(2), "steps")),
    ("1e-1ep", (F(1, 10), "epochs")),
    ("0.1ep", (F(1, 10), "epochs")),
    ("2.3 epoch", (F(23, 10), "epochs")),
    ("1 sample", (F(1), "samples")),
    ("256samples", (F(256), "samples")),
    ("2.5e6 token", (F(2500000), "tokens")),
    ("7TOKENS", (F(7), "tokens")),
    ("0.000001ep", (F(1, 10**6), "epochs")),
    (str(INT64_MAX), (F(INT64_MAX), "steps")),
    (f"1/{INT64_MAX}ep", (F(1, INT64_MAX), "epochs")),
    ("00020000000000000000000/20000000000000000000 ep", (F(1), "epochs")),
])
def test_parse_every_good(value, expected):
    amount, unit = parse_every(value)
    assert (amount, unit) == expected and type(amount) is F


@pytest.mark.parametrize("value, exc, fragment", [
    (2.5, TypeError, "'2ep'"),
    (2.0, TypeError, "2.0"),
    (np.float64(3.0), TypeError, "string like"),
    (True, TypeError, "True"),
    (np.bool_(True), TypeError, "int number of steps"),
    (None, TypeError, "None"),
    (F(1, 2), TypeError, "Fraction"),
    (D("2"), TypeError, "Decimal"),
    ([1], TypeError, "[1]"),
    (b"2ep", TypeError, "bytes"),
    ("", ValueError, "tok"),
    ("   ", ValueError, "epochs"),
    ("ep", ValueError, "'ep'"),
    ("2 weeks", ValueError, "'2 weeks'"),
    ("2e", ValueError, "steps"),
    ("2 ep ep", ValueError, "2 ep ep"),
    ("1.5.2ep", ValueError, "1.5.2ep"),
    ("1/2/3ep", ValueError, "1/2/3ep"),
    ("1.5/2ep", ValueError, "1.5/2ep"),
    ("nan", ValueError, "nan"),
    ("infep", ValueError, "infep"),
    ("0x10", ValueError, "0x10"),
    ("1_000", ValueError, "1_000"),
    ("\u0663ep", ValueError, "every"),  # non-ASCII digits are not accepted
    ("0", ValueError, "> 0"),
    ("0ep", ValueError, "> 0"),
    ("-1ep", ValueError, "> 0"),
    ("0/5tok", ValueError, "> 0"),
    ("1/0ep", ValueError, "zero"),
    ("1/000ep", ValueError, "zero"),
    ("2.5", ValueError, "every='2.5' is not a whole number of steps; use an epoch/sample/token"),
    ("1/3", ValueError, "whole number of steps"),
    ("1e-1st", ValueError, "whole number of steps"),
    (0, ValueError, "0"),
    (-5, ValueError, "-5"),
    (2**63, OverflowError, "int64"),
    ("1e30", OverflowError, "int64"),
    ("9223372036854775808", OverflowError, "int64"),
    ("1e999999999", OverflowError, "int64"),
    pytest.param("1" * 5000, OverflowError, "characters)", id="5000-digit-steps"),
])
def test_parse_every_bad(value, exc, fragment):
    with pytest.raises(exc) as info:
        parse_every(value)
    assert "every" in str(info.value)
    assert fragment in str(info.value)
    assert len(str(info.value)) < 400  # long values are abbreviated


# Amounts in epochs / samples / tokens are exact at any size (decisions.md item 6: the
# schedule, not the parser, decides that their spacing lies beyond the run).
@pytest.mark.parametrize("value, expected", [
    ("1e30tok", (F(10**30), "tokens")),
    ("1/9223372036854775808ep", (F(1, 2**63), "epochs")),
    ("1e-25ep", (F(1, 10**25), "epochs")),
    ("1e100sp", (F(10**100), "samples")),
    ("1e999999999tok", (F(10**101), "tokens")),       # capped: beyond any run either way
    ("1e-999999999ep", (F(1, 10**101), "epochs")),    # capped: below one step either way
    pytest.param("1" * 5000 + "tok", (F(10**101), "tokens"), id="5000-digits"),  # capped
])
def test_parse_every_unit_amounts_any_size(value, expected):
    assert parse_every(value) == expected


@pytest.mark.parametrize("value, exc", [(2.5, TypeError), ("2 weeks", ValueError),
                                        ("0ep", ValueError), ("1e30", OverflowError)])
def test_parse_every_uses_name(value, exc):
    with pytest.raises(exc, match="eval_every"):
        parse_every(value, "eval_every")


@settings(max_examples=200, deadline=None)
@given(st.integers(1, INT64_MAX), st.integers(1, INT64_MAX),
       st.sampled_from(["ep", " epochs", "sp", "Tok", " token"]))
def test_parse_every_fraction_round_trip(p, q, unit):
    amount, _ = parse_every(f"{p}/{q}{unit}")
    assert amount == F(p, q)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=D("1e-9"), max_value=D("1e9"), places=9,
                   allow_nan=False, allow_infinity=False))
def test_parse_every_decimal_exact(d):
    assert parse_every(f"{d}ep") == (F(d), "epochs")


# --------------------------------------------------------------------------- to_step_list

@pytest.mark.parametrize("values, expected", [
    ([3, 1, 2, 2], [1, 2, 3]),
    ((0, 5), [0, 5]),
    (range(2, 11, 3), [2, 5, 8]),
    ({5, 1}, [1, 5]),
    (frozenset({9}), [9]),
    ([], []),
    ((), []),
    ([np.int64(4), 2, np.uint8(4)], [2, 4]),
    ([INT64_MAX, 0], [0, INT64_MAX]),
    (np.array([5, 3, 3, 0], dtype=np.int64), [0, 3, 5]),
    (np.array([7, 1], dtype=np.uint8), [1, 7]),
    (np.array([2**40], dtype=np.uint64), [2**40]),
    (np.array([], dtype=np.int32), []),
    (np.arange(10, 0, -3), [1, 4, 7, 10]),
    # any integer: the schedule drops those outside 1..T (decisions.md item 3)
    ([1, -1, 0], [-1, 0, 1]),
    ([2**63, 5], [5, 2**63]),
    pytest.param([1, HUGE, -HUGE], [-HUGE, 1, HUGE], id="huge"),
    (np.array([2**64 - 1], dtype=np.uint64), [2**64 - 1]),
    (np.array([3, -1]), [-1, 3]),
    # any iterable of integers
    (iter([3, 1]), [1, 3]),
    ((s for s in (4, 2, 4)), [2, 4]),
])
def test_to_step_list_good(values, expected):
    result = to_step_list(values)
    assert result == expected and all(type(v) is int for v in result)


@pytest.mark.parametrize("values, exc, fragment", [
    (5, TypeError, "at must be an iterable of integer steps"),
    (np.int64(5), TypeError, "iterable of integer steps"),
    ("1,2", TypeError, "iterable of integer steps"),
    (b"12", TypeError, "iterable of integer steps"),
    (None, TypeError, "None"),
    ({1: 2}, TypeError, "dict"),
    (np.array([1.0, 2.0]), TypeError, "float64"),
    (np.array([True]), TypeError, "bool"),
    (np.array([1, 2], dtype=object), TypeError, "object"),
    (np.array(["1"]), TypeError, "dtype"),
    (np.array([[1, 2]]), ValueError, "1-D"),
    (np.array(3), ValueError, "1-D"),
    ([1, 2.0], TypeError, "at[1]"),
    ([True], TypeError, "at[0]"),
    (["1"], TypeError, "at[0]"),
    ([1, None], TypeError, "at[1]"),
    ([[1]], TypeError, "at[0]"),
    ([np.float32(1)], TypeError, "at[0]"),
    (iter([1, 2.5]), TypeError, "at[1]"),
    ((1, HUGE, "3"), TypeError, "at[2]"),
])
def test_to_step_list_bad(values, exc, fragment):
    with pytest.raises(exc) as info:
        to_step_list(values)
    assert "at" in str(info.value)
    assert fragment in str(info.value)


def test_to_step_list_uses_name():
    with pytest.raises(TypeError, match=r"save_at\[2\]"):
        to_step_list([1, 2, 3.0], "save_at")
    with pytest.raises(TypeError, match="save_at"):
        to_step_list(7, "save_at")


@given(st.lists(st.integers(0, INT64_MAX)))
def test_to_step_list_sorted_unique(values):
    assert to_step_list(values) == sorted(set(values))
    assert to_step_list(np.array(values, dtype=np.uint64)) == sorted(set(values))


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(bool))
def test_step_range_is_the_same_steps_increasing(start, stop, step):
    r = range(start, stop, step)
    assert list(step_range(r)) == sorted(r)
    assert step_range(r).step > 0


def test_step_range_is_o1_on_huge_ranges():
    r = step_range(range(10**30, -10**30, -3))
    assert (r[0], r[-1], r.step) == (-10**30 + 2, 10**30, 3)


# --------------------------------------------------------------------------- show

@pytest.mark.parametrize("value, expected", [
    pytest.param(HUGE, "<int of about 5001 digits>", id="huge"),
    pytest.param(-HUGE, "<-int of about 5001 digits>", id="-huge"),
    pytest.param([1, HUGE], "[1, <int of about 5001 digits>]", id="list"),
    pytest.param((HUGE,), "(<int of about 5001 digits>)", id="tuple"),
    (7, "7"),
    ("2ep", "'2ep'"),
    (F(1, 3), "Fraction(1, 3)"),
])
def test_show(value, expected):
    assert show(value) == expected


def test_show_abbreviates_long_reprs():
    text = show("1" * 10_000)
    assert len(text) < 2 * MAX_SHOWN and "(10002 characters)" in text
    assert text.startswith("'111") and text.endswith("111' (10002 characters)")
    assert show(F(HUGE, 3)) == "<Fraction too large to print>"


@pytest.mark.parametrize("digits", [4301, 5000, 5001, 12345, 100_000])
def test_show_digit_count_of_huge_ints(digits):
    for n in (10 ** (digits - 1), 10**digits - 1):  # the smallest and largest with `digits`
        shown = show(n)
        estimate = int(shown.split("about ")[1].split(" ")[0])
        assert abs(estimate - digits) <= 1, shown

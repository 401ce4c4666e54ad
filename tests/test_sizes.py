"""Human byte counts (ckptsched.sizes): exact decimal / binary units, and errors naming the
argument and the value; Plan takes them for checkpoint_bytes and disk_budget, sweep for
checkpoint_bytes."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckptsched import Plan, Run, sweep
from ckptsched.sizes import format_size, parse_size

DECIMAL = {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
           "PB": 10**15, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BINARY = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


@pytest.mark.parametrize("text, expected", [
    ("16GB", 16 * 10**9), ("2e9", 2 * 10**9), ("500MiB", 500 * 2**20),
    ("1.5TB", 1_500_000_000_000), ("1536", 1536), (" 16 gb ", 16 * 10**9),
    ("0.5KiB", 512), ("1_000kB", 10**6), ("1e-3GB", 10**6), ("8EiB", None),
])
def test_examples(text, expected):
    if expected is None:
        with pytest.raises(OverflowError, match="int64"):
            parse_size(text, "size")
    else:
        assert parse_size(text, "size") == expected


@given(st.integers(1, 1000), st.sampled_from(sorted({**DECIMAL, **BINARY}.items())),
       st.sampled_from(["", " "]), st.booleans())
def test_units_are_exact_powers(number, unit_and_multiplier, space, lower):
    unit, multiplier = unit_and_multiplier
    text = f"{number}{space}{unit.lower() if lower and unit.endswith('B') else unit}"
    if lower and unit.endswith("iB"):
        text = f"{number}{space}{unit.lower()}"
    assert parse_size(text, "size") == number * multiplier


@given(st.integers(1, 10**6), st.integers(0, 3),
       st.sampled_from([u for u in sorted(BINARY.items()) if u[0] != "PiB"]))
def test_decimal_fractions_are_exact_or_refused(numerator, places, unit_and_multiplier):
    unit, multiplier = unit_and_multiplier
    whole, decimals = divmod(numerator, 10**places)
    text = f"{whole}.{decimals:0{places}d}" if places else str(numerator)
    exact = Fraction(numerator, 10**places) * multiplier
    if exact.denominator != 1:
        with pytest.raises(ValueError, match="fractional"):
            parse_size(text + unit, "checkpoint_bytes")
    else:
        assert parse_size(text + unit, "checkpoint_bytes") == exact


@pytest.mark.parametrize("value, error, words", [
    ("1.5B", ValueError, ["fractional", "'1.5B'", "whole number"]),
    ("0.3KiB", ValueError, ["fractional"]),
    ("16XB", ValueError, ["unknown unit", "'XB'"]),
    ("GB", ValueError, ["not understood"]),
    ("", ValueError, ["not understood"]),
    ("1__0", ValueError, ["not understood"]),
    ("0", ValueError, ["positive"]),
    ("-5GB", ValueError, ["positive"]),
    ("1e9999GB", OverflowError, ["int64"]),
    ("1e99999", ValueError, ["not understood"]),
    (1.5, ValueError, ["fractional"]),
    (float("nan"), ValueError, ["nan"]),
    (True, TypeError, ["True"]),
    (None, TypeError, ["None"]),
    (2**63, OverflowError, ["int64"]),
    ("9" * 5000 + "GB", OverflowError, ["int64", "..."]),   # never Python's 4300-digit limit
    ("-" + "9" * 5000, OverflowError, ["int64"]),
    ("0." + "0" * 5000 + "1GB", ValueError, ["digits"]),
    ("0" * 5000 + "1GB", ValueError, ["digits"]),
])
def test_bad_sizes_name_the_argument_and_value(value, error, words):
    with pytest.raises(error) as info:
        parse_size(value, "--disk-budget")
    assert "--disk-budget" in str(info.value)
    for word in words:
        assert word in str(info.value)
    assert len(str(info.value)) < 400  # a long value is abbreviated


def test_numbers_pass_through():
    assert parse_size(16 * 10**9, "x") == 16 * 10**9
    assert parse_size(16e9, "x") == 16 * 10**9
    assert parse_size(2**63 - 1, "x") == 2**63 - 1


@pytest.mark.parametrize("count, text", [
    (16 * 10**9, "16 GB"), (1_536_000, "1.536 MB"), (999, "999 B"), (10**12, "1 TB"),
])
def test_format_size(count, text):
    assert format_size(count) == text


def test_plan_takes_sizes_as_strings(backend):
    run = Run(max_steps=30)
    plan = Plan(run, save=dict(every=10), checkpoint_bytes="16GB", disk_budget="1TiB")
    assert plan.checkpoint_bytes == 16 * 10**9 and plan.disk_budget == 2**40
    assert plan.peak.bytes == 3 * 16 * 10**9
    assert plan == Plan(run, save=dict(every=10), checkpoint_bytes=16e9, disk_budget=2**40)
    with pytest.raises(ValueError, match="disk_budget='1.5B'.*fractional"):
        Plan(run, save=dict(every=10), checkpoint_bytes=1, disk_budget="1.5B")


def test_sweep_takes_sizes_as_strings(backend):
    """sweep's checkpoint_bytes: one size for every run, or sizes among the per-run values,
    worth exactly their bytes (the counts come from the exact model: every 10 of 30 steps)."""
    res = sweep(max_steps=[30, 30, 30], every=10, checkpoint_bytes="16GB", counts_only=True)
    assert res.bytes.tolist() == [3 * 16 * 10**9] * 3
    res = sweep(max_steps=[30, 30, 30], every=10, checkpoint_bytes=["1KiB", 7e3, 5],
                keep_last=1, counts_only=True)
    assert res.bytes.tolist() == [3 * 1024, 3 * 7000, 3 * 5]
    assert res.peak_bytes.tolist() == [2 * 1024, 2 * 7000, 2 * 5]
    same = sweep(max_steps=[30, 30, 30], every=10, checkpoint_bytes=np.array(["1KiB", "7kB", "5"]),
                 keep_last=1, counts_only=True)
    assert same.bytes.tolist() == res.bytes.tolist()
    with pytest.raises(ValueError, match=r"checkpoint_bytes\[1\]='0.5B'.*fractional"):
        sweep(max_steps=[30, 30], every=10, checkpoint_bytes=[1, "0.5B"])
    with pytest.raises(ValueError, match="checkpoint_bytes='lots' is not understood"):
        sweep(max_steps=30, every=10, checkpoint_bytes="lots")

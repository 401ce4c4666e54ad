"""Tests for ckptsched.sweep: run i of a sweep is Schedule(Run(...row i...), ...) exactly.

Every sweep test runs on both backends (the `backend` fixture of conftest switches Run,
Schedule and sweep together); the oracle is always the per-run Schedule, and the two sweep
backends are also compared with each other on raw kernel columns, bad rows included.
"""
from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

import ckptsched
from ckptsched import CODES, Run, Schedule, _backend, sweep
from ckptsched._sweep_py import ABSENT, ARGS, COMPLETE_COLUMNS, FLAGS, WHY_VALUE, RowError
from ckptsched.cli import main as cli_main


ARG_NAMES = ("steps_per_epoch", "epochs", "max_steps", "saves_per_epoch", "every", "count",
             "ratio", "final", "min_interval")


# the oracle builds many Schedules: their info diagnostics need not be logged
pytestmark = pytest.mark.usefixtures("quiet_schedules")


@pytest.fixture
def on(backend):
    """The backend fixture, with the sweep backend checked to have switched too."""
    assert _backend.sweep_impl.NAME == backend.NAME
    return backend


# ---- the oracle ---------------------------------------------------------------------

def row_of(args: dict, i: int) -> dict:
    """Run i's arguments: scalars as given, per-run values indexed (None: left out)."""
    row = {}
    for name, value in args.items():
        if isinstance(value, (list, tuple, np.ndarray)):
            value = value[i]
            if isinstance(value, np.ma.core.MaskedConstant):
                value = None
        row[name] = value
    return row


def schedule_of(row: dict) -> Schedule:
    run_kw = {k: row.get(k) for k in ("steps_per_epoch", "epochs", "max_steps")}
    sched_kw = {k: row[k] for k in ("saves_per_epoch", "every", "count", "ratio") if k in row}
    if row.get("final") is not None:
        sched_kw["final"] = row["final"]
    if row.get("min_interval") is not None:
        sched_kw["min_interval"] = row["min_interval"]
    return Schedule(Run(**run_kw), **sched_kw)


def flags_of(sched: Schedule) -> int:
    """The flags of the run's Schedule, as every sweep backend must compute them."""
    return sum(FLAGS[code] for code in {d.code for d in sched.diagnostics})


def assert_matches_schedules(res, args: dict, n_runs: int, bytes_each=None):
    assert len(res) == n_runs
    assert res.counts.dtype == np.int64 and res.flags.dtype == np.uint32
    if res.offsets is not None:
        assert res.offsets.dtype == np.int64 and res.steps.dtype == np.int64
        assert res.offsets[0] == 0 and len(res.offsets) == n_runs + 1
        assert np.array_equal(np.diff(res.offsets), res.counts)
        assert res.offsets[-1] == len(res.steps)
    for i in range(n_runs):
        sched = schedule_of(row_of(args, i))
        if res.steps is not None:
            got, expected = res[i], sched.steps
            assert np.array_equal(got, expected), (i, row_of(args, i), got, expected)
            assert len(got) == res.counts[i]
        assert res.counts[i] == len(sched), (i, row_of(args, i))
        assert res.flags[i] == flags_of(sched), (
            i, row_of(args, i), res.codes(i), [d.code for d in sched.diagnostics])
        if bytes_each is not None:
            assert res.bytes[i] == len(sched) * bytes_each


# ---- random sweeps --------------------------------------------------------------------

EPOCHS = st.one_of(st.integers(1, 5), st.sampled_from([0.5, 1.5, 2.3, 0.3, 1 / 3, 2.0, 0.07]),
                   st.fractions(min_value=Fraction(1, 7), max_value=5, max_denominator=9)
                   .filter(lambda f: f > 0))
RATIOS = st.sampled_from([0.07, 0.1, 0.25, 1 / 3, 0.5, 0.57, 0.9, 0.999, Fraction(2, 7)])


@st.composite
def runs(draw):
    """One run's arguments, any mix of rules (None: left out)."""
    row = dict.fromkeys(ARG_NAMES)
    if draw(st.booleans()):
        row["steps_per_epoch"] = draw(st.integers(1, 60))
        row["epochs"] = draw(EPOCHS)
        if draw(st.integers(0, 3)) == 0:
            row["max_steps"] = draw(st.integers(1, 300))
    else:
        row["max_steps"] = draw(st.integers(1, 300))
        row["steps_per_epoch"] = draw(st.one_of(st.none(), st.integers(1, 60)))
    if row["steps_per_epoch"] is not None and draw(st.booleans()):
        row["saves_per_epoch"] = draw(st.integers(1, 70))
    if draw(st.integers(0, 3)) == 0:
        row["count"] = draw(st.integers(1, 400))
    if draw(st.integers(0, 3)) == 0:
        row["every"] = draw(st.integers(1, 400))
    if draw(st.integers(0, 3)) == 0:
        row["ratio"] = draw(RATIOS)
    row["final"] = draw(st.booleans())
    row["min_interval"] = draw(st.sampled_from([0, 0, 0, 1, 2, 5, 17]))
    return row


def columns_of(rows):
    """Per-argument lists over the runs; an argument nobody gives is left out (None)."""
    args = {}
    for name in ARG_NAMES:
        values = [r[name] for r in rows]
        args[name] = None if all(v is None for v in values) else values
    return args


@given(rows=st.lists(runs(), min_size=1, max_size=25), counts_only=st.booleans())
def test_random_sweeps_equal_per_run_schedules(on, rows, counts_only):
    args = columns_of(rows)
    res = sweep(**args, checkpoint_bytes=1000, counts_only=counts_only)
    assert (res.steps is None) == counts_only
    assert_matches_schedules(res, args, len(rows), bytes_each=1000)


def test_thousands_of_runs_mixed_rules(on):
    rng = np.random.default_rng(7)
    n = 2000
    spe = rng.integers(1, 120, n)
    args = dict(
        steps_per_epoch=spe,
        epochs=rng.choice([1, 2, 3, 0.5, 2.3, 1 / 3], n),
        saves_per_epoch=[int(k) if k else None for k in rng.integers(0, 40, n)],
        count=[int(c) if c % 3 == 0 else None for c in rng.integers(1, 300, n)],
        every=[int(e) if e % 4 == 0 else None for e in rng.integers(1, 300, n)],
        ratio=[float(r) if r < 0.4 else None for r in rng.random(n)],
        final=rng.random(n) < 0.7,
        min_interval=np.where(rng.random(n) < 0.2, rng.integers(0, 30, n), 0),
    )
    res = sweep(**args)
    assert_matches_schedules(res, args, n)
    assert res.runs_with("NO_SAVES").size > 0 and res.runs_with("MIN_INTERVAL_DROPPED").size > 0
    counts = sweep(**args, counts_only=True)
    assert np.array_equal(counts.counts, res.counts) and np.array_equal(counts.flags, res.flags)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32", "uint64", "float16", "float32", "float64"])
def test_any_integer_dtype_and_integral_floats(on, dtype):
    spe = np.array([7, 50, 100, 3], dtype=dtype)
    k = np.array([2, 3, 8, 5], dtype=dtype)
    res = sweep(steps_per_epoch=spe, epochs=np.array([3, 2, 1, 4], dtype=dtype),
                saves_per_epoch=k, checkpoint_bytes=np.array([1, 2, 3, 4], dtype=dtype))
    args = dict(steps_per_epoch=spe.tolist(), epochs=np.array([3, 2, 1, 4], dtype=dtype).tolist(),
                saves_per_epoch=k.astype(np.int64).tolist())
    args = {k_: [int(v) for v in vs] for k_, vs in args.items()}
    assert_matches_schedules(res, args, 4)
    assert res.bytes.tolist() == [c * b for c, b in zip(res.counts.tolist(), [1, 2, 3, 4])]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_epochs_and_ratios_mean_their_simplest_rational(on, dtype):
    epochs = np.array([2.3, 0.3, 1.5, 2.3, 0.07], dtype=dtype)
    ratio = np.array([0.07, 0.57, 0.1, 0.3, 0.5], dtype=dtype)
    args = dict(steps_per_epoch=[100, 217, 64, 1000, 9000], epochs=epochs,
                saves_per_epoch=[3, 8, 2, 1, 5], ratio=ratio)
    res = sweep(**args)
    assert_matches_schedules(res, args, 5)


def test_scalars_broadcast_and_all_scalars_is_one_run(on):
    res = sweep(steps_per_epoch=217, epochs=3, saves_per_epoch=8)
    assert len(res) == 1
    assert np.array_equal(res[0], Schedule(Run(217, 3), saves_per_epoch=8).steps)
    res = sweep(steps_per_epoch=np.array([10, 20, 30]), epochs=2.5, count=4, final=False)
    assert_matches_schedules(res, dict(steps_per_epoch=[10, 20, 30], epochs=2.5, count=4,
                                       final=False), 3)


def test_missing_values_per_run(on):
    spe = np.ma.masked_array([10, 20, 30], mask=[False, True, False])
    args = dict(steps_per_epoch=spe, epochs=[2, None, 3], max_steps=[None, 77, None],
                every=[None, 10, None], saves_per_epoch=[4, None, None],
                min_interval=np.ma.masked_array([3, 0, 0], mask=[True, False, False]),
                final=[None, False, True])
    res = sweep(**args)
    assert_matches_schedules(res, dict(steps_per_epoch=[10, None, 30], epochs=[2, None, 3],
                                       max_steps=[None, 77, None], every=[None, 10, None],
                                       saves_per_epoch=[4, None, None], min_interval=[0, 0, 0],
                                       final=[True, False, True]), 3)


def test_result_layout(on):
    res = sweep(steps_per_epoch=[10, 20, 5], epochs=2, saves_per_epoch=[1, 2, 5],
                checkpoint_bytes=2**30)
    assert res.counts.tolist() == [2, 4, 10]
    assert res.offsets.tolist() == [0, 2, 6, 16]
    view = res[1]
    assert view.tolist() == [10, 20, 30, 40] and np.shares_memory(view, res.steps)
    assert res[-1].tolist() == list(range(1, 11))
    for array in (res.counts, res.offsets, res.steps, res.flags, res.bytes, view):
        assert not array.flags.writeable
    assert [r.tolist() for r in res] == [res[i].tolist() for i in range(3)]
    with pytest.raises(IndexError, match="run 3"):
        res[3]
    with pytest.raises(TypeError):
        res[1.0]
    assert res.total == 16 and res.total_bytes == 16 * 2**30
    assert res.summary()["runs_per_code"]["FEWER_THAN_REQUESTED"] == 0
    only = sweep(steps_per_epoch=[10, 20, 5], epochs=2, saves_per_epoch=[1, 2, 5], counts_only=True)
    assert only.offsets is None and only.steps is None and only.total == 16 and only.bytes is None
    with pytest.raises(ValueError, match="counts_only"):
        only[0]


def test_runs_with_and_codes(on):
    res = sweep(max_steps=[10, 10, 10, 100], every=[20, 3, 5, 10], final=[False, True, True, True])
    assert res.runs_with("NO_SAVES").tolist() == [0]
    assert res.runs_with("OUT_OF_RANGE").tolist() == [0]
    assert res.runs_with("UNEVEN_TAIL").tolist() == [1]
    assert res.runs_with("UNEVEN_TAIL", "NO_SAVES").tolist() == [0, 1]
    assert res.runs_with(["UNEVEN_TAIL", "NO_SAVES"]).tolist() == [0, 1]
    # run 0 also has HF_MISMATCH in Schedule (transformers saves step 10), not in the C yet
    assert [c for c in res.codes(0) if c != "HF_MISMATCH"] == ["NO_SAVES", "OUT_OF_RANGE"]
    assert res.codes(3) == ()
    with pytest.raises(ValueError, match="NOT_A_CODE"):
        res.runs_with("NOT_A_CODE")


def test_flag_bits_follow_codes_and_the_c_header():
    assert list(FLAGS) == list(CODES)
    assert [FLAGS[c] for c in CODES] == [1 << i for i in range(len(CODES))]
    sweeps = _backend.available("sweep")
    if "c" in sweeps:
        assert sweeps["c"].FLAGS == FLAGS and sweeps["c"].ABSENT == ABSENT
        python = sweeps["python"]
        assert sweeps["c"].WHYS == {name: getattr(python, name) for name in sweeps["c"].WHYS}


def test_empty_sweep(on):
    res = sweep(steps_per_epoch=np.array([], dtype=np.int64), epochs=2, saves_per_epoch=3)
    assert len(res) == 0 and res.steps.size == 0 and res.offsets.tolist() == [0] and res.total == 0


def test_large_values_stay_exact(on):
    big = 2**62
    res = sweep(max_steps=[big, big - 1, 3 * 10**18], count=[3, 5, 7], counts_only=False)
    args = dict(max_steps=[big, big - 1, 3 * 10**18], count=[3, 5, 7])
    assert_matches_schedules(res, args, 3)
    only = sweep(max_steps=[2**63 - 1] * 3, every=1, counts_only=True)
    assert only.counts.tolist() == [2**63 - 1] * 3 and only.total == 3 * (2**63 - 1)


# ---- bad input ----------------------------------------------------------------------

BAD = [
    # (arguments, exception, fragments the message must contain)
    (dict(steps_per_epoch=[10, 0, 5], epochs=2), ValueError, ["steps_per_epoch[1]", "0"]),
    (dict(steps_per_epoch=np.array([10, -3]), epochs=2), ValueError, ["steps_per_epoch[1]", "-3"]),
    (dict(max_steps=np.array([5, 0], dtype=np.int32)), ValueError, ["max_steps[1]", "0"]),
    (dict(steps_per_epoch=10, epochs=np.array([1.0, np.nan])), ValueError, ["epochs[1]", "nan"]),
    (dict(steps_per_epoch=10, epochs=[2, 0]), ValueError, ["epochs[1]", "0"]),
    (dict(steps_per_epoch=10, epochs=np.array([2.0, -1.5])), ValueError, ["epochs[1]", "-1.5"]),
    (dict(max_steps=10, count=np.array([3.0, 2.5])), TypeError, ["count[1]", "2.5"]),
    (dict(max_steps=10, count=np.array([1.0, np.inf])), ValueError, ["count[1]", "inf"]),
    (dict(max_steps=10, count=np.array([1, 2], dtype=object)), TypeError, ["count", "object"]),
    (dict(max_steps=10, count=np.array(["1", "2"])), TypeError, ["count", "dtype"]),
    (dict(max_steps=10, count=np.array([True, False])), TypeError, ["count", "bool"]),
    (dict(max_steps=10, every=[5, True]), TypeError, ["every[1]", "True"]),
    (dict(max_steps=10, every=[5, "7"]), TypeError, ["every[1]", "'7'"]),
    (dict(max_steps=10, every=[5, 2.5]), TypeError, ["every[1]", "2.5"]),
    (dict(max_steps=10, every="2ep"), ValueError, ["every", "'2ep'", "steps_per_epoch"]),
    (dict(max_steps=10, every=["2ep", "3sp"], steps_per_epoch=4), ValueError,
     ["every[1]", "'3sp'", "samples_per_step"]),
    (dict(max_steps=10, keep_last=[1, 0]), ValueError, ["keep_last[1]", "0"]),
    (dict(num_examples=3, micro_batch_size=4, grad_accum=2, epochs=1,
          partial_accumulation="drop"), ValueError, ["num_examples=3", "grad_accum=2"]),
    (dict(num_examples=30, micro_batch_size=4, steps_per_epoch=5, epochs=1), ValueError,
     ["num_examples", "steps_per_epoch"]),
    (dict(num_examples=30, epochs=1), ValueError, ["micro_batch_size"]),
    (dict(max_steps=10, count=3.0), TypeError, ["count", "3.0"]),
    (dict(steps_per_epoch=[10, 20], epochs=2, count=[1, 2, 3]), ValueError,
     ["steps_per_epoch has 2", "count has 3"]),
    (dict(max_steps=np.ones((2, 2), dtype=int)), ValueError, ["max_steps", "(2, 2)"]),
    (dict(max_steps=10, ratio=[0.5, 1.0]), ValueError, ["ratio[1]", "1.0", "between 0 and 1"]),
    (dict(max_steps=10, ratio=[0.5, None, 1.5]), ValueError, ["ratio[2]", "1.5"]),
    (dict(max_steps=10, ratio=np.array([0.5, 0.0])), ValueError, ["ratio[1]", "0.0"]),
    (dict(max_steps=10, ratio=1.5), ValueError, ["ratio", "1.5"]),
    (dict(max_steps=10, ratio=np.array([0.5, 2])), ValueError, ["ratio[1]", "2"]),
    (dict(max_steps=[10, 10], ratio=[Fraction(1, 3), Fraction(4, 3)]), ValueError,
     ["ratio[1]", "Fraction(4, 3)"]),
    (dict(steps_per_epoch=[5, None], max_steps=100, saves_per_epoch=[1, 2]), ValueError,
     ["saves_per_epoch[1]=2", "steps_per_epoch"]),
    (dict(steps_per_epoch=[10, None], epochs=2), ValueError,
     ["run 1", "max_steps", "steps_per_epoch[1]=None"]),
    (dict(steps_per_epoch=[10, 10], epochs=[2, None]), ValueError, ["run 1", "epochs[1]=None"]),
    (dict(steps_per_epoch=[2**62, 2**62], epochs=[1, 4]), OverflowError,
     ["epochs[1]=4", f"steps_per_epoch[1]={2**62}", "int64"]),
    (dict(steps_per_epoch=[1, 2**62], epochs=2.5), OverflowError,
     ["run 1", "epochs=2.5", "steps_per_epoch[1]"]),
    (dict(max_steps=10, count=[1, 4], checkpoint_bytes=2**62), OverflowError,
     ["run 1", f"checkpoint_bytes={2**62}"]),
    (dict(max_steps=[2**62] * 3, every=1), OverflowError, ["total", "run 1", "counts_only"]),
    (dict(max_steps=[5, 2**70]), OverflowError, ["max_steps[1]", str(2**70)]),
    (dict(max_steps=np.array([5, 2**63], dtype=np.uint64)), OverflowError,
     ["max_steps[1]", str(2**63)]),
    (dict(max_steps=np.array([5.0, 1e19])), OverflowError, ["max_steps[1]", "1e+19"]),
    (dict(steps_per_epoch=10, epochs=[1, 1e30]), OverflowError, ["epochs[1]", "1e+30"]),
    (dict(max_steps=10, every=2, min_interval=[0, -1]), ValueError, ["min_interval[1]", "-1"]),
    (dict(max_steps=10, every=2, checkpoint_bytes=[1, None]), TypeError,
     ["checkpoint_bytes[1]", "None"]),
    (dict(max_steps=10, every=2, checkpoint_bytes=[1, 0]), ValueError, ["checkpoint_bytes[1]", "0"]),
    (dict(max_steps=[10, 20], final=[True, 1]), TypeError, ["final[1]", "1"]),
    (dict(max_steps=[10, 20], final=np.array([1, 0])), TypeError, ["final", "int"]),
    (dict(max_steps=10, min_interval=2.5), TypeError, ["min_interval", "2.5"]),
    (dict(max_steps=10, counts_only=1), TypeError, ["counts_only"]),
    (dict(max_steps={1, 2}), TypeError, ["max_steps"]),
    (dict(steps_per_epoch=10, epochs=np.array([2.0], dtype=np.longdouble)), TypeError,
     ["epochs", "float16/32/64"]),
]


@pytest.mark.parametrize("args, exc, fragments", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_names_argument_row_and_value(on, args, exc, fragments):
    with pytest.raises(exc) as info:
        sweep(**args)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# ---- the kernels, compared directly (bad rows included) -------------------------------

INT_COLUMNS = ("steps_per_epoch", "max_steps", "saves_per_epoch", "every", "count",
               "min_interval", "checkpoint_bytes")


@st.composite
def raw_columns(draw):
    """Kernel columns, valid or not: small values, zeros, negatives, ABSENT, broadcasts."""
    n = draw(st.integers(0, 6))
    value = st.one_of(st.integers(-2, 40), st.just(ABSENT), st.integers(2**61, 2**63 - 1))
    columns = {}
    for name in INT_COLUMNS + ("epochs_num", "ratio_num"):
        kind = draw(st.sampled_from(["none", "scalar", "rows"]))
        if kind == "none":
            continue
        size = 1 if kind == "scalar" else n
        columns[name] = np.array(draw(st.lists(value, min_size=size, max_size=size)), np.int64)
    for name in ("epochs_den", "ratio_den"):
        if draw(st.booleans()):
            columns[name] = np.array([draw(st.integers(-1, 50))], dtype=np.int64)
    for name in ("epochs_float", "ratio_float"):
        if draw(st.booleans()):
            columns[name] = np.array([draw(st.floats(0.01, 4))], dtype=np.float64)
    if draw(st.booleans()):
        columns["final"] = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)),
                                    dtype=np.uint8)
    return n, columns


def _kernel_outcome(module, n, columns, counts_only, complete=frozenset()):
    try:
        return ("ok",) + tuple(None if a is None else a.tolist()
                               for a in module.sweep(n, columns, counts_only, complete=complete))
    except RowError as exc:
        return ("error", exc.status, exc.row, exc.arg, exc.why)


@given(case=raw_columns(), counts_only=st.booleans(), data=st.data())
def test_c_kernels_equal_the_reference_on_raw_columns(backends, monkeypatch, case, counts_only,
                                                      data):
    n, columns = case
    # columns the caller did not check (ABSENT in them is a bad value, not absence)
    complete = data.draw(st.sets(st.sampled_from([c for c in COMPLETE_COLUMNS if c in columns])
                                 if any(c in columns for c in COMPLETE_COLUMNS) else st.nothing()))
    sweeps = _backend.available("sweep")
    # a small walk limit: runs with several rules or min_interval over huge T are refused
    # at once by both, and walked ones stay short
    monkeypatch.setattr(ckptsched.schedule, "MAX_MATERIALIZED", 300)
    if not counts_only:  # the steps of huge runs would not fit in memory
        for name in ("max_steps", "count", "steps_per_epoch", "epochs_num"):
            if name in columns:
                columns[name] = np.where(columns[name] > 2**40, 7, columns[name])
    expected = _kernel_outcome(sweeps["python"], n, columns, counts_only, complete)
    got = _kernel_outcome(sweeps["c"], n, columns, counts_only, complete)
    assert got == expected


@pytest.mark.parametrize("name", COMPLETE_COLUMNS)
@pytest.mark.parametrize("counts_only", [False, True])
def test_complete_columns_refuse_absent(backends, name, counts_only):
    """ABSENT in a column given as complete is that row's bad value; elsewhere it is
    "not given" (a run with max_steps needs no steps_per_epoch)."""
    n = 130  # whole blocks and a row after them
    columns = {"steps_per_epoch": np.full(n, 50, np.int64), "epochs_num": np.array([2]),
               "saves_per_epoch": np.full(n, 4, np.int64), "max_steps": np.full(n, ABSENT)}
    columns["max_steps"][97] = 80  # a run that needs neither: ABSENT in both is fine
    columns["steps_per_epoch"][97] = columns["saves_per_epoch"][97] = ABSENT
    for module in _backend.available("sweep").values():
        ok = _kernel_outcome(module, n, columns, counts_only)
        assert ok[0] == "ok", module.NAME
        refused = _kernel_outcome(module, n, columns, counts_only, frozenset([name]))
        assert refused[0] == "error" and refused[2:] == (97, ARGS.index(name), WHY_VALUE)
        with pytest.raises(ValueError, match="complete="):
            module.sweep(n, columns, counts_only, complete={"max_steps"})


@pytest.mark.parametrize("bad", [0, -3, ABSENT])
@pytest.mark.parametrize("name", COMPLETE_COLUMNS)
def test_int64_arrays_left_to_the_kernel_are_checked_as_ever(backend, name, bad):
    """An int64 array of steps_per_epoch / saves_per_epoch goes to the kernels unread; a bad
    value in it gets the error a list of the same values gets (which the facade reads)."""
    values = {"steps_per_epoch": np.full(300, 40, np.int64), "saves_per_epoch": np.full(300, 3)}
    values[name][211] = bad
    with pytest.raises(ValueError) as from_array:
        sweep(values["steps_per_epoch"], 2, saves_per_epoch=values["saves_per_epoch"])
    as_list = dict(values, **{name: values[name].tolist()})
    with pytest.raises(ValueError) as from_list:
        sweep(as_list["steps_per_epoch"], 2, saves_per_epoch=as_list["saves_per_epoch"])
    assert str(from_array.value) == str(from_list.value)
    assert f"{name}[211]" in str(from_array.value) and str(bad) in str(from_array.value)


@given(kind=st.sampled_from([1, 2]), a=st.integers(1, 500), b=st.integers(1, 500),
       stop=st.integers(0, 3000))
def test_rule_fill_equals_rule_nth(backends, kind, a, b, stop):
    from ckptsched import _schedule_py
    rule = (kind, a, b, stop)
    n = _schedule_py.rule_count(rule, stop)
    expected = [_schedule_py.rule_nth(rule, i) for i in range(1, n + 1)]
    assert _backend.available("sweep")["c"].rule_fill(rule, n).tolist() == expected


def test_rule_fill_long_periods(backends):
    from ckptsched import _schedule_py
    fill = _backend.available("sweep")["c"].rule_fill
    for rule in [(2, 10**6, 3, 10**7), (2, 7, 1, 10**5), (2, 2**61, 3, 2**62), (1, 5, 2**60, 2**62),
                 (2, 999_983, 1000, 10**7)]:
        n = _schedule_py.rule_count(rule, rule[3])
        got = fill(rule, n)
        idx = np.unique(np.linspace(1, n, 200).astype(np.int64))
        assert [int(got[i - 1]) for i in idx] == [_schedule_py.rule_nth(rule, int(i)) for i in idx]
        assert np.all(np.diff(got) > 0)


# ---- fixed bugs and limits --------------------------------------------------------------

@pytest.mark.parametrize("args", [
    # two rules and no step at all: the fill pass gets an empty buffer (once an internal error)
    dict(steps_per_epoch=[2], max_steps=[1], saves_per_epoch=[1], every=[2], final=[False]),
    dict(steps_per_epoch=10, max_steps=1, saves_per_epoch=1, every=5, final=False),
    dict(steps_per_epoch=[10, 2], max_steps=[20, 1], saves_per_epoch=1, every=[5, 2],
         final=[True, False]),
])
def test_runs_without_steps_and_several_rules(on, args):
    res = sweep(**args)
    assert_matches_schedules(res, args, len(res))
    assert res.counts[-1] == 0 and "NO_SAVES" in res.codes(len(res) - 1)


def test_min_interval_reaching_int64_max(on):
    """The save after 2**62 must be at least 2**62 + (2**62 - 1) = 2**63 - 1 away: the
    kernel once formed 2**62 + 2**62 on the way (a signed overflow)."""
    for m in (2**62, 2**62 - 1, 2**62 + 1):
        args = dict(max_steps=2**63 - 1, count=2, final=False, min_interval=m)
        assert_matches_schedules(sweep(**args), args, 1)
        assert_matches_schedules(sweep(**args, counts_only=True), args, 1)


@pytest.mark.parametrize("counts_only", [True, False])
@pytest.mark.parametrize("args, row, fragments", [
    (dict(max_steps=2**40, every=1, min_interval=2), 0, ["run 0", "min_interval=2"]),
    (dict(max_steps=[10, 2**40], every=1, count=3), 1, ["run 1", "union of its rules"]),
    (dict(max_steps=[10, 2**62], every=[1, 2**20], saves_per_epoch=[None, 3],
          steps_per_epoch=7), 1, ["run 1", "union"]),
    (dict(max_steps=2**63 - 1, ratio=[0.5, 1e-9], count=3), 1, ["run 1"]),
])
def test_runs_too_long_to_walk_are_refused_at_once(on, counts_only, args, row, fragments):
    """Counting several rules, or thinning with min_interval, walks the run: a run that
    would walk more than a Schedule does is refused with the advice, never walked."""
    with pytest.raises(ValueError) as info:
        sweep(**args, counts_only=counts_only)
    message = str(info.value)
    for fragment in fragments + [str(ckptsched.schedule.MAX_MATERIALIZED), "should_save"]:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("counts_only", [True, False])
def test_walk_limit_is_the_schedules(on, monkeypatch, counts_only):
    """Exactly the runs a Schedule refuses to walk are refused (the limit is Schedule's)."""
    monkeypatch.setattr(ckptsched.schedule, "MAX_MATERIALIZED", 100)
    ok = dict(max_steps=[100, 100], every=1, count=3, min_interval=[0, 2])
    assert_matches_schedules(sweep(**ok, counts_only=counts_only), ok, 2)
    with pytest.raises(ValueError, match="run 1.*min_interval=2"):
        sweep(max_steps=[100, 101], every=1, min_interval=2, counts_only=counts_only)
    with pytest.raises(ValueError):  # what Schedule does with that run
        Schedule(Run(max_steps=101), every=1, min_interval=2)
    with pytest.raises(ValueError, match="run 0 .*union of its rules"):
        sweep(max_steps=101, every=1, count=3, counts_only=counts_only)
    with pytest.raises(ValueError):
        len(Schedule(Run(max_steps=101), every=1, count=3))
    one_rule = sweep(max_steps=10**6, every=1, counts_only=counts_only)  # never walked
    assert one_rule.counts.tolist() == [10**6]


def test_steps_that_cannot_fit_in_memory_are_refused_before_allocating(on):
    with pytest.raises(ValueError) as info:
        sweep(max_steps=[2**62, 5], every=1)
    message = str(info.value)
    for fragment in [str(2**62 + 5), str(8 * (2**62 + 5)), "counts_only=True"]:
        assert fragment in message, (fragment, message)
    assert sweep(max_steps=[2**62, 5], every=1, counts_only=True).total == 2**62 + 5


def test_huge_epoch_counts_are_answered_in_closed_form(on):
    """Axolotl's comparison (HF_MISMATCH) never walks the epoch ends."""
    args = dict(steps_per_epoch=[1, 3, 217], epochs=10**12, saves_per_epoch=2)
    res = sweep(**args, counts_only=True)
    assert_matches_schedules(res, args, 3)
    assert res.counts.tolist() == [10**12, 2 * 10**12, 2 * 10**12]  # S=1: one save per step
    assert res.codes(1) == ("HF_MISMATCH",)  # save_steps 5e-13 -> every 2 steps


EXACT_INTEGERS = [2**60 + 1, 2**63 - 1, 2**53 + 1, 3]


@pytest.mark.parametrize("make", [
    lambda v: np.array(v, dtype=np.longdouble),
    lambda v: [np.longdouble(x) for x in v],
    lambda v: np.array(v, dtype=np.uint64),
    lambda v: np.ma.masked_array(np.array(v, dtype=np.longdouble), mask=[False] * len(v)),
], ids=["longdouble array", "longdouble items", "uint64", "masked longdouble"])
def test_integer_arguments_are_never_rounded(on, make):
    if np.finfo(np.longdouble).nmant < 63 and "longdouble" in repr(make(EXACT_INTEGERS[-1:])):
        pytest.skip("this platform's longdouble is a double: 2**60 + 1 is not one")
    res = sweep(max_steps=make(EXACT_INTEGERS), every=2**52, count=None, counts_only=True)
    expected = [len(Schedule(Run(max_steps=T), every=2**52)) for T in EXACT_INTEGERS]
    assert res.counts.tolist() == expected
    res = sweep(max_steps=10**19 // 2, count=make(EXACT_INTEGERS[:1]), counts_only=True)
    assert res.counts.tolist() == [2**60 + 1]


def test_a_masked_value_past_int64_is_left_out(on):
    count = np.ma.masked_array(np.array([4, 2**64 - 1], dtype=np.uint64), mask=[False, True])
    res = sweep(max_steps=[20, 30], count=count)
    assert_matches_schedules(res, dict(max_steps=[20, 30], count=[4, None]), 2)


@pytest.mark.parametrize("value, exc, fragments", [
    (np.array([5, 2.5], dtype=np.longdouble), TypeError, ["max_steps[1]", "2.5"]),
    (np.array([5, 2.0**63], dtype=np.longdouble), OverflowError, ["max_steps[1]", "int64"]),
    (np.array([5, np.inf], dtype=np.longdouble), ValueError, ["max_steps[1]", "inf"]),
    ([5, np.longdouble(0.5)], TypeError, ["max_steps[1]", "0.5"]),
    ([5, np.longdouble(2.0**64)], OverflowError, ["max_steps[1]", "int64"]),
    (np.array([5, 2], dtype=np.complex128), TypeError, ["max_steps", "complex128"]),
    (np.array([5, 2], dtype="datetime64[s]"), TypeError, ["max_steps", "datetime64"]),
    (np.array([5, 2], dtype="timedelta64[s]"), TypeError, ["max_steps", "timedelta64"]),
    (np.array([5, 2**70], dtype=object), TypeError, ["max_steps", "object"]),
    (np.array([5, 2**64 - 1], dtype=np.uint64), OverflowError, ["max_steps[1]", str(2**64 - 1)]),
    (np.array([True, False]), TypeError, ["max_steps", "bool"]),
    (np.array([5.0, 0.0], dtype=np.float16), ValueError, ["max_steps[1]", "0.0"]),
    (np.float32(5.0), TypeError, ["max_steps", "5.0"]),
    (5 + 0j, TypeError, ["max_steps"]),
])
def test_every_dtype_path_is_exact_or_refused(on, value, exc, fragments):
    with pytest.raises(exc) as info:
        sweep(max_steps=value, every=3)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@pytest.mark.parametrize("value, exc, fragments", [
    (np.array([2, 3], dtype=np.longdouble), TypeError, ["epochs", "longdouble", "float16/32/64"]),
    (np.longdouble(2), TypeError, ["epochs", "longdouble"]),
    ([2, np.longdouble(1.5)], TypeError, ["epochs[1]", "longdouble"]),
    (np.array([2, 3], dtype=np.complex64), TypeError, ["epochs", "complex64"]),
    (np.array([1, 2], dtype="datetime64[D]"), TypeError, ["epochs", "datetime64"]),
    (np.array([2, 1.5], dtype=object), TypeError, ["epochs", "object"]),
    (np.array([True, True]), TypeError, ["epochs", "bool"]),
    (np.array([2, 2**64 - 1], dtype=np.uint64), OverflowError, ["epochs[1]", str(2**64 - 1)]),
])
def test_every_rational_dtype_path_is_exact_or_refused(on, value, exc, fragments):
    with pytest.raises(exc) as info:
        sweep(steps_per_epoch=10, epochs=value, saves_per_epoch=2)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


BAD_ROWS = [dict(every=0), dict(count=-3), dict(max_steps=None, epochs=None),
            dict(saves_per_epoch=2, steps_per_epoch=None, max_steps=50), dict(min_interval=-1),
            dict(ratio=Fraction(3, 2)), dict(steps_per_epoch=2**62, epochs=4, max_steps=None)]


@given(rows=st.lists(runs(), min_size=1, max_size=8), bad=st.sampled_from(BAD_ROWS),
       where=st.integers(0, 8), counts_only=st.booleans())
def test_a_bad_row_stops_both_backends_alike(backends, rows, bad, where, counts_only):
    """Random sweeps with one bad run: the same exception and message on both backends
    (the kernels' row errors are compared directly above); without it, the same result."""
    rows = [dict(r) for r in rows]
    where = min(where, len(rows) - 1)
    rows[where].update(bad)
    args = columns_of(rows)
    outcomes = {}
    for name in backends:
        with _backend.use(name):
            try:
                res = sweep(**args, counts_only=counts_only)
                outcomes[name] = ("ok", res.counts.tolist(), res.flags.tolist(),
                                  None if res.steps is None else res.steps.tolist())
            except (TypeError, ValueError, OverflowError) as exc:
                outcomes[name] = (type(exc).__name__, str(exc))
    assert len(set(map(repr, outcomes.values()))) == 1, outcomes


# ---- the sweep subcommand ----------------------------------------------------------------

def _write(tmp_path, text):
    path = tmp_path / "runs.csv"
    path.write_text(text)
    return str(path)


def test_cli_sweep_csv(on, tmp_path, capsys):
    path = _write(tmp_path, "name,steps_per_epoch,epochs,saves_per_epoch,count,final,"
                            "checkpoint_bytes\n"
                            "a,217,3,8,,true,1000\n"
                            "b,31,2.5,40,,,1000\n"
                            "c,100,1,,3,false,500\n")
    assert cli_main(["sweep", path]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["a", "b", "c"]
    s0 = Schedule(Run(217, 3), saves_per_epoch=8)
    s1 = Schedule(Run(31, 2.5), saves_per_epoch=40)
    s2 = Schedule(Run(100, 1), count=3, final=False)
    assert [int(r["count"]) for r in rows] == [len(s0.steps), len(s1.steps), len(s2.steps)]
    assert [int(r["bytes_written"]) for r in rows] == [1000 * len(s0.steps),
                                                       1000 * len(s1.steps), 500 * len(s2.steps)]
    assert [int(r["peak_bytes"]) for r in rows] == [int(r["bytes_written"]) for r in rows]
    assert rows[1]["flags"].split("|") == [d.code for d in s1.diagnostics]
    assert rows[1]["messages"] == " | ".join(d.message for d in s1.diagnostics)
    assert rows[2]["messages"] == " | ".join(d.message for d in s2.diagnostics)
    assert "runs: 3" in err and "total checkpoints" in err and "FEWER_THAN_REQUESTED: 1" in err


def test_cli_sweep_json_and_fail_on(on, tmp_path, capsys):
    path = _write(tmp_path, "max_steps,every,final\n10,20,false\n100,10,true\n")
    assert cli_main(["sweep", path, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["runs"] == 2 and doc["summary"]["total_checkpoints"] == 10
    assert doc["summary"]["runs_per_code"]["NO_SAVES"] == 1
    assert [c for c in doc["runs"][0]["flags"] if c != "HF_MISMATCH"] == ["NO_SAVES", "OUT_OF_RANGE"]
    assert doc["runs"][1]["count"] == 10
    assert cli_main(["sweep", path, "--fail-on", "NO_SAVES"]) == 1
    assert cli_main(["sweep", path, "--fail-on", "LONG_GAP"]) == 0


@pytest.mark.parametrize("text, fragments", [
    ("max_steps,colour\n10,red\n", ["colour"]),
    ("max_steps,every\n10,abc\n", ["every", "line 2", "abc"]),
    ("max_steps,every\n10,0\n", ["every[0]", "0"]),
    ("max_steps,every,final\n10,2,maybe\n", ["final", "line 2", "maybe"]),
    ("", ["empty"]),
])
def test_cli_sweep_bad_csv_exits_2(on, tmp_path, capsys, text, fragments):
    assert cli_main(["sweep", _write(tmp_path, text)]) == 2
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_cli_sweep_bad_flag_exits_2(on, tmp_path, capsys):
    path = _write(tmp_path, "max_steps,every\n10,2\n")
    assert cli_main(["sweep", path, "--fail-on", "NOPE"]) == 2
    assert "--fail-on" in capsys.readouterr().err


# ---- issue 8: keep_last, peak disk, dataset geometry, every in units ---------------------

@st.composite
def disk_runs(draw):
    """A run with keep_last and checkpoint_bytes, and, half the time, dataset geometry and
    every= in epochs or samples."""
    row = dict(draw(runs()))
    row["keep_last"] = draw(st.none() | st.integers(1, 6))
    row["checkpoint_bytes"] = draw(st.integers(1, 10**12))
    if draw(st.booleans()) and row.get("steps_per_epoch") is not None:
        del row["steps_per_epoch"]
        row.pop("max_steps", None)
        row.update(num_examples=draw(st.integers(1, 3000)),
                   micro_batch_size=draw(st.integers(1, 16)),
                   grad_accum=draw(st.integers(1, 4)), world_size=draw(st.integers(1, 3)),
                   drop_last=draw(st.booleans()),
                   partial_accumulation=draw(st.sampled_from(["step", "drop"])))
        row["epochs"] = row.get("epochs") or 2
        if draw(st.booleans()):
            row.pop("every", None)
            row["every"] = draw(st.sampled_from(["1ep", "1/3ep", "0.5ep", "2ep", "100sp",
                                                  "1000sp", "1sp"]))
    return row


def _run_of(row):
    geometry = {k: row[k] for k in ("num_examples", "micro_batch_size", "grad_accum",
                                    "world_size", "drop_last", "partial_accumulation")
                if k in row}
    if geometry:
        n, b = geometry.pop("num_examples"), geometry.pop("micro_batch_size")
        return Run.from_dataset(n, b, geometry.pop("grad_accum"), geometry.pop("world_size"),
                                epochs=row.get("epochs"), max_steps=row.get("max_steps"),
                                **geometry)
    return Run(row.get("steps_per_epoch"), row.get("epochs"), max_steps=row.get("max_steps"))


RULES = ("saves_per_epoch", "every", "count", "ratio", "final", "min_interval")


@given(rows=st.lists(disk_runs(), min_size=1, max_size=12))
def test_disk_and_geometry_equal_per_run_plans(on, rows):
    """Run i's peak, peak_bytes and survivors are its Plan's; its steps and codes are its
    Schedule's, with steps_per_epoch from Run.from_dataset and every= in units."""
    from ckptsched.plan import Plan
    from ckptsched.retention import Retention
    ok = []
    for row in rows:
        try:
            run = _run_of(row)
            sched = Schedule(run, **{k: row[k] for k in RULES if row.get(k) is not None})
            len(sched.steps)
        except (ValueError, OverflowError):
            continue
        ok.append((row, run, sched))
    if not ok:
        return
    keys = sorted({k for row, _, _ in ok for k in row})
    args = {k: [row.get(k) for row, _, _ in ok] for k in keys}
    for flag in ("drop_last", "final"):
        if flag in args:
            args[flag] = [bool(v) if v is not None else (flag == "final") for v in args[flag]]
    if "partial_accumulation" in args:
        args["partial_accumulation"] = [v or "step" for v in args["partial_accumulation"]]
    if "every" in args and any(isinstance(v, str) for v in args["every"]) and \
            not all(isinstance(v, str) or v is None for v in args["every"]):
        return  # a column is all units or all steps
    res = sweep(**args)
    for i, (row, run, sched) in enumerate(ok):
        plan = Plan(run, save=sched, keep=Retention(keep_last=row["keep_last"]),
                    checkpoint_bytes=row["checkpoint_bytes"])
        assert list(res[i]) == list(sched.steps), (i, row)
        assert int(res.flags[i]) == flags_of(sched)
        assert int(res.peak[i]) == plan.peak.count, (i, row)
        assert int(res.peak_bytes[i]) == plan.peak.bytes, (i, row)
        assert int(res.survivors[i]) == len(plan.survivors), (i, row)


def test_keep_last_peak_is_a_save_in_flight_more(on):
    res = sweep(max_steps=1000, every=[10, 250, 1000], keep_last=2, checkpoint_bytes=7)
    assert list(res.counts) == [100, 4, 1]
    assert list(res.peak) == [3, 3, 1]
    assert list(res.survivors) == [2, 2, 1]
    assert list(res.peak_bytes) == [21, 21, 7]
    assert list(res.bytes) == [700, 28, 7]  # bytes written, not on disk
    summary = res.summary()
    assert summary["max_peak"] == 3 and summary["max_peak_bytes"] == 21
    assert summary["total_survivors"] == 5
    for array in (res.peak, res.peak_bytes, res.survivors):
        assert not array.flags.writeable
    keep_all = sweep(max_steps=1000, every=[10, 250])
    assert list(keep_all.peak) == [100, 4] and keep_all.peak_bytes is None


def test_geometry_and_unit_every_equal_their_schedules(on):
    res = sweep(num_examples=[1000, 5000, 77], micro_batch_size=4, grad_accum=[2, 3, 1],
                world_size=[1, 2, 3], drop_last=[False, True, False],
                partial_accumulation=["step", "drop", "step"], epochs=2,
                every=["0.5ep", "1000sp", "1/3ep"])
    for i, (n, g, w, drop, mode, every) in enumerate(
            [(1000, 2, 1, False, "step", "0.5ep"), (5000, 3, 2, True, "drop", "1000sp"),
             (77, 1, 3, False, "step", "1/3ep")]):
        run = Run.from_dataset(n, 4, g, w, epochs=2, drop_last=drop, partial_accumulation=mode)
        sched = Schedule(run, every=every)
        assert list(res[i]) == list(sched.steps)
        assert int(res.flags[i]) == flags_of(sched)


def test_unit_strings_may_mix_with_steps_strings(on):
    res = sweep(steps_per_epoch=40, epochs=3, every=["1ep", "30", "45st", None])
    run = Run(40, 3)
    for i, every in enumerate(["1ep", 30, 45]):
        sched = Schedule(run, every=every)
        assert list(res[i]) == list(sched.steps)
        assert int(res.flags[i]) == flags_of(sched)
    assert list(res[3]) == [120]


def test_tokens_per_step_every(on):
    res = sweep(max_steps=500, tokens_per_step=[4096, 1000], every="1e6tok")
    for i, tps in enumerate([4096, 1000]):
        assert list(res[i]) == list(Schedule(Run(max_steps=500, tokens_per_step=tps),
                                             every="1e6tok").steps)


def test_messages_are_those_of_each_runs_schedule(on):
    res = sweep(steps_per_epoch=[100, 217], epochs=3, every=[50, 64], keep_last=2,
                counts_only=True)
    assert res.messages(0) == ()
    sched = Schedule(Run(217, 3), every=64)
    assert res.messages(1) == tuple(d.message for d in sched.diagnostics)
    assert res.messages(-1) and res.codes(1) == ("UNEVEN_TAIL",)
    assert list(res.schedule(1).steps) == list(sched.steps)
    with pytest.raises(IndexError, match="run 2"):
        res.schedule(2)


def test_cli_sweep_new_columns(on, tmp_path, capsys):
    """keep_last, dataset geometry and every in units as CSV columns; the peak disk of each
    run and the messages of its Schedule in the output."""
    from ckptsched.plan import Plan
    from ckptsched.retention import Retention
    path = _write(tmp_path, "name,num_examples,micro_batch_size,grad_accum,world_size,"
                            "drop_last,partial_accumulation,epochs,every,keep_last,"
                            "checkpoint_bytes\n"
                            "a,1000,4,2,1,false,step,2,0.5ep,2,1000\n"
                            "b,5000,4,3,2,true,drop,3,64,,1000\n"
                            "c,77,4,,,,,2,1/3ep,1,1000\n")
    assert cli_main(["sweep", path, "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    cases = [(Run.from_dataset(1000, 4, 2, 1, epochs=2), "0.5ep", 2),
             (Run.from_dataset(5000, 4, 3, 2, epochs=3, drop_last=True,
                               partial_accumulation="drop"), 64, None),
             (Run.from_dataset(77, 4, epochs=2), "1/3ep", 1)]
    for row, (run, every, keep) in zip(doc["runs"], cases):
        sched = Schedule(run, every=every)
        plan = Plan(run, save=sched, keep=Retention(keep_last=keep), checkpoint_bytes=1000)
        assert row["count"] == len(sched.steps)
        assert row["peak"] == plan.peak.count and row["peak_bytes"] == plan.peak.bytes
        assert row["survivors"] == len(plan.survivors)
        assert row["bytes_written"] == 1000 * len(sched.steps)
        assert row["messages"] == [d.message for d in sched.diagnostics]
    assert any(row["messages"] for row in doc["runs"])
    assert doc["summary"]["max_peak_bytes"] == max(r["peak_bytes"] for r in doc["runs"])
    assert "largest peak disk of one run" in err and "bytes written" in err


def test_unit_spacing_past_int64_is_refused_as_schedule_refuses_it(on):
    every = f"{2**63 - 1}/{2**63 - 3}ep"  # 3 epochs of 3 steps, in terms past int64
    with pytest.raises(OverflowError):
        Schedule(Run(3, max_steps=10), every=every)
    with pytest.raises(OverflowError, match=r"run 0: every="):
        sweep(steps_per_epoch=3, max_steps=10, every=every)
    # beyond the run, the same spacing only says so (OUT_OF_RANGE), as Schedule does
    res = sweep(steps_per_epoch=3, max_steps=2, every=every)
    assert int(res.flags[0]) == flags_of(Schedule(Run(3, max_steps=2), every=every))


def test_kernel_constants_match_the_twin():
    from ckptsched import _sweep_py
    _sweep_c = pytest.importorskip("ckptsched._sweep_c")
    assert _sweep_c.OVERFLOW == _sweep_py.OVERFLOW


@pytest.mark.parametrize("backend_name", ["python", "c"])
def test_sweep_flags_same_count_hf_mismatch(backend_name):
    """225 steps, 4 saves per epoch: exact 57, 113, 169, 225 vs transformers' 57, 114, 171, 225.
    Schedule reports HF_MISMATCH; the sweep's flag must say the same on every backend."""
    assert "HF_MISMATCH" in [d.code for d in Schedule(Run(225, 1), saves_per_epoch=4).diagnostics]
    with _backend.use(backend_name):
        res = ckptsched.sweep(steps_per_epoch=[225], epochs=1, saves_per_epoch=[4])
    assert "HF_MISMATCH" in res.codes(0)

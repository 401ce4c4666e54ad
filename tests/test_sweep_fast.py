"""The C sweep kernels' fast paths (src_c/ckpt_sweep.c) against their general path and the
pure-Python twin.

Runs of one saves_per_epoch rule are counted, flagged and filled in closed form, and blocks
of runs of whole epochs without checking each run on its own.  `general_only=True` sends
every run of the C kernels down the general path: both must give the same arrays, the same
errors (row, argument, reason) and the same diagnostics as the per-run Schedule, for sweeps
long enough to have whole blocks, bad runs among them.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

import ckptsched
from ckptsched import Run, Schedule, _backend, sweep
from ckptsched._sweep_py import ABSENT, FLAGS, RowError

pytestmark = pytest.mark.usefixtures("quiet_schedules")


def _c_sweep():
    return pytest.importorskip("ckptsched._sweep_c").sweep


def _outcome(fn):
    try:
        return ("ok",) + tuple(None if a is None else a.tolist() for a in fn())
    except RowError as exc:
        return ("error", exc.status, exc.row, exc.arg, exc.why)


def _column(draw, n, values, per_row):
    if per_row:
        return np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.int64)
    return np.array([draw(values)], dtype=np.int64)


@st.composite
def whole_epoch_columns(draw):
    """Kernel columns of a sweep of whole epochs and one saves_per_epoch rule (the fast
    paths' shapes), long enough for whole blocks; a few values bad or huge."""
    n = draw(st.sampled_from([1, 5, 63, 64, 65, 130, 200, 300]))  # 256+: fast_cols.recip
    odd = st.one_of(st.integers(-2, 0), st.just(ABSENT), st.integers(2**40, 2**62))
    bad = draw(st.booleans())

    def values(lo, hi):
        good = st.integers(lo, hi)
        return st.one_of(good, good, good, good, good, good, good, good, odd) if bad else good

    columns = {
        "steps_per_epoch": _column(draw, n, values(1, 5000), draw(st.booleans()) or n == 1),
        "saves_per_epoch": _column(draw, n, values(1, 80), draw(st.booleans())),
        "epochs_num": _column(draw, n, values(1, 4), draw(st.booleans())),
        "min_interval": np.array([draw(st.sampled_from([0, 1, 2]))], dtype=np.int64),
    }
    if draw(st.booleans()):
        columns["epochs_den"] = np.array([draw(st.sampled_from([1, 1, 1, 3]))], dtype=np.int64)
    floats = draw(st.sampled_from(["none", "exact", "near", "per_row"]))
    if floats != "none":
        num = columns["epochs_num"].astype(np.float64)
        if floats == "near":
            num = num * (1 + 1e-15)
        elif floats == "per_row":
            num = np.array(draw(st.lists(st.floats(0.05, 6), min_size=len(num),
                                         max_size=len(num))), dtype=np.float64)
        columns["epochs_float"] = num
    if draw(st.booleans()):
        columns["final"] = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
                                    dtype=np.uint8)
    if draw(st.booleans()):
        columns["checkpoint_bytes"] = np.array([draw(st.sampled_from([1, 10**9, 2**62]))],
                                               dtype=np.int64)
    if draw(st.booleans()):
        columns["keep_last"] = np.array([draw(st.sampled_from([1, 3, ABSENT]))], dtype=np.int64)
    if draw(st.integers(0, 4)) == 0:
        columns["max_steps"] = _column(draw, n, st.one_of(st.just(ABSENT), st.integers(1, 400)),
                                       True)
    return n, columns


@given(case=whole_epoch_columns(), counts_only=st.booleans())
def test_fast_paths_equal_the_general_path(backends, case, counts_only):
    c_sweep = _c_sweep()
    n, columns = case
    if not counts_only:  # huge runs: their steps would not fit in memory
        for name in ("steps_per_epoch", "epochs_num"):
            columns[name] = np.where(columns[name] > 2**20, 7, columns[name])
    fast = _outcome(lambda: c_sweep(n, columns, counts_only))
    general = _outcome(lambda: c_sweep(n, columns, counts_only, general_only=True))
    assert fast == general


@given(case=whole_epoch_columns(), counts_only=st.booleans())
def test_fast_paths_equal_the_python_twin(backends, monkeypatch, case, counts_only):
    """The oracle: the pure-Python sweep, a Schedule per run."""
    c_sweep = _c_sweep()
    n, columns = case
    monkeypatch.setattr(ckptsched.schedule, "MAX_MATERIALIZED", 3000)
    for name in ("steps_per_epoch", "epochs_num"):  # the twin walks runs one by one
        columns[name] = np.where(columns[name] > 2**20, 7, columns[name])
    expected = _outcome(lambda: _backend.available("sweep")["python"].sweep(n, columns,
                                                                           counts_only))
    assert _outcome(lambda: c_sweep(n, columns, counts_only)) == expected


@pytest.mark.parametrize("saves", [2, 3, 7, 8, 13, 64, 300])
@pytest.mark.parametrize("per_row", [False, True])
@pytest.mark.parametrize("epochs", [1, 2, 3])
@pytest.mark.parametrize("floats", ["exact", "near", "nan"])
def test_regular_blocks_equal_the_general_path(saves, per_row, epochs, floats):
    """The regular blocks' vectorized loops, as built here (C tests run them unoptimized):
    runs of one epochs whose steps_per_epoch run through saves_per_epoch .. + 299, so that
    every remainder mod saves_per_epoch and both answers of HF_MISMATCH occur; one run
    below its saves_per_epoch in the third block.  A NaN epochs in double (the kernels take
    any) checks nothing."""
    c_sweep = _c_sweep()
    n = 300
    k = (np.arange(n) % 5 + saves) if per_row else np.array([saves])
    S = (k if per_row else np.full(n, saves)) + np.arange(n)
    S[150] = 1
    epochs_float = {"exact": float(epochs), "near": epochs * (1 + 1e-15), "nan": np.nan}[floats]
    columns = {"steps_per_epoch": S.astype(np.int64), "saves_per_epoch": k.astype(np.int64),
               "epochs_num": np.array([epochs], dtype=np.int64),
               "epochs_den": np.array([1], dtype=np.int64),
               "epochs_float": np.array([epochs_float]),
               "min_interval": np.array([0], dtype=np.int64)}
    fast = _outcome(lambda: c_sweep(n, columns, False))
    assert fast == _outcome(lambda: c_sweep(n, columns, False, general_only=True))
    mismatch = np.array(fast[4]) & FLAGS["HF_MISMATCH"] != 0
    if floats == "nan" or (saves, epochs, per_row) == (2, 1, False):
        # two saves over one epoch: transformers' ceil(S/2) is always the rule's interval
        assert not mismatch.any()
    else:
        assert mismatch.any() and not mismatch.all()


@pytest.mark.parametrize("saves, epochs", [(1, 2), (2, 1), (4, 2), (8, 1), (8, 2), (3, 3),
                                           (7, 2), (64, 1), (100, 2)])
def test_uniform_sweeps_equal_the_exact_formula(on_c, saves, epochs):
    """Every run the same saves_per_epoch and epochs, ragged steps_per_epoch (some below
    saves_per_epoch: every step): run i's j-th save is ceil(j * S_i / k), exactly."""
    rng = np.random.default_rng(saves * 100 + epochs)
    S = rng.integers(1, 5000, 300)
    S[:5] = [1, 2, saves, saves + 1, 4999]
    res = sweep(steps_per_epoch=S, epochs=epochs, saves_per_epoch=saves,
                checkpoint_bytes=10**9, keep_last=2)
    for i, s in enumerate(S.tolist()):
        k = min(saves, s)
        expected = [-(-j * s // k) for j in range(1, k * epochs + 1)]
        assert res[i].tolist() == expected, (i, s)
        sched = Schedule(Run(s, epochs), saves_per_epoch=saves)
        assert res.flags[i] == sum(FLAGS[c] for c in {d.code for d in sched.diagnostics}), i
    assert res.peak.tolist() == np.minimum(res.counts, 3).tolist()
    assert res.survivors.tolist() == np.minimum(res.counts, 2).tolist()
    assert res.peak_bytes.tolist() == (res.peak * 10**9).tolist()


def test_without_keep_last_the_disk_is_the_counts(backend):
    res = sweep(steps_per_epoch=[10, 7, 3], epochs=2, saves_per_epoch=4, checkpoint_bytes=5)
    assert res.peak.tolist() == res.counts.tolist() == res.survivors.tolist()
    assert res.peak_bytes.tolist() == res.bytes.tolist() == (res.counts * 5).tolist()
    for array in (res.peak, res.survivors, res.peak_bytes):
        assert not array.flags.writeable


@pytest.fixture
def on_c(backend):
    """Tests of the C kernels' paths: on the python backend they check the twin alike."""
    return backend


@pytest.mark.parametrize("bad, fragment", [
    (dict(steps_per_epoch=[10] * 70 + [0] + [10] * 9), "steps_per_epoch[70]"),
    (dict(saves_per_epoch=[2] * 65 + [-1] * 15), "saves_per_epoch[65]"),
    (dict(epochs=[1] * 64 + [2**62] * 16, steps_per_epoch=[10] * 64 + [7] * 16), "run 64"),
])
def test_a_bad_run_inside_a_block_names_itself(backend, bad, fragment):
    args = dict(steps_per_epoch=[10] * 80, epochs=2, saves_per_epoch=2)
    args.update(bad)
    with pytest.raises((ValueError, OverflowError)) as info:
        sweep(**args)
    assert fragment in str(info.value)


def test_fractional_epochs_and_max_steps_take_the_row_path(backends):
    """Rows the whole-epochs blocks cannot take (fractional epochs, max_steps) still equal
    the general path and the twin."""
    args = dict(steps_per_epoch=np.arange(1, 151), epochs=[Fraction(5, 2)] * 150,
                saves_per_epoch=np.arange(150) % 9 + 1, final=[i % 3 != 0 for i in range(150)])
    results = {}
    for name in backends:
        with _backend.use(name):
            res = sweep(**args)
            results[name] = (res.counts.tolist(), res.flags.tolist(), res.steps.tolist())
    assert results["c"] == results["python"] if "c" in results else True

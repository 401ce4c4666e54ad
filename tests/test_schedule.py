"""The Run / Schedule facade on both backends against an oracle written from docs/semantics.md.

The oracle below enumerates every rule of docs/semantics.md's table with int / Fraction arithmetic
(no backend, no float products); hypothesis draws runs (integer and rational epochs,
max_steps, samples / tokens per step) and rule combinations, and every query of the
schedule (steps, len, iteration, `in`, should_save, next_after, due, last) must agree.
"""
from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, example, given, strategies as st

import ckptsched
from ckptsched import Run, Schedule

PACKAGE_ROOT = str(Path(ckptsched.__file__).resolve().parent.parent)


# --------------------------------------------------------------------------- the oracle

def units_per_step(spec, unit):
    """q: how many units one optimizer step advances (docs/semantics.md: 'every in samples / tokens /
    epochs')."""
    return {"epochs": Fraction(1, spec["S"]) if spec["S"] else None,
            "samples": spec["sps"], "tokens": spec["tps"]}[unit]


def oracle_steps(spec, rules):
    """The sorted schedule of `rules` on the run `spec`, straight from docs/semantics.md's table."""
    T, S = spec["T"], spec["S"]
    out = set()
    k = rules.get("saves_per_epoch")
    if k is not None:
        for e in range(math.ceil(Fraction(T, S))):  # including a final partial epoch
            for j in range(1, k + 1):
                s = e * S + math.ceil(Fraction(j * S, k))
                if s <= T:
                    out.add(s)
    n = rules.get("count")
    if n is not None:
        out |= {math.ceil(Fraction(i * T, n)) for i in range(1, n + 1)}
    every = rules.get("every")
    if every is not None:
        amount, unit = every_exact(every)
        until = rules.get("until")
        stop = T if until is None else min(until, T)
        if unit == "steps":
            start = rules.get("start") or amount  # start defaults to n
            out |= set(range(start, stop + 1, amount))
        else:
            q = units_per_step(spec, unit)
            i = 1
            while math.ceil(i * amount / q) <= stop:  # boundary i at i*n units
                out.add(math.ceil(i * amount / q))
                i += 1
    r = rules.get("ratio")
    if r is not None:
        interval = math.ceil(T * exact_ratio(r))
        out |= set(range(interval, T + 1, interval))
    out |= {s for s in rules.get("at") or () if 1 <= s <= T}
    if rules.get("first", False):
        out.add(1)
    if rules.get("final", True):
        out.add(T)
    steps = sorted(out)
    m = rules.get("min_interval", 0)
    if m:
        forced = T if rules.get("final", True) else None
        kept = []
        for s in steps:
            if not kept or s == forced or s - kept[-1] >= m:
                kept.append(s)
        steps = kept
    return steps


def exact_ratio(r):
    """The value a user ratio means: tests pass Fractions, or floats of short decimals
    (p/100) whose simplest rational is that decimal."""
    if isinstance(r, float):
        return Fraction(round(r * 100), 100)
    return Fraction(r)


def every_exact(every):
    """(amount, unit) of the `every` values the strategies below generate."""
    if isinstance(every, int):
        return every, "steps"
    every = every.strip()
    for suffix, unit in (("ep", "epochs"), ("sp", "samples"), ("tok", "tokens"),
                         ("steps", "steps"), ("st", "steps"), ("", "steps")):
        if every.endswith(suffix):
            amount = Fraction(every[: len(every) - len(suffix)].strip())
            return (int(amount) if unit == "steps" else amount), unit
    raise AssertionError(every)


def longest_gap(steps, T):
    points = [0] + steps + ([T] if not steps or steps[-1] < T else [])
    return max(y - x for x, y in zip(points, points[1:]))


# --------------------------------------------------------------------------- strategies

@st.composite
def runs(draw):
    """(Run kwargs, exact spec) with T <= ~250."""
    S = draw(st.one_of(st.none(), st.integers(1, 50)))
    kwargs, spec = {}, {"S": S}
    max_steps = draw(st.integers(1, 250)) if S is None else draw(
        st.one_of(st.none(), st.none(), st.integers(1, 250)))
    if S is not None:
        kwargs["steps_per_epoch"] = S
        if max_steps is None or draw(st.booleans()):
            kind = draw(st.sampled_from(["int", "fraction", "float"]))
            if kind == "int":
                epochs = exact = draw(st.integers(1, 5))
            elif kind == "fraction":
                exact = Fraction(draw(st.integers(1, 50)), draw(st.integers(1, 12)))
                assume(exact <= 5)
                epochs = exact
            else:  # a short decimal float: 2.3 means 23/10
                tenths = draw(st.integers(1, 50))
                epochs, exact = tenths / 10, Fraction(tenths, 10)
            kwargs["epochs"] = epochs
            spec["E"] = exact
    if max_steps is not None:
        kwargs["max_steps"] = max_steps
        spec["T"] = max_steps
    else:
        spec["T"] = math.ceil(spec["E"] * S)
    spec["sps"] = draw(st.one_of(st.none(), st.integers(1, 64),
                                 st.builds(Fraction, st.integers(1, 64), st.integers(1, 4))))
    spec["tps"] = draw(st.one_of(st.none(), st.integers(1, 4096)))
    if spec["sps"] is not None:
        kwargs["samples_per_step"] = spec["sps"]
    if spec["tps"] is not None:
        kwargs["tokens_per_step"] = spec["tps"]
    return kwargs, spec


@st.composite
def rule_sets(draw, spec):
    T, S = spec["T"], spec["S"]
    rules = {}
    if S is not None and draw(st.booleans()):
        rules["saves_per_epoch"] = draw(st.integers(1, 12))
    if draw(st.booleans()):
        rules["count"] = draw(st.integers(1, T + 5))
    if draw(st.booleans()):
        units = ["steps"] + ["epochs"] * (S is not None) + ["samples"] * (spec["sps"] is not None) \
            + ["tokens"] * (spec["tps"] is not None)
        unit = draw(st.sampled_from(units))
        if unit == "steps":
            n = draw(st.integers(1, T + 5))
            rules["every"] = draw(st.sampled_from([n, str(n), f"{n}steps", f" {n} st"]))
            if draw(st.booleans()):
                rules["start"] = draw(st.integers(1, T + 3))
            start = rules.get("start", n)
            if draw(st.booleans()) and start <= T + 5:
                rules["until"] = draw(st.integers(start, T + 5))
        else:
            q = units_per_step(spec, unit)
            # spacing n/q between 1/8 of a step and a bit past the run
            spacing = Fraction(draw(st.integers(1, 8 * (T + 3))), draw(st.integers(1, 8)))
            amount = spacing * q
            assume(amount.numerator < 10**9)
            if amount.denominator != 1:
                text = str(amount)                                  # "3/7"
            else:
                text = draw(st.sampled_from([str(amount.numerator),  # "2500", "2.500000e+03"
                                             f"{amount.numerator:.6e}"]))
                assume(Fraction(text) == amount)
            rules["every"] = text + {"epochs": "ep", "samples": "sp", "tokens": "tok"}[unit]
            if draw(st.booleans()):
                rules["until"] = draw(st.integers(1, T + 5))
    if draw(st.booleans()):
        p = draw(st.integers(1, 99))
        rules["ratio"] = draw(st.sampled_from([p / 100, Fraction(p, draw(st.integers(p + 1, 120)))]))
    if draw(st.booleans()):
        rules["at"] = draw(st.lists(st.integers(0, T + 10), max_size=6))
    if draw(st.booleans()):
        rules["first"] = draw(st.booleans())
    if draw(st.booleans()):
        rules["final"] = draw(st.booleans())
    if draw(st.booleans()):
        rules["min_interval"] = draw(st.integers(0, T))
    if draw(st.booleans()):
        rules["max_gap"] = draw(st.integers(1, T + 2))
    return rules


@st.composite
def schedules(draw):
    run_kwargs, spec = draw(runs())
    return run_kwargs, spec, draw(rule_sets(spec))


# --------------------------------------------------------------------------- the facade

def check_schedule(sched, expected, T, prevs=()):
    steps = sched.steps
    assert isinstance(steps, np.ndarray) and steps.dtype == np.int64 and steps.ndim == 1
    assert steps.tolist() == expected  # (read-only: see test_pickle_repr.py)
    assert len(sched) == steps.size == len(expected)
    assert list(sched) == expected
    assert all(type(s) is int for s in sched)
    assert sched.last == (expected[-1] if expected else None)
    present = set(expected)
    for s in range(0, T + 2):
        assert sched.should_save(s) is (s in present), s
        assert (s in sched) is (s in present), s
        following = next((x for x in expected if x > s), None)
        assert sched.next_after(s) == following, s
        for prev in {0, s, max(s - 1, 0), *(p for p in prevs if p <= s)}:
            assert sched.due(prev, s) is any(prev < x <= s for x in expected), (prev, s)


@given(case=schedules(), prevs=st.lists(st.integers(0, 260), max_size=3))
@example(case=({"steps_per_epoch": 217, "epochs": 4}, {"S": 217, "T": 868, "sps": None, "tps": None},
               {"saves_per_epoch": 8}), prevs=[])
@example(case=({"steps_per_epoch": 10, "epochs": 2.3}, {"S": 10, "T": 23, "sps": None, "tps": None},
               {"saves_per_epoch": 1}), prevs=[])
@example(case=({"max_steps": 100}, {"S": None, "T": 100, "sps": None, "tps": None},
               {"ratio": 0.07}), prevs=[])
@example(case=({"steps_per_epoch": 10, "epochs": 3}, {"S": 10, "T": 30, "sps": None, "tps": None},
               {"saves_per_epoch": 2, "min_interval": 6}), prevs=[])
@example(case=({"steps_per_epoch": 7, "epochs": Fraction(5, 2), "samples_per_step": 3},
               {"S": 7, "T": 18, "sps": 3, "tps": None},
               {"every": "1/2ep", "count": 4, "at": [0, 5, 19], "first": True}), prevs=[3])
@example(case=({"max_steps": 50, "samples_per_step": 32, "tokens_per_step": 4096},
               {"S": None, "T": 50, "sps": 32, "tps": 4096},
               {"every": "100sp"}), prevs=[])
@example(case=({"max_steps": 40, "tokens_per_step": 1000}, {"S": None, "T": 40, "sps": None, "tps": 1000},
               {"every": "2500tok", "until": 30, "final": False}), prevs=[])
def test_schedule_matches_design_oracle(backend, case, prevs):
    run_kwargs, spec, rules = case
    run = Run(**run_kwargs)
    T = spec["T"]
    assert run.total_steps == T
    if spec["S"] is not None:
        assert run.steps_per_epoch == spec["S"]
        assert run.num_epochs == math.ceil(Fraction(T, spec["S"]))
    sched = Schedule(run, **rules)
    expected = oracle_steps(spec, rules)
    check_schedule(sched, expected, T, prevs)
    codes = {d.code for d in sched.diagnostics}
    assert ("NO_SAVES" in codes) == (not expected)
    assert ("FINAL_NOT_SAVED" in codes) == (bool(expected) and expected[-1] < T)
    if any(not 1 <= s <= T for s in rules.get("at") or ()):
        assert "OUT_OF_RANGE" in codes
    for name in ("saves_per_epoch", "count", "every", "ratio"):  # a rule that never fires
        if name in rules:
            alone = {k: v for k, v in rules.items() if k in (name, "start", "until")}
            if not oracle_steps(spec, {**alone, "final": False}):
                assert "OUT_OF_RANGE" in codes, name
    if rules.get("saves_per_epoch", 0) > (spec["S"] or 0) or rules.get("count", 0) > T:
        assert "FEWER_THAN_REQUESTED" in codes  # collapses to every step
    if "ratio" in rules:
        exact = math.ceil(T * exact_ratio(rules["ratio"]))
        transformers = max(1, math.ceil(T * float(rules["ratio"])))  # its float arithmetic
        hf = [d for d in sched.diagnostics if d.code == "HF_MISMATCH"
              and d.data["rule"].startswith("ratio=")]
        if exact != transformers:
            assert hf[0].data["hf_interval"] == transformers and hf[0].data["interval"] == exact
    differing = {name for name, h in transformers_intervals(run, run_kwargs, rules).items()
                 if set(oracle_steps(spec, {name: rules[name], "final": rules.get("final", True)}))
                 != {s for s in range(1, T + 1) if s % h == 0 or s == T}}
    assert {d.data["rule"].split("=")[0] for d in sched.diagnostics
            if d.code == "HF_MISMATCH"} == differing


def transformers_intervals(run, run_kwargs, rules):
    """The interval transformers would use for each rule it can express alone (float
    arithmetic on purpose: what HF_MISMATCH compares with)."""
    T, out = run.total_steps, {}
    if "saves_per_epoch" in rules and run.epochs is not None:
        ratio = 1.0 / (rules["saves_per_epoch"] * float(run_kwargs.get("epochs", run.epochs)))
        if ratio < 1:
            out["saves_per_epoch"] = max(1, math.ceil(T * ratio))
    if rules.get("count", 1) > 1:
        out["count"] = max(1, math.ceil(T * (1.0 / rules["count"])))
    every = rules.get("every")
    if every is not None and "start" not in rules and "until" not in rules and not str(
            every).strip().endswith(("ep", "sp", "tok")):
        out["every"] = int(str(every).strip().rstrip("steps").strip())
    if "ratio" in rules:
        out["ratio"] = max(1, math.ceil(T * float(rules["ratio"])))
    return out
    if rules.get("max_gap") is not None:
        assert ("LONG_GAP" in codes) == (longest_gap(expected, T) > rules["max_gap"])
    if rules.get("min_interval"):
        full = oracle_steps(spec, {**rules, "min_interval": 0})
        assert ("MIN_INTERVAL_DROPPED" in codes) == (full != expected)


# --------------------------------------------------------------------------- Run geometry

@given(S=st.integers(1, 10**6), tenths=st.integers(1, 10**4))
@example(S=10, tenths=23)
@example(S=217, tenths=40)
@example(S=3, tenths=1)
def test_float_epochs_are_short_decimals(backend, S, tenths):
    run = Run(steps_per_epoch=S, epochs=tenths / 10)
    assert run.epochs == Fraction(tenths, 10)
    assert run.total_steps == math.ceil(Fraction(tenths * S, 10))
    assert run.num_epochs == math.ceil(Fraction(run.total_steps, S))


@given(S=st.integers(1, 10**9), num=st.integers(1, 10**9), den=st.integers(1, 10**9),
       max_steps=st.one_of(st.none(), st.integers(1, 2**63 - 1)))
def test_run_total_steps(backend, S, num, den, max_steps):
    run = Run(steps_per_epoch=S, epochs=Fraction(num, den), max_steps=max_steps)
    T = max_steps if max_steps is not None else math.ceil(Fraction(num * S, den))
    assert run.total_steps == T
    assert run.num_epochs == math.ceil(Fraction(T, S))  # possibly partial last epoch
    epoch, position = run.locate(T)
    assert (epoch - 1) * S + position == T and 1 <= position <= S


def dataset_steps(N, b, g, w, drop_last, partial):
    per_rank = N // w if drop_last else math.ceil(Fraction(N, w))
    L = per_rank // b if drop_last else math.ceil(Fraction(per_rank, b))
    return math.ceil(Fraction(L, g)) if partial == "step" else L // g


@given(N=st.integers(1, 10**7), b=st.integers(1, 64), g=st.integers(1, 64), w=st.integers(1, 64),
       drop_last=st.booleans(), partial=st.sampled_from(["step", "drop"]),
       epochs=st.integers(1, 5))
@example(N=1736, b=1, g=8, w=1, drop_last=False, partial="step", epochs=4)
@example(N=1737, b=1, g=8, w=1, drop_last=False, partial="drop", epochs=4)
@example(N=1737, b=1, g=8, w=1, drop_last=False, partial="step", epochs=4)
@example(N=5, b=2, g=1, w=4, drop_last=True, partial="step", epochs=1)
def test_run_from_dataset(backend, N, b, g, w, drop_last, partial, epochs):
    S = dataset_steps(N, b, g, w, drop_last, partial)
    call = lambda: Run.from_dataset(N, b, g, w, epochs=epochs, drop_last=drop_last,
                                    partial_accumulation=partial)
    if S == 0:
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        for name in ("num_examples", "micro_batch_size", "grad_accum", "world_size"):
            assert name in message
        return
    run = call()
    assert run.steps_per_epoch == S
    assert run.total_steps == S * epochs
    assert run.samples_per_step == b * g * w


def test_max_steps_wins_over_epochs(backend):
    run = Run(steps_per_epoch=217, epochs=4, max_steps=500)
    assert run.total_steps == 500 and run.num_epochs == 3
    sched = Schedule(run, saves_per_epoch=1)
    assert sched.steps.tolist() == [217, 434, 500]


# --------------------------------------------------------------------------- huge schedules

HUGE = 10**15


def test_huge_schedule_answers_queries_instantly(backend):
    S = 10**12
    run = Run(steps_per_epoch=S, epochs=1000)
    assert run.total_steps == HUGE
    sched = Schedule(run, saves_per_epoch=3, every=7, start=5, at=[HUGE - 3])

    def model_next_after(s):  # the first step > s of each rule, from docs/semantics.md's formulas
        every = 5 if s < 5 else 5 + 7 * ((s - 5) // 7 + 1)
        third = math.ceil(Fraction((s * 3 // S + 1) * S, 3))  # next boundary j*S/3 past s
        found = [x for x in (every, third, HUGE - 3, HUGE) if s < x <= HUGE]
        return min(found) if found else None

    points = [0, 1, 4, 5, 6, 11, 12, S // 3, S // 3 + 1, S - 1, S, S + 1, HUGE // 2,
              HUGE - 10, HUGE - 4, HUGE - 3, HUGE - 2, HUGE - 1, HUGE, HUGE + 1, 2**63 - 1]
    for s in points:
        nxt = model_next_after(s)
        assert sched.next_after(s) == nxt, s
        assert sched.should_save(s) is (s >= 1 and model_next_after(s - 1) == s), s
        if s <= HUGE:
            assert sched.due(s, HUGE) is (nxt is not None)
        if nxt is not None:
            assert sched.due(s, nxt) is True and sched.due(s, nxt - 1) is False
    assert sched.next_after(2**70) is None and not sched.should_save(2**70)
    assert sched.last == HUGE and HUGE in sched
    assert sched.should_save(S) and sched.should_save(math.ceil(Fraction(S, 3)))


def test_huge_schedule_len_and_iteration_start(backend):
    sched = Schedule(Run(max_steps=HUGE), every=4)
    assert len(sched) == HUGE // 4  # one rule (T is a multiple of 4): counted, not walked
    it = iter(sched)
    assert [next(it) for _ in range(3)] == [4, 8, 12]


_HUGE_STEPS_SCRIPT = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**29, 3 * 2**29))
    from ckptsched import _backend, Run, Schedule
    with _backend.use(sys.argv[1]):
        sched = Schedule(Run(max_steps=int(sys.argv[2])), **eval(sys.argv[3]))
        try:
            sched.steps
        except ValueError as exc:
            print("ValueError:", exc)
        else:
            print("no error")
""")


@pytest.mark.parametrize("T, rules", [
    (HUGE, "dict(every=1)"),                       # one rule: its count is known up front
    (HUGE, "dict(every=3, count=7)"),              # several rules
    (2**63 - 1, "dict(every=1)"),                  # more steps than int64 can count
], ids=["every=1", "two-rules", "every=1-at-int64-max"])
def test_huge_schedule_steps_raises_a_clear_value_error(backend, T, rules):
    """`.steps` of a schedule too large to hold raises ValueError, promptly and without
    allocating the array (run in a child with a 1.5 GiB address-space limit and a timeout)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_ROOT,
                                                                    os.environ.get("PYTHONPATH")]))}
    try:
        out = subprocess.run([sys.executable, "-c", _HUGE_STEPS_SCRIPT, backend.NAME, str(T), rules],
                             env=env, capture_output=True, text=True, timeout=300,
                             cwd=PACKAGE_ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f".steps of Schedule(Run(max_steps={T}), **{rules}) did not raise within 300 s (a hang)")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ValueError:"), out.stdout + out.stderr[-2000:]
    message = out.stdout
    assert "steps" in message and "should_save" in message, message


# --------------------------------------------------------------------------- at= (decisions.md 3)

def out_of_range(diagnostics):
    found = [d for d in diagnostics if d.code == "OUT_OF_RANGE"]
    assert len(found) <= 1
    return found[0] if found else None


@given(T=st.integers(1, 250), final=st.booleans(),
       at=st.lists(st.one_of(st.integers(-300, 300), st.integers(-2**70, 2**70)), max_size=12))
@example(T=100, final=True, at=[-5, 0, 3, 200, 2**63, -2**63 - 1])
def test_at_drops_every_integer_outside_the_run(backend, T, final, at):
    """Integers outside 1..T -- zero, negatives, past int64 -- are dropped and reported."""
    sched = Schedule(Run(max_steps=T), at=at, final=final)
    inside = {s for s in at if 1 <= s <= T}
    check_schedule(sched, sorted(inside | ({T} if final else set())), T)
    dropped = sorted({s for s in at if not 1 <= s <= T})
    diagnostic = out_of_range(sched.diagnostics)
    if not dropped:
        assert diagnostic is None
    else:
        assert diagnostic.data["dropped"] == dropped
        assert diagnostic.data["dropped_count"] == len(dropped)
        assert f"{len(dropped)} step(s)" in diagnostic.message and str(dropped[0]) in diagnostic.message


@given(T=st.integers(1, 250), start=st.integers(-300, 300), stop=st.integers(-300, 300),
       step=st.integers(-20, 20).filter(bool), final=st.booleans())
@example(T=100, start=-5, stop=10**4, step=7, final=True)
@example(T=100, start=100, stop=0, step=-1, final=False)
@example(T=1, start=1, stop=2, step=1, final=False)
def test_at_range_is_its_elements(backend, T, start, stop, step, final):
    at = range(start, stop, step)
    sched = Schedule(Run(max_steps=T), at=at, final=final)
    inside = {s for s in at if 1 <= s <= T}
    check_schedule(sched, sorted(inside | ({T} if final else set())), T)
    dropped = sorted(s for s in at if not 1 <= s <= T)
    diagnostic = out_of_range(sched.diagnostics)
    assert (diagnostic is None) is (not dropped)
    if dropped:
        assert diagnostic.data["dropped"] == dropped
        assert diagnostic.data["dropped_count"] == len(dropped)


def test_at_huge_range_is_clipped_not_iterated(backend):
    """A range is clipped to the run arithmetically: one of 10**18 (or 2 * 10**30) elements
    answers at once (iterating it would never end); the count of dropped steps is exact."""
    sched = Schedule(Run(max_steps=100), at=range(10**18))
    assert sched.steps.tolist() == list(range(1, 101))
    diagnostic = out_of_range(sched.diagnostics)
    assert diagnostic.data["dropped_count"] == 10**18 - 100  # 0 and 101 .. 10**18 - 1
    assert diagnostic.data["dropped"][:3] == [0, 101, 102]
    assert len(diagnostic.data["dropped"]) == 100_000  # a bounded sample, in order

    big = range(-10**30, 10**30, 7)
    T = 10**18
    sched = Schedule(Run(max_steps=T), at=big, final=False)
    first = -10**30 + 7 * math.ceil(Fraction(1 + 10**30, 7))  # the first element >= 1
    assert sched.next_after(0) == first and sched.next_after(first) == first + 7
    last = first + 7 * ((T - first) // 7)
    assert sched.last == last and sched.should_save(last) and not sched.should_save(last + 1)
    assert len(sched) == (last - first) // 7 + 1
    in_run = (last - first) // 7 + 1
    assert out_of_range(sched.diagnostics).data["dropped_count"] == -(-2 * 10**30 // 7) - in_run


def test_at_accepts_any_iterable_of_integers(backend):
    run = Run(max_steps=50)
    expected = Schedule(run, at=[3, 9, 27]).steps.tolist()
    for at in (iter([27, 3, 9]), (s for s in (9, 27, 3)), {3: "a", 9: "b", 27: "c"}.keys(),
               np.array([27, 9, 3], dtype=np.int16), [np.int64(3), np.uint8(9), 27]):
        assert Schedule(run, at=at).steps.tolist() == expected


# --------------------------------------------------------------------------- floats (decisions.md 4, 5)

@pytest.mark.parametrize("x", [1e17, 1e18, float(2**60 + 256), 2.0**62, float(2**53 + 2)])
def test_whole_number_floats_mean_their_value(backend, x):
    """A whole-number float means int(x) at any magnitude, never a nearby 'simpler' integer
    and never a float product."""
    run = Run(steps_per_epoch=1, epochs=x)
    assert run.epochs == int(x) and run.total_steps == int(x)
    run = Run(steps_per_epoch=1, epochs=x, max_steps=5, samples_per_step=x, tokens_per_step=x)
    assert run.samples_per_step == run.tokens_per_step == int(x)
    if int(x) * 3 <= 2**63 - 1:
        assert Run(steps_per_epoch=3, epochs=x).total_steps == 3 * int(x)  # exact, not 3.0 * x


@given(tenths=st.integers(1, 10**4), S=st.integers(1, 1000))
@example(tenths=23, S=10)
def test_float32_and_float16_epochs_are_short_decimals_in_their_precision(backend, tenths, S):
    exact = Fraction(tenths, 10)
    assert Run(S, np.float32(tenths / 10)).total_steps == math.ceil(exact * S)
    if tenths < 160:
        # below 16 a float16 rounds within 2**-8 of t/10, while any other fraction with a
        # denominator <= 10 is at least 1/90 away: t/10 is the simplest rational there
        assert Run(S, np.float16(tenths / 10)).epochs == exact


@given(p=st.integers(1, 99), T=st.integers(1, 10**6))
@example(p=7, T=100)
def test_float32_ratio_is_the_short_decimal(backend, p, T):
    sched = Schedule(Run(max_steps=T), ratio=np.float32(p / 100), final=False)
    interval = math.ceil(Fraction(p, 100) * T)
    assert sched.next_after(0) == interval and sched.last == T // interval * interval


# --------------------------------------------------------------------------- unit every= (decisions.md 6)

@pytest.mark.parametrize("run_kwargs, every, first_step", [
    (dict(steps_per_epoch=10**9, epochs=2), "1e18ep", 10**27),
    (dict(steps_per_epoch=10**18, epochs=2, max_steps=100), "2ep", 2 * 10**18),
    (dict(max_steps=100, tokens_per_step=1), "1e30tok", 10**30),
    (dict(max_steps=100, tokens_per_step=10**18), "1e21tok", 1000),   # past T, within int64
    (dict(max_steps=100, samples_per_step=Fraction(1, 10**18)), "10000sp", 10**22),
    (dict(max_steps=100, samples_per_step=3), "1e50sp", math.ceil(Fraction(10**50, 3))),
    (dict(max_steps=100, tokens_per_step=1), "1e999999999tok", 10**101),  # capped amount
])
def test_unit_every_beyond_the_run_has_no_step(backend, run_kwargs, every, first_step):
    run = Run(**run_kwargs)
    for final in (True, False):
        sched = Schedule(run, every=every, final=final)
        assert sched.steps.tolist() == ([run.total_steps] if final else [])
        diagnostic = out_of_range(sched.diagnostics)
        assert diagnostic.data["first_step"] == first_step
        assert repr(every) in diagnostic.message
    with pytest.raises(ckptsched.ScheduleError, match="OUT_OF_RANGE"):
        Schedule(run, every=every, strict=True)


@pytest.mark.parametrize("T, tokens_per_step, every, interval", [
    (10**5, 10**18, "1e21tok", 1000),           # an amount past int64, a spacing within the run
    (10**5, 3, "1e19tok", None),                # spacing 10**19/3: past the run
    (50, 1, "1e-30tok", 1),                     # below one step: every step
    (50, 1, "1e-999999tok", 1),
])
def test_unit_every_amounts_of_any_size(backend, T, tokens_per_step, every, interval):
    sched = Schedule(Run(max_steps=T, tokens_per_step=tokens_per_step), every=every, final=False)
    expected = [] if interval is None else list(range(interval, T + 1, interval))
    assert sched.steps.tolist() == expected
    if interval == 1:
        assert [d.code for d in sched.diagnostics] == ["FEWER_THAN_REQUESTED"]


# --------------------------------------------------------------------------- ints too long to print (7)

def test_ints_too_long_to_print_give_the_intended_error(backend):
    huge = 10**5000
    with pytest.raises(OverflowError, match=r"max_steps=<int of about 5001 digits> exceeds"):
        Run(max_steps=huge)
    with pytest.raises(OverflowError, match=r"^every=<int of about 5001 digits>"):
        Schedule(Run(max_steps=10), every=huge)
    sched = Schedule(Run(max_steps=10), at=[huge, -huge, 4])
    assert sched.steps.tolist() == [4, 10]
    diagnostic = out_of_range(sched.diagnostics)
    assert diagnostic.data["dropped"] == [-huge, huge]
    assert "<-int of about 5001 digits>, <int of about 5001 digits>" in diagnostic.message
    assert "int of about" in repr(diagnostic) and "5001 digits" in str(sched.diagnostics[0])
    assert not sched.should_save(huge) and sched.next_after(huge) is None


# --------------------------------------------------------------------------- the package surface

def test_backend_reports_the_backend_in_use(backend):
    """backend() and ckptsched.BACKEND follow the facade, also inside _backend.use(...)."""
    from ckptsched import _backend
    assert ckptsched.backend() == ckptsched.BACKEND == backend.NAME == _backend.NAME
    for other in _backend.available("schedule"):
        with _backend.use(other):
            assert ckptsched.backend() == ckptsched.BACKEND == other
        assert ckptsched.backend() == ckptsched.BACKEND == backend.NAME
    assert "BACKEND" in dir(ckptsched) and "backend" in ckptsched.__all__
    with pytest.raises(AttributeError, match="no attribute 'BACKEN'"):
        ckptsched.BACKEN  # noqa: B018


def test_sweeps_module_is_not_shadowed_by_the_sweep_function():
    import types

    import ckptsched.sweeps as module
    assert isinstance(module, types.ModuleType) and module.__name__ == "ckptsched.sweeps"
    assert ckptsched.sweeps is module
    assert callable(ckptsched.sweep) and ckptsched.sweep is module.sweep
    assert not isinstance(ckptsched.sweep, types.ModuleType)

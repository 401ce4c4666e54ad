"""Differential tests of the two backends' engines against models written from docs/semantics.md.

Every function of the backend API (`Engine`, `total_steps`, `steps_per_epoch`,
`ratio_interval`, `locate`, `min_interval`, `longest_gap`) is run on the C backend and on
the pure-Python twin, and both are compared with an independent model: brute-force
enumeration for small rules, exact int / Fraction formulas for values near 2**63.
OverflowError is expected exactly when the exact answer leaves int64.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given, strategies as st

from ckptsched._common import RULE_EVEN, RULE_EVERY

INT64_MAX = 2**63 - 1


def ceil_frac(x: Fraction) -> int:
    return math.ceil(x)


def outcome(fn, *args):
    """('ok', value) or ('raise', type, message): what a backend call did."""
    try:
        value = fn(*args)
    except (ValueError, OverflowError, TypeError) as exc:
        return ("raise", type(exc), str(exc))
    if isinstance(value, np.ndarray):
        return ("ok", ("array", str(value.dtype), value.tolist()))
    return ("ok", value)


def same_on_both(backends, call):
    """Run `call(impl)` on both backends, assert identical outcomes, return the outcome."""
    got = {name: outcome(call, impl) for name, impl in backends.items()}
    first = next(iter(got.values()))
    assert all(result == first for result in got.values()), got
    return first



# --------------------------------------------------------------------------- rule models

def model_rule_steps(rule):
    """All steps of a small rule, enumerated straight from the definition."""
    kind, a, b, stop = rule
    if kind == RULE_EVERY:  # a, a+b, a+2b, ... <= stop
        return set(range(a, stop + 1, b))
    steps, i = set(), 1      # EVEN: ceil(i*a/b) <= stop, i = 1, 2, ...
    while Fraction(i * a, b) <= stop:
        steps.add(ceil_frac(Fraction(i * a, b)))
        i += 1
    return steps


def model_rule_count(rule):
    """How many distinct steps the rule has (exact, any size)."""
    kind, a, b, stop = rule
    if kind == RULE_EVERY:
        return 0 if stop < a else (stop - a) // b + 1
    if a < b:  # spacing below one step: each step (s-1, s] holds a boundary
        return stop
    return math.floor(Fraction(stop * b, a))  # i*a/b <= stop


def model_rule_contains(rule, s):
    kind, a, b, stop = rule
    if not 1 <= s <= stop:
        return False
    if kind == RULE_EVERY:
        return s >= a and (s - a) % b == 0
    i = math.floor(Fraction(s * b, a))  # the last boundary at or before s
    return i >= 1 and Fraction(i * a, b) > s - 1


def model_rule_next_after(rule, s):
    kind, a, b, stop = rule
    if kind == RULE_EVERY:
        nxt = a if s < a else a + ((s - a) // b + 1) * b
    elif a < b:
        nxt = s + 1
    else:
        nxt = ceil_frac(Fraction((math.floor(Fraction(s * b, a)) + 1) * a, b))
    return nxt if nxt <= stop else None


def model_rule_last(rule):
    kind, a, b, stop = rule
    n = model_rule_count(rule)
    if n == 0:
        return 0
    if kind == RULE_EVERY:
        return a + (n - 1) * b
    return stop if a < b else ceil_frac(Fraction(n * a, b))


class Model:
    """The union of rules and extra steps, as docs/semantics.md defines it."""

    def __init__(self, rules, extra):
        self.rules, self.extra = list(rules), sorted(extra)

    def contains(self, s):
        return s in self.extra or any(model_rule_contains(r, s) for r in self.rules)

    def next_after(self, s):
        found = [x for x in self.extra if x > s] + [model_rule_next_after(r, s) for r in self.rules]
        found = [x for x in found if x is not None]
        return min(found) if found else None

    def last(self):
        return max([model_rule_last(r) for r in self.rules] + self.extra, default=0)

    def count_bound(self):
        return len(self.extra) + sum(model_rule_count(r) for r in self.rules)

    def enumerable(self, limit=20_000):
        return self.count_bound() <= limit

    def steps(self):
        """The sorted union (only when enumerable): walk each rule with next_after."""
        out = set(self.extra)
        for r in self.rules:
            s = model_rule_next_after(r, 0)
            while s is not None:
                out.add(s)
                s = model_rule_next_after(r, s)
        return sorted(out)


# --------------------------------------------------------------------------- strategies

small = st.integers(1, 40)
huge = st.integers(2**62, INT64_MAX)
near_max = st.integers(INT64_MAX - 64, INT64_MAX)
anywhere = st.one_of(small, huge, near_max, st.integers(1, INT64_MAX))

small_rules = st.tuples(st.sampled_from([RULE_EVERY, RULE_EVEN]), small, small,
                        st.integers(0, 90))
big_rules = st.tuples(st.sampled_from([RULE_EVERY, RULE_EVEN]), anywhere, anywhere,
                      st.one_of(st.just(0), anywhere))
small_extra = st.sets(st.integers(1, 100), max_size=8).map(sorted)
big_extra = st.sets(st.one_of(st.integers(1, 100), huge, near_max), max_size=6).map(sorted)


def check_queries(backends, model, rules, extra, points):
    for s in points:
        assert same_on_both(backends, lambda m: m.Engine(rules, extra).contains(s)) == (
            "ok", model.contains(s)), s
        assert same_on_both(backends, lambda m: m.Engine(rules, extra).next_after(s)) == (
            "ok", model.next_after(s)), s


# --------------------------------------------------------------------------- Engine

@given(rules=st.lists(small_rules, max_size=4), extra=small_extra)
@example(rules=[(RULE_EVEN, 10, 4, 10)], extra=[])        # [3, 5, 8, 10]
@example(rules=[(RULE_EVEN, 3, 7, 5)], extra=[2])         # spacing < 1: every step
@example(rules=[(RULE_EVERY, 5, 5, 4)], extra=[])         # first step past stop
@example(rules=[(RULE_EVERY, 1, 1, 0)], extra=[1])        # stop 0: nothing
def test_engine_small_rules_match_brute_force(backends, rules, extra):
    model = Model(rules, extra)
    expected = sorted(set(extra).union(*(model_rule_steps(r) for r in rules)))
    assert model.steps() == expected  # the formula model agrees with enumeration
    n = len(expected)
    engines = {name: impl.Engine(rules, extra) for name, impl in backends.items()}
    for name, e in engines.items():
        assert e.last() == (expected[-1] if expected else 0), name
        assert e.count_bound() == len(extra) + sum(len(model_rule_steps(r)) for r in rules), name
        assert e.count(10**6) == n, name
        for limit in (n, n + 7, 10**6):
            got = e.fill(limit)
            assert got.dtype == np.int64 and got.ndim == 1, name
            assert got.tolist() == expected, (name, limit)
    check_queries(backends, model, rules, extra, range(0, 105))


@given(rules=st.lists(small_rules, min_size=2, max_size=4), extra=small_extra)
def test_engine_count_walk_limit(backends, rules, extra):
    """With several rules the union is walked: ValueError once it has more than walk_limit."""
    n = len(Model(rules, extra).steps())
    assume(n > 0)
    for limit in (0, n - 1, n):
        result = same_on_both(backends, lambda m: m.Engine(rules, extra).count(limit))
        if n > limit:
            assert result[:2] == ("raise", ValueError), (limit, result)
        else:
            assert result == ("ok", n)


@given(rules=st.lists(small_rules, max_size=3), extra=small_extra)
@example(rules=[(RULE_EVERY, 1, 1, 50)], extra=[50])  # a lone rule: count from the formula
@example(rules=[], extra=[1, 2, 3])                   # extra steps only
def test_engine_fill_raises_past_its_limit(backends, rules, extra):
    n = len(Model(rules, extra).steps())
    assume(n > 0)
    for limit in (0, n - 1):
        result = same_on_both(backends, lambda m: m.Engine(rules, extra).fill(limit))
        assert result[:2] == ("raise", ValueError), (limit, result)


@given(rules=st.lists(big_rules, max_size=3), extra=big_extra, data=st.data())
@example(rules=[(RULE_EVERY, INT64_MAX, 1, INT64_MAX)], extra=[], data=None)
@example(rules=[(RULE_EVEN, INT64_MAX, INT64_MAX - 1, INT64_MAX)], extra=[1], data=None)
@example(rules=[(RULE_EVEN, 2**62 + 1, 2**62, INT64_MAX), (RULE_EVERY, 2**62, 2**62, INT64_MAX)],
         extra=[INT64_MAX], data=None)
@example(rules=[(RULE_EVERY, 1, 1, INT64_MAX)], extra=[INT64_MAX], data=None)
@example(rules=[(RULE_EVERY, 1, 1, INT64_MAX), (RULE_EVEN, 1, 1, INT64_MAX)], extra=[], data=None)
def test_engine_near_int64_max_matches_exact_model(backends, rules, extra, data):
    model = Model(rules, extra)
    points = {0, 1, 2, INT64_MAX - 1, INT64_MAX, 2**63, 2**64 + 5}
    for kind, a, b, stop in rules:
        points |= {a - 1, a, a + 1, stop - 1, stop, stop + 1, b, a + b}
    points |= {x + d for x in extra for d in (-1, 0, 1)}
    if data is not None:
        points |= set(data.draw(st.lists(st.integers(0, 2**63 + 10), max_size=10)))
    points = sorted(p for p in points if p >= 0)
    for s in points:
        expected_contains = model.contains(s) if s <= INT64_MAX else False
        expected_next = model.next_after(s) if s < INT64_MAX else None
        assert same_on_both(backends, lambda m: m.Engine(rules, extra).contains(s)) == (
            "ok", expected_contains), s
        assert same_on_both(backends, lambda m: m.Engine(rules, extra).next_after(s)) == (
            "ok", expected_next), s
    assert same_on_both(backends, lambda m: m.Engine(rules, extra).last()) == ("ok", model.last())
    bound = model.count_bound()
    result = same_on_both(backends, lambda m: m.Engine(rules, extra).count_bound())
    if bound > INT64_MAX:
        assert result[:2] == ("raise", OverflowError), result
    else:
        assert result == ("ok", bound)
    if model.enumerable():
        steps = model.steps()
        assert same_on_both(backends, lambda m: m.Engine(rules, extra).count(10**6)) == (
            "ok", len(steps))
        assert same_on_both(backends, lambda m: m.Engine(rules, extra).fill(len(steps))) == (
            "ok", ("array", "int64", steps))
    elif len(rules) <= 1:
        # one rule: the exact count comes from the formula; OverflowError only past int64
        exact = model_rule_count(rules[0]) + sum(
            1 for x in extra if not model_rule_contains(rules[0], x))
        result = same_on_both(backends, lambda m: m.Engine(rules, extra).count(1000))
        if exact > INT64_MAX:
            assert result[:2] == ("raise", OverflowError), result
        else:
            assert result == ("ok", exact)
    else:
        # several rules, one of them with more than 1000 steps: the walk is capped
        result = same_on_both(backends, lambda m: m.Engine(rules, extra).count(1000))
        assert result[:2] == ("raise", ValueError), result


@given(rules=st.lists(big_rules, min_size=1, max_size=3), extra=big_extra)
@example(rules=[(RULE_EVERY, 1, 1, INT64_MAX)], extra=[INT64_MAX])
@example(rules=[(RULE_EVERY, 1, 1, INT64_MAX), (RULE_EVEN, 1, 1, INT64_MAX)], extra=[])
@example(rules=[(RULE_EVEN, 1, 2, INT64_MAX)], extra=[])
def test_engine_fill_of_a_huge_schedule_raises_value_error(backends, rules, extra):
    """fill(limit) promises ValueError when there are more than `limit` steps, however many
    more (even when their number does not fit in int64: the array is what is too big)."""
    model = Model(rules, extra)
    assume(not model.enumerable())
    result = same_on_both(backends, lambda m: m.Engine(rules, extra).fill(1000))
    assert result[:2] == ("raise", ValueError), result


def test_engine_last_step_at_int64_max_is_walked(backends):
    """A rule whose only step is INT64_MAX: fill and count must see it."""
    rules = [(RULE_EVERY, INT64_MAX, 5, INT64_MAX), (RULE_EVERY, 3, INT64_MAX, INT64_MAX)]
    for name, impl in backends.items():
        e = impl.Engine(rules, [])
        assert e.fill(10).tolist() == [3, INT64_MAX], name
        assert e.count(10) == 2, name
        assert e.contains(INT64_MAX) and e.next_after(3) == INT64_MAX, name


@pytest.mark.parametrize("step", [True, np.bool_(False), 1.0, np.float64(2), "3", None, 1 + 0j])
def test_engine_queries_reject_non_integers(backends, step):
    for method in ("contains", "next_after"):
        result = same_on_both(backends, lambda m: getattr(m.Engine([(RULE_EVERY, 1, 1, 9)], []),
                                                          method)(step))
        assert result[:2] == ("raise", TypeError) and "step" in result[2], result


@pytest.mark.parametrize("step", [-1, -(2**63), -(2**70), np.int64(-3)])
def test_engine_queries_reject_negative_steps(backends, step):
    for method in ("contains", "next_after"):
        result = same_on_both(backends, lambda m: getattr(m.Engine([(RULE_EVERY, 1, 1, 9)], []),
                                                          method)(step))
        assert result[:2] == ("raise", ValueError) and "step" in result[2], result


@pytest.mark.parametrize("step", [np.int64(6), np.uint64(6), np.int32(6), np.uint8(6)])
def test_engine_queries_accept_numpy_integers(backends, step):
    for name, impl in backends.items():
        e = impl.Engine([(RULE_EVERY, 3, 3, 9)], [])
        assert e.contains(step) is True and e.next_after(step) == 9, name


@pytest.mark.parametrize("rules, extra, exc", [
    ([(3, 1, 1, 5)], [], ValueError),                    # unknown kind
    ([(RULE_EVERY, 0, 1, 5)], [], ValueError),           # a < 1
    ([(RULE_EVEN, 1, 0, 5)], [], ValueError),            # b < 1
    ([(RULE_EVERY, 1, 1, -1)], [], ValueError),          # stop < 0
    ([(RULE_EVERY, 2**63, 1, 5)], [], OverflowError),    # past int64
    ([(RULE_EVEN, 1, 1, 2**63)], [], OverflowError),
    ([], [3, 2], ValueError),                            # not increasing
    ([], [2, 2], ValueError),                            # not distinct
    ([], [0, 1], ValueError),                            # below 1
    ([], [2**63], ValueError),                           # past int64
])
def test_engine_rejects_bad_rules_alike(backends, rules, extra, exc):
    result = same_on_both(backends, lambda m: m.Engine(rules, extra))
    assert result[:2] == ("raise", exc), result


@pytest.mark.parametrize("n_rules", [64, 65, 200])
def test_engine_with_many_rules_behaves_alike(backends, n_rules):
    """Both backends accept the same number of rules (or refuse it with the same error), and
    answer alike when they accept it."""
    rules = [(RULE_EVERY, k, k, 500) for k in range(1, n_rules + 1)]
    built = same_on_both(backends, lambda m: type(m.Engine(rules, [])).__name__)
    if built[0] == "raise":
        assert built[1] is ValueError and "rules" in built[2], built
        return
    expected = list(range(1, 501))  # rule k=1 alone is every step
    assert same_on_both(backends, lambda m: m.Engine(rules, []).fill(10**6)) == (
        "ok", ("array", "int64", expected))
    assert same_on_both(backends, lambda m: m.Engine(rules, []).count(10**6)) == ("ok", 500)
    assert same_on_both(backends, lambda m: m.Engine(rules, []).last()) == ("ok", 500)


# --------------------------------------------------------------------------- run geometry

def expect(backends, call, exact):
    """Both backends give `exact`, or OverflowError when it leaves int64."""
    result = same_on_both(backends, call)
    if exact > INT64_MAX:
        assert result[:2] == ("raise", OverflowError), (exact, result)
    else:
        assert result == ("ok", exact)


@given(spe=anywhere, num=anywhere, den=anywhere)
@example(spe=2**62, num=4, den=1)          # huge epochs * steps_per_epoch
@example(spe=2**62, num=2, den=1)          # exactly 2**63: one past
@example(spe=INT64_MAX, num=1, den=1)
@example(spe=217, num=23, den=10)
@example(spe=INT64_MAX, num=INT64_MAX, den=INT64_MAX)
def test_total_steps(backends, spe, num, den):
    expect(backends, lambda m: m.total_steps(spe, num, den), ceil_frac(Fraction(num * spe, den)))


@given(total=anywhere, num=anywhere, den=anywhere)
@example(total=100, num=7, den=100)
@example(total=100, num=57, den=100)
@example(total=INT64_MAX, num=INT64_MAX - 1, den=INT64_MAX)
@example(total=INT64_MAX, num=2, den=1)
def test_ratio_interval(backends, total, num, den):
    expect(backends, lambda m: m.ratio_interval(total, num, den),
           ceil_frac(Fraction(total * num, den)))


@given(step=anywhere, spe=anywhere)
@example(step=1, spe=1)
@example(step=INT64_MAX, spe=1)
@example(step=868, spe=217)
@example(step=869, spe=217)
def test_locate(backends, step, spe):
    epoch = math.ceil(Fraction(step, spe))  # the first epoch whose end is >= step
    position = step - (epoch - 1) * spe
    assert 1 <= position <= spe
    assert same_on_both(backends, lambda m: m.locate(step, spe)) == ("ok", (epoch, position))


def model_steps_per_epoch(n, b, g, w, drop_last, step_partial):
    per_rank = Fraction(n, w)
    per_rank = math.floor(per_rank) if drop_last else math.ceil(per_rank)
    batches = math.floor(Fraction(per_rank, b)) if drop_last else math.ceil(Fraction(per_rank, b))
    return math.ceil(Fraction(batches, g)) if step_partial else math.floor(Fraction(batches, g))


@given(n=anywhere, b=anywhere, g=anywhere, w=anywhere, drop_last=st.booleans(),
       step_partial=st.booleans())
@example(n=1736, b=1, g=8, w=1, drop_last=False, step_partial=True)   # 217
@example(n=1737, b=1, g=8, w=1, drop_last=False, step_partial=True)   # 218
@example(n=1737, b=1, g=8, w=1, drop_last=False, step_partial=False)  # 217
@example(n=10, b=3, g=1, w=4, drop_last=True, step_partial=True)      # 2 per rank, 0 batches
@example(n=INT64_MAX, b=1, g=1, w=1, drop_last=False, step_partial=True)
def test_steps_per_epoch(backends, n, b, g, w, drop_last, step_partial):
    assert same_on_both(backends, lambda m: m.steps_per_epoch(n, b, g, w, drop_last, step_partial)) \
        == ("ok", model_steps_per_epoch(n, b, g, w, drop_last, step_partial))


DOMAIN_ERRORS = {
    "total_steps spe=0": lambda m: m.total_steps(0, 1, 1),
    "total_steps num=0": lambda m: m.total_steps(5, 0, 1),
    "total_steps den=0": lambda m: m.total_steps(5, 1, 0),
    "total_steps spe<0": lambda m: m.total_steps(-5, 1, 1),
    "ratio_interval total=0": lambda m: m.ratio_interval(0, 1, 2),
    "ratio_interval num=0": lambda m: m.ratio_interval(10, 0, 2),
    "ratio_interval den=0": lambda m: m.ratio_interval(10, 1, 0),
    "locate step=0": lambda m: m.locate(0, 5),
    "locate spe=0": lambda m: m.locate(5, 0),
    "locate step<0": lambda m: m.locate(-1, 5),
    "steps_per_epoch n=0": lambda m: m.steps_per_epoch(0, 1, 1, 1, False, True),
    "steps_per_epoch b=0": lambda m: m.steps_per_epoch(5, 0, 1, 1, False, True),
    "steps_per_epoch g=0": lambda m: m.steps_per_epoch(5, 1, 0, 1, False, True),
    "steps_per_epoch w=0": lambda m: m.steps_per_epoch(5, 1, 1, 0, False, True),
    "min_interval m<0": lambda m: m.min_interval(np.array([1, 2, 3]), -1, 0),
    "longest_gap total=0": lambda m: m.longest_gap(np.array([], dtype=np.int64), 0),
    "longest_gap decreasing": lambda m: m.longest_gap(np.array([3, 2]), 5),
    "longest_gap repeated": lambda m: m.longest_gap(np.array([2, 2]), 5),
    "longest_gap step 0": lambda m: m.longest_gap(np.array([0, 2]), 5),
    "longest_gap past total": lambda m: m.longest_gap(np.array([2, 6]), 5),
}


@pytest.mark.parametrize("call", DOMAIN_ERRORS.values(), ids=DOMAIN_ERRORS.keys())
def test_domain_errors_alike(backends, call):
    result = same_on_both(backends, call)
    assert result[:2] == ("raise", ValueError), result


# --------------------------------------------------------------------------- post-processing

def model_min_interval(steps, m, forced):
    kept = []
    for s in steps:
        if not kept or s == forced or s - kept[-1] >= m:
            kept.append(s)
    return kept


step_lists = st.one_of(st.sets(st.integers(1, 300), max_size=40),
                       st.sets(st.one_of(st.integers(1, 300), huge, near_max), max_size=10)
                       ).map(sorted)


@given(steps=step_lists, m=st.one_of(st.integers(0, 60), anywhere), data=st.data())
@example(steps=[5, 10, 15, 20, 25, 30], m=6, data=None)
@example(steps=[1, INT64_MAX], m=INT64_MAX, data=None)
def test_min_interval(backends, steps, m, data):
    forced = 0
    if data is not None and steps:
        forced = data.draw(st.sampled_from([0, steps[-1], steps[len(steps) // 2]]))
    expected = model_min_interval(steps, m, forced)
    arr = np.array(steps, dtype=np.int64)
    assert same_on_both(backends, lambda mod: mod.min_interval(arr, m, forced)) == (
        "ok", ("array", "int64", expected))


def model_longest_gap(steps, total):
    points = [0] + list(steps) + ([total] if not steps or steps[-1] < total else [])
    best, end = 0, 0
    for x, y in zip(points, points[1:]):
        if y - x > best:  # the first longest stretch
            best, end = y - x, y
    return best, end


@given(steps=step_lists, extra_total=st.integers(0, 50))
@example(steps=[], extra_total=1)
@example(steps=[INT64_MAX], extra_total=0)
@example(steps=[3, 6, 9], extra_total=0)
def test_longest_gap(backends, steps, extra_total):
    total = min((steps[-1] if steps else 0) + extra_total, INT64_MAX)
    assume(total >= 1)
    arr = np.array(steps, dtype=np.int64)
    assert same_on_both(backends, lambda m: m.longest_gap(arr, total)) == (
        "ok", model_longest_gap(steps, total))


# --------------------------------------------------------------------------- the C stub

def _stub_signatures():
    """{name: parameter names} of the functions in _schedule_c.pyi, Engine's methods as
    "Engine.name", and the set of every public name the stub declares."""
    import ast
    from pathlib import Path

    import ckptsched

    tree = ast.parse(Path(ckptsched.__file__).with_name("_schedule_c.pyi").read_text())
    params, names = {}, set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            params[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not any(
                        isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list):
                    params[f"{node.name}.{item.name}"] = [a.arg for a in item.args.args]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        else:
            continue
        if not getattr(node, "name", "_").startswith("_"):
            names.add(node.name)
    return params, {n for n in names if not n.startswith("_")}


def test_c_stub_declares_the_c_api_with_the_parameters_of_both_twins(backends):
    import inspect

    params, stub_names = _stub_signatures()
    for name, module in backends.items():
        defined_here = {n for n, v in vars(module).items()
                        if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__}
        public = defined_here | {"NAME"}
        if name == "c":
            assert stub_names == public
        else:  # the twin also has module-level rule helpers for _sweep_py
            assert stub_names <= public, stub_names - public
        for qualname, stub_params in params.items():
            if qualname == "Engine.__init__":
                continue  # a cdef class has no introspectable __init__; its twin does
            owner, _, attr = qualname.rpartition(".")
            obj = getattr(getattr(module, owner) if owner else module, attr)
            assert list(inspect.signature(obj).parameters) == stub_params, (name, qualname)
    engine = backends["python"].Engine
    assert ["self"] + list(inspect.signature(engine).parameters) == params["Engine.__init__"]

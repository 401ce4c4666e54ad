"""ckptsched.Tracker without any framework: its state round-trips exactly, its sample / token
counting is exact at any size, and its decisions match an exact model written from the
semantics (boundary i at i*n units, crossed at the first step whose cumulative units reach
it; one save per step however many boundaries fall in it), also across a resume.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from ckptsched import Run, Schedule, Tracker
from ckptsched.tracker import FORMAT, FORMAT_V1

INT64_MAX = 2**63 - 1


# ---- the exact model ------------------------------------------------------------------

@dataclass
class Config:
    """What a Tracker is built from in these tests; `make()` builds it."""

    samples_every: Fraction | None = None
    tokens_every: Fraction | None = None
    total_steps: int | None = None   # with `save_every`: Schedule(Run(max_steps=T), every=k)
    save_every: int | None = None

    def every(self) -> list[str]:
        rules = [(self.samples_every, "sp"), (self.tokens_every, "tok")]
        return [f"{n.numerator}/{n.denominator}{unit}" for n, unit in rules if n is not None]

    def make(self) -> Tracker:
        schedule = (None if self.save_every is None
                    else Schedule(Run(max_steps=self.total_steps), every=self.save_every))
        return Tracker(schedule, every=self.every() or None, sync=False)

    def scheduled(self, step: int) -> bool:
        """Schedule(Run(max_steps=T), every=k): k, 2k, ... <= T, and T (final=True)."""
        if self.save_every is None or not 1 <= step <= self.total_steps:
            return False
        return step % self.save_every == 0 or step == self.total_steps


def crosses(before: int, after: int, every: Fraction | None) -> bool:
    """Is the first boundary above `before` (boundaries at i*every, i >= 1) at most `after`?"""
    return every is not None and (Fraction(before) // every + 1) * every <= after


@dataclass
class Model:
    """The decisions of a Tracker for non-decreasing steps, from the semantics alone."""

    config: Config
    step: int | None = None
    last_saved: int | None = None
    totals: dict[str, int] = field(default_factory=lambda: {"samples": 0, "tokens": 0})
    pending: bool = False

    def update(self, step: int, samples: int, tokens: int, request: bool) -> tuple:
        assert self.step is None or step >= self.step
        self.pending = self.pending or request
        previous = 0 if self.step is None else self.step
        reasons = []
        if any(self.config.scheduled(s) for s in range(previous + 1, step + 1)):
            reasons.append("schedule")
        for unit, amount, every in (("samples", samples, self.config.samples_every),
                                    ("tokens", tokens, self.config.tokens_every)):
            before, self.totals[unit] = self.totals[unit], self.totals[unit] + amount
            if crosses(before, self.totals[unit], every):
                reasons.append(unit)
        if self.pending:
            reasons.append("request")
        save = bool(reasons) and step != self.last_saved  # one save per step
        if save:
            self.last_saved, self.pending = step, False
        self.step = step
        return (step, save, tuple(reasons) if save else ())


def run_tracker(tracker: Tracker, ops, config: Config) -> list[tuple]:
    """Feed (step, samples, tokens, request) to `tracker`; the decisions as tuples."""
    out = []
    for step, samples, tokens, request in ops:
        if request:
            tracker.request_save()
        kwargs = {}
        if config.samples_every is not None:
            kwargs["samples"] = samples
        if config.tokens_every is not None:
            kwargs["tokens"] = tokens
        d = tracker.update(step, **kwargs)
        out.append((d.step, d.save, d.reasons))
    return out


# ---- strategies -----------------------------------------------------------------------

intervals = st.one_of(
    st.builds(Fraction, st.integers(1, 60), st.integers(1, 7)),
    st.builds(Fraction, st.integers(1, INT64_MAX), st.integers(1, INT64_MAX)),
)
amounts = st.one_of(st.integers(0, 40), st.integers(0, 2**66))


@st.composite
def configs(draw) -> Config:
    config = Config(samples_every=draw(st.none() | intervals),
                    tokens_every=draw(st.none() | intervals))
    if draw(st.booleans()):
        config.total_steps = draw(st.integers(1, 60))
        config.save_every = draw(st.integers(1, 20))
    return config


@st.composite
def monotone_ops(draw) -> list[tuple]:
    """Non-decreasing steps from 0 or 1 (repeats and jumps included), per-step amounts,
    and whether a save is requested just before each update."""
    step = draw(st.integers(0, 1))
    ops = []
    for _ in range(draw(st.integers(0, 40))):
        ops.append((step, draw(amounts), draw(amounts), draw(st.integers(0, 9)) == 0))
        step += draw(st.sampled_from([0, 1, 1, 1, 2, 7]))
    return ops


# ---- decisions against the model, with a resume anywhere ---------------------------

@given(configs(), monotone_ops(), st.data())
def test_decisions_match_the_model_across_a_resume(backend, config, ops, data):
    model = Model(config)
    expected = [model.update(*op) for op in ops]
    whole = config.make()
    assert run_tracker(whole, ops, config) == expected

    cut = data.draw(st.integers(0, len(ops)), label="resume before update")
    first = config.make()
    got = run_tracker(first, ops[:cut], config)
    resumed = config.make()
    resumed.load_state_dict(first.state_dict())
    pending = Model(config)
    for op in ops[:cut]:
        pending.update(*op)
    if pending.pending:  # requests are not state: the resumed loop asks again
        resumed.request_save()
    got += run_tracker(resumed, ops[cut:], config)
    assert got == expected
    assert resumed.state_dict() == whole.state_dict()
    assert (resumed.step, resumed.last_saved) == (model.step, model.last_saved)


@given(configs(), st.lists(st.tuples(st.integers(0, 30), amounts, amounts), max_size=30),
       st.data())
def test_any_step_sequence_resumes_to_the_same_decisions(backend, config, ops, data):
    """Steps that repeat and go back (STEP_WENT_BACK) too: the state is all that matters."""
    ops = [(step, samples, tokens, False) for step, samples, tokens in ops]
    whole = config.make()
    expected = run_tracker(whole, ops, config)
    cut = data.draw(st.integers(0, len(ops)), label="resume before update")
    first = config.make()
    got = run_tracker(first, ops[:cut], config)
    state = first.state_dict()
    resumed = config.make()
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    got += run_tracker(resumed, ops[cut:], config)
    assert got == expected and resumed.state_dict() == whole.state_dict()


@given(every=st.builds(Fraction, st.integers(1, 10**6), st.integers(1, 10**4)),
       per_step=st.integers(1, 10**4),
       total_steps=st.integers(1, 200))
def test_constant_amounts_agree_with_the_schedules_unit_rule(backend, every, per_step,
                                                            total_steps):
    """With a fixed amount per step, the Tracker's crossings are the steps of the core's
    Schedule(every="<n>tok") on a Run with that many tokens per step (whose spacing in
    steps must fit in int64, hence the moderate sizes here)."""
    rule = f"{every.numerator}/{every.denominator}tok"
    schedule = Schedule(Run(max_steps=total_steps, tokens_per_step=per_step), every=rule,
                        final=False)
    tracker = Tracker(every=rule, sync=False)
    for step in range(1, total_steps + 1):
        assert bool(tracker.update(step, tokens=per_step)) == schedule.should_save(step), step


# ---- B6: step 0 and "none" are different states ----------------------------------------

def test_a_fresh_state_round_trips_as_none():
    state = Tracker(sync=False).state_dict()
    assert state == {"format": FORMAT, "step": None, "last_saved": None, "samples": 0,
                     "tokens": 0}
    resumed = Tracker(sync=False)
    resumed.load_state_dict(state)
    assert resumed.step is None and resumed.last_saved is None
    assert resumed.state_dict() == state


def test_a_save_at_step_zero_is_not_repeated_after_a_resume():
    tracker = Tracker(sync=False)
    tracker.request_save()
    assert tracker.update(0).reasons == ("request",)
    state = tracker.state_dict()
    assert (state["step"], state["last_saved"]) == (0, 0)
    resumed = Tracker(sync=False)
    resumed.load_state_dict(state)
    assert (resumed.step, resumed.last_saved) == (0, 0)
    for t in (tracker, resumed):  # uninterrupted and resumed decide alike
        t.request_save()
        assert not t.update(0)  # never twice for one step
        assert t.update(1).reasons == ("request",)  # the request stayed pending


def test_step_zero_without_a_save_round_trips():
    tracker = Tracker(sync=False)
    assert not tracker.update(0)
    resumed = Tracker(sync=False)
    resumed.load_state_dict(tracker.state_dict())
    assert (resumed.step, resumed.last_saved) == (0, None)
    resumed.request_save()
    assert resumed.update(0).reasons == ("request",)  # step 0 was not saved yet


def test_format_1_states_load_as_they_were_read_then():
    """Format 1 wrote "none" as 0: 0 still reads as none there (documented)."""
    resumed = Tracker(sync=False)
    resumed.load_state_dict({"format": FORMAT_V1, "step": 0, "last_saved": 0, "samples": 5,
                             "tokens": 7})
    assert (resumed.step, resumed.last_saved) == (None, None)
    assert resumed.state_dict()["samples"] == 5 and resumed.state_dict()["tokens"] == 7
    resumed.load_state_dict({"format": FORMAT_V1, "step": 12, "last_saved": 10, "samples": 0,
                             "tokens": 0})
    assert (resumed.step, resumed.last_saved) == (12, 10)


def test_finish_names_a_save_at_step_zero():
    tracker = Tracker(sync=False)
    tracker.request_save()
    tracker.update(0)
    tracker.update(3)
    (diag,) = tracker.finish()
    assert diag.code == "FINAL_NOT_SAVED" and diag.data["last_save"] == 0
    assert "at step 0" in diag.message and "3 step(s)" in diag.message


# ---- B7: counting past int64 ------------------------------------------------------------

def test_a_total_of_exactly_int64_max_is_no_boundary():
    tracker = Tracker(every="1e18tok", sync=False)
    amounts = [INT64_MAX - 1, 1, 10**19 - INT64_MAX, 10**18 - 1, 1]
    totals = [sum(amounts[:i]) for i in range(1, len(amounts) + 1)]
    assert totals[1] == INT64_MAX and totals[2] == 10**19
    got = [bool(tracker.update(step, tokens=n)) for step, n in enumerate(amounts, 1)]
    model = Model(Config(tokens_every=Fraction(10**18)))
    assert got == [model.update(s, 0, n, False)[1] for s, n in enumerate(amounts, 1)]
    assert got == [True, False, True, False, True]


def test_state_past_int64_loads():
    tracker = Tracker(every=["7sp", "1/3tok"], sync=False)
    tracker.update(1, samples=7 * 2**62 + 1, tokens=2**80)
    state = tracker.state_dict()
    assert (state["samples"], state["tokens"]) == (7 * 2**62 + 1, 2**80)
    resumed = Tracker(every=["7sp", "1/3tok"], sync=False)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    # the next boundary is 6 samples away
    assert not resumed.update(2, samples=5, tokens=0)
    assert resumed.update(3, samples=1, tokens=0).reasons == ("samples",)


def test_per_step_amounts_of_any_size():
    tracker = Tracker(every="1e18tok", sync=False)
    assert tracker.update(1, tokens=10**300 - 1).reasons == ("tokens",)
    assert tracker.update(2, tokens=1).reasons == ("tokens",)  # 10**300 is a boundary
    assert not tracker.update(3, tokens=10**18 - 1)
    assert tracker.update(4, tokens=10**400).reasons == ("tokens",)
    assert not tracker.update(5, tokens=0)


@pytest.mark.parametrize("tokens, error, match", [
    (-(2**70), ValueError, "tokens must be a non-negative integer"),
    (-1, ValueError, "tokens must be a non-negative integer"),
    (True, TypeError, "tokens must be an integer"),
    (1.0, TypeError, "tokens must be an integer"),
    (float(2**70), TypeError, "tokens must be an integer"),
    ("5", TypeError, "tokens must be an integer"),
])
def test_bad_amounts_name_themselves(tokens, error, match):
    with pytest.raises(error, match=match):
        Tracker(every="10tok", sync=False).update(1, tokens=tokens)


def test_steps_stay_within_int64():
    with pytest.raises(OverflowError, match="step"):
        Tracker(sync=False).update(INT64_MAX + 1)
    tracker = Tracker(sync=False)
    tracker.request_save()
    assert tracker.update(INT64_MAX)
    resumed = Tracker(sync=False)
    resumed.load_state_dict(tracker.state_dict())
    assert resumed.last_saved == INT64_MAX


# ---- load_state_dict refuses what state_dict never writes -------------------------------

GOOD = {"format": FORMAT, "step": 9, "last_saved": 4, "samples": 0, "tokens": 0}


@pytest.mark.parametrize("change, error, match", [
    (dict(format="ckptsched.Tracker/3"), ValueError, "format"),
    (dict(step=None), ValueError, r"state\['last_saved'\]=4 needs a state\['step'\] at or after it, got None"),
    (dict(last_saved=10), ValueError, r"state\['last_saved'\]=10 needs a state\['step'\]"),
    (dict(step=-1), ValueError, r"state\['step'\]"),
    (dict(step=2**63), OverflowError, r"state\['step'\]"),
    (dict(step=9.0), TypeError, r"state\['step'\] must be an integer"),
    (dict(step="9"), TypeError, r"state\['step'\] must be an integer"),
    (dict(last_saved=True), TypeError, r"state\['last_saved'\] must be an integer"),
    (dict(tokens=None), TypeError, r"state\['tokens'\] must be an integer"),
    (dict(samples=-(2**70)), ValueError, r"state\['samples'\]"),
    (dict(samples=1.5), TypeError, r"state\['samples'\]"),
])
def test_bad_states_name_the_key(change, error, match):
    with pytest.raises(error, match=match):
        Tracker(sync=False).load_state_dict({**GOOD, **change})


def test_a_refused_state_changes_nothing():
    tracker = Tracker(every="10tok", sync=False)
    tracker.update(3, tokens=25)
    before = tracker.state_dict()
    with pytest.raises(TypeError):
        tracker.load_state_dict({**GOOD, "tokens": "many"})
    assert tracker.state_dict() == before


def test_amounts_past_int64_are_never_negative_whatever_to_int_checks_first(monkeypatch):
    """The Tracker takes amounts past int64 from to_int's OverflowError; a to_int that
    checked the range before the sign must still not let a negative amount through."""
    import operator

    import ckptsched.tracker as tracker_module

    original = tracker_module.to_int

    def range_first(value, name, *, minimum=1):
        if not -(2**63) <= operator.index(value) <= INT64_MAX:
            raise OverflowError(f"{name} exceeds the int64 range")
        return original(value, name, minimum=minimum)

    monkeypatch.setattr(tracker_module, "to_int", range_first)
    tracker = Tracker(every="10tok", sync=False)
    with pytest.raises(ValueError, match="tokens must be a non-negative integer"):
        tracker.update(1, tokens=-(2**70))
    assert tracker.update(1, tokens=2**70).reasons == ("tokens",)

"""Run and Schedule are values: picklable (round trip equal, same steps), immutable
(attributes, steps array), hashable consistently with ==, and their repr shows the rules."""
import copy
import pickle
from fractions import Fraction

import numpy as np
import pytest

from ckptsched import _backend

from ckptsched import Run, Schedule

RUNS = {
    "spe-epochs": lambda: Run(steps_per_epoch=217, epochs=4),
    "float-epochs": lambda: Run(steps_per_epoch=10, epochs=2.3),
    "fraction-epochs": lambda: Run(steps_per_epoch=7, epochs=Fraction(5, 2)),
    "max_steps": lambda: Run(max_steps=800),
    "spe-max_steps": lambda: Run(steps_per_epoch=217, max_steps=500),
    "units": lambda: Run(max_steps=1000, samples_per_step=32, tokens_per_step=Fraction(8192, 3)),
    "dataset": lambda: Run.from_dataset(1736, 1, 8, 1, epochs=4, tokens_per_step=4096),
}

SCHEDULES = {
    "saves_per_epoch": (lambda: RUNS["spe-epochs"](), dict(saves_per_epoch=8)),
    "count+first": (lambda: RUNS["max_steps"](), dict(count=7, first=True)),
    "every-start-until": (lambda: RUNS["max_steps"](), dict(every=50, start=30, until=600)),
    "every-ep": (lambda: RUNS["fraction-epochs"](), dict(every="1/2ep", final=False)),
    "every-sp-tok": (lambda: RUNS["units"](), dict(every="3200sp", at=[1, 999])),
    "ratio-float": (lambda: RUNS["max_steps"](), dict(ratio=0.07)),
    "ratio-fraction": (lambda: RUNS["max_steps"](), dict(ratio=Fraction(1, 3))),
    "at-array": (lambda: RUNS["max_steps"](), dict(at=np.array([5, 0, 900, 5]))),
    "at-range": (lambda: RUNS["max_steps"](), dict(at=range(-10, 10**18, 97))),
    "min_interval": (lambda: RUNS["dataset"](), dict(saves_per_epoch=2, min_interval=150)),
    "max_gap": (lambda: RUNS["max_steps"](), dict(every=100, max_gap=150, strict=True)),
}


@pytest.fixture(params=list(RUNS), ids=list(RUNS))
def run(request, backend):
    return RUNS[request.param]()


@pytest.fixture(params=list(SCHEDULES), ids=list(SCHEDULES))
def case(request, backend):
    make_run, kwargs = SCHEDULES[request.param]
    return make_run(), kwargs


# --------------------------------------------------------------------------- Run

def test_run_pickle_round_trip(run):
    for clone in (pickle.loads(pickle.dumps(run)), copy.copy(run), copy.deepcopy(run)):
        assert clone == run and hash(clone) == hash(run)
        assert repr(clone) == repr(run)
        for attr in ("steps_per_epoch", "epochs", "max_steps", "total_steps",
                     "samples_per_step", "tokens_per_step", "num_epochs"):
            assert getattr(clone, attr) == getattr(run, attr), attr


@pytest.mark.parametrize("attr", ["steps_per_epoch", "epochs", "max_steps", "total_steps",
                                  "samples_per_step", "tokens_per_step", "new_attribute"])
def test_run_is_immutable(backend, attr):
    run = Run(steps_per_epoch=217, epochs=4)
    with pytest.raises(AttributeError):
        setattr(run, attr, 1)
    assert run.total_steps == 868 and run == Run(steps_per_epoch=217, epochs=4)


@pytest.mark.parametrize("attr", ["steps_per_epoch", "epochs", "total_steps", "new_attribute"])
def test_run_attributes_cannot_be_deleted(backend, attr):
    run = Run(steps_per_epoch=217, epochs=4)
    with pytest.raises(AttributeError):
        delattr(run, attr)
    assert run.total_steps == 868


def test_run_repr_shows_what_was_given(backend):
    assert repr(Run(steps_per_epoch=217, epochs=4)) == "Run(steps_per_epoch=217, epochs=4)"
    assert repr(Run(steps_per_epoch=10, epochs=2.3)) == "Run(steps_per_epoch=10, epochs=2.3)"
    r = repr(Run(max_steps=800, samples_per_step=32))
    assert r.startswith("Run(") and "max_steps=800" in r and "samples_per_step=32" in r
    assert "epochs" not in r and "tokens_per_step" not in r


def test_run_equality_and_hash(backend):
    a = Run(steps_per_epoch=217, epochs=4)
    assert a == Run(steps_per_epoch=217, epochs=4) and hash(a) == hash(Run(steps_per_epoch=217, epochs=4))
    same_value = Run(steps_per_epoch=217, epochs=Fraction(8, 2))
    assert a == same_value and hash(a) == hash(same_value)
    assert Run(steps_per_epoch=10, epochs=2.3) == Run(steps_per_epoch=10, epochs=Fraction(23, 10))
    assert hash(Run(steps_per_epoch=10, epochs=2.3)) == hash(Run(steps_per_epoch=10, epochs=Fraction(23, 10)))
    assert a != Run(steps_per_epoch=217, epochs=5)
    assert a != Run(steps_per_epoch=218, epochs=4)
    assert a != Run(steps_per_epoch=217, epochs=4, max_steps=868)  # same T, other request
    assert a != "Run(steps_per_epoch=217, epochs=4)"
    assert len({a, Run(steps_per_epoch=217, epochs=4), Run(max_steps=868)}) == 2


# --------------------------------------------------------------------------- Schedule

def test_schedule_pickle_round_trip(case):
    run, kwargs = case
    sched = Schedule(run, **kwargs)
    for clone in (pickle.loads(pickle.dumps(sched)), copy.copy(sched), copy.deepcopy(sched)):
        assert clone == sched and hash(clone) == hash(sched)
        assert repr(clone) == repr(sched)
        assert clone.run == sched.run
        assert clone.steps.tolist() == sched.steps.tolist()
        assert clone.steps.dtype == np.int64
        assert clone.diagnostics == sched.diagnostics
        assert [clone.should_save(s) for s in range(0, 1002)] == \
            [sched.should_save(s) for s in range(0, 1002)]


def test_schedule_pickles_across_backends(backend, backends):
    """A schedule pickled on one backend unpickles on the other with the same steps."""
    sched = Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=8, every=100)
    data = pickle.dumps(sched)
    for name in backends:
        with _backend.use(name):
            clone = pickle.loads(data)
            assert clone == sched and clone.steps.tolist() == sched.steps.tolist()


def test_schedule_is_immutable(case):
    run, kwargs = case
    sched = Schedule(run, **kwargs)
    before = sched.steps.tolist()
    for attr in ("run", "diagnostics", "steps", "last", "new_attribute"):
        with pytest.raises(AttributeError):
            setattr(sched, attr, None)
    assert sched.steps.tolist() == before


@pytest.mark.parametrize("attr", ["run", "diagnostics", "new_attribute"])
def test_schedule_attributes_cannot_be_deleted(backend, attr):
    sched = Schedule(Run(max_steps=100), every=10)
    with pytest.raises(AttributeError):
        delattr(sched, attr)
    assert sched.run == Run(max_steps=100)


def test_schedule_steps_are_read_only(case):
    run, kwargs = case
    sched = Schedule(run, **kwargs)
    steps = sched.steps
    assert not steps.flags.writeable
    if steps.size:
        with pytest.raises(ValueError):
            steps[0] = 12345
    assert sched.steps.tolist() == steps.tolist()


@pytest.mark.parametrize("kwargs", [dict(every=7), dict(every=7, min_interval=10)],
                         ids=["every", "min_interval"])
def test_schedule_steps_cannot_be_made_writeable_again(backend, kwargs):
    """Flipping the flag back must not give write access to the schedule's own steps."""
    sched = Schedule(Run(max_steps=100), **kwargs)
    before = sched.steps.tolist()
    assert before
    try:
        sched.steps.flags.writeable = True
        sched.steps[0] = 12345
    except ValueError:
        pass
    assert sched.steps.tolist() == before
    assert sched.should_save(before[0])


def test_schedule_repr_shows_the_rules(case):
    run, kwargs = case
    text = repr(Schedule(run, **kwargs))
    assert text.startswith(f"Schedule({run!r}")
    for name, value in kwargs.items():
        if isinstance(value, np.ndarray):
            value = sorted(set(value.tolist()))
        assert f"{name}={value!r}" in text, (name, text)
    for default in ("first=False", "final=True", "min_interval=0", "max_gap=None", "strict=False"):
        assert default not in text


def test_schedule_repr_of_each_rule(backend):
    run = Run(steps_per_epoch=217, epochs=4)
    assert repr(Schedule(run, saves_per_epoch=8)) == \
        "Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=8)"
    assert repr(Schedule(run, every="2ep", first=True)) == \
        "Schedule(Run(steps_per_epoch=217, epochs=4), every='2ep', first=True)"
    assert repr(Schedule(run)) == "Schedule(Run(steps_per_epoch=217, epochs=4))"


def test_schedule_equality_and_hash(backend):
    run = Run(steps_per_epoch=217, epochs=4)
    a = Schedule(run, saves_per_epoch=8)
    b = Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=8)
    assert a == b and hash(a) == hash(b)
    assert a != Schedule(run, saves_per_epoch=4)
    assert a != Schedule(Run(steps_per_epoch=217, epochs=5), saves_per_epoch=8)
    assert a != Schedule(run, saves_per_epoch=8, first=True)
    assert a != run
    assert len({a, b, Schedule(run, saves_per_epoch=4)}) == 2


@pytest.mark.parametrize("left, right", [
    (dict(every=np.int64(5)), dict(every=5)),
    (dict(count=np.int32(7)), dict(count=7)),
    (dict(ratio=0.5), dict(ratio=Fraction(1, 2))),
    (dict(at=[5, 10]), dict(at=(10, 5))),
    (dict(at=np.array([5, 10])), dict(at=[5, 10])),
], ids=["every-np.int64", "count-np.int32", "ratio-float-vs-Fraction", "at-order", "at-array"])
def test_equal_schedules_hash_equal(backend, left, right):
    """The hash contract: whenever a == b, hash(a) == hash(b)."""
    run = Run(max_steps=100)
    a, b = Schedule(run, **left), Schedule(run, **right)
    assert a.steps.tolist() == b.steps.tolist()
    if a == b:
        assert hash(a) == hash(b), (repr(a), repr(b))


@pytest.mark.parametrize("at", [[10**5000, -3, 5], range(-10**5000, 10**5000, 3)],
                         ids=["list", "range"])
def test_schedule_repr_is_exact_for_ints_too_long_to_print(backend, at):
    """Steps too long for str() are written in hex: the repr stays exact (it is the record
    integrations compare on resume) and evaluates back to an equal schedule."""
    sched = Schedule(Run(max_steps=100), at=at)
    text = repr(sched)
    assert hex(10**5000) in text
    assert eval(text, {"Schedule": Schedule, "Run": Run}) == sched
    clone = pickle.loads(pickle.dumps(sched))
    assert clone == sched and clone.steps.tolist() == sched.steps.tolist()
    assert repr(clone) == text


def test_run_and_schedule_attributes_are_read_only_properties(backend):
    """The public attributes are properties (type checkers reject assignments too)."""
    for cls, names in ((Run, ("steps_per_epoch", "epochs", "max_steps", "total_steps",
                              "samples_per_step", "tokens_per_step", "num_epochs")),
                       (Schedule, ("run", "diagnostics", "steps", "last"))):
        for name in names:
            attribute = getattr(cls, name)
            assert isinstance(attribute, property) and attribute.fset is None, name
            assert attribute.__doc__, name

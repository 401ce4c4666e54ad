"""Bad input, one table: every public argument of Run, Run.from_dataset, Schedule and the
queries, with 0, negatives, NaN, inf, bools, strings, floats where an integer is needed,
values past int64 and wrong arrays.

docs/semantics.md: bad input raises TypeError / ValueError / OverflowError naming the argument and
the value -- the same exception with the same message on both backends.
"""
import math
from fractions import Fraction

import numpy as np
import pytest

from ckptsched import _backend

from ckptsched import Run, Schedule

NAN, INF = math.nan, math.inf
BIG = 2**63  # one past int64
HUGE = 10**5000  # past Python's 4300-digit str() limit: messages abbreviate it
HUGE_SHOWN = "<int of about 5001 digits>"


def run100():
    return Run(steps_per_epoch=100, epochs=2)


def sched(**kwargs):
    return lambda: Schedule(run100(), **kwargs)


def query(method, *args):
    return lambda: getattr(Schedule(run100(), every=10), method)(*args)


def dataset(**kwargs):
    args = dict(num_examples=1000, micro_batch_size=4, grad_accum=2, world_size=2, epochs=1)
    args.update(kwargs)
    return lambda: Run.from_dataset(**args)


# (id, call, exception type, words the message must contain: the argument, the value)
ROWS = [
    # ---- Run
    ("spe=0", lambda: Run(steps_per_epoch=0, epochs=1), ValueError, ["steps_per_epoch", "0"]),
    ("spe<0", lambda: Run(steps_per_epoch=-3, epochs=1), ValueError, ["steps_per_epoch", "-3"]),
    ("spe=bool", lambda: Run(steps_per_epoch=True, epochs=1), TypeError, ["steps_per_epoch", "True"]),
    ("spe=float", lambda: Run(steps_per_epoch=100.0, epochs=1), TypeError, ["steps_per_epoch", "100.0"]),
    ("spe=nan", lambda: Run(steps_per_epoch=NAN, epochs=1), TypeError, ["steps_per_epoch", "nan"]),
    ("spe=str", lambda: Run(steps_per_epoch="100", epochs=1), TypeError, ["steps_per_epoch", "'100'"]),
    ("spe=np.float", lambda: Run(steps_per_epoch=np.float64(5), epochs=1), TypeError, ["steps_per_epoch"]),
    ("spe>int64", lambda: Run(steps_per_epoch=BIG, epochs=1), OverflowError, ["steps_per_epoch", str(BIG)]),
    ("epochs=0", lambda: Run(steps_per_epoch=10, epochs=0), ValueError, ["epochs", "0"]),
    ("epochs<0", lambda: Run(steps_per_epoch=10, epochs=-1.5), ValueError, ["epochs", "-1.5"]),
    ("epochs=nan", lambda: Run(steps_per_epoch=10, epochs=NAN), ValueError, ["epochs", "nan"]),
    ("epochs=inf", lambda: Run(steps_per_epoch=10, epochs=INF), ValueError, ["epochs", "inf"]),
    ("epochs=bool", lambda: Run(steps_per_epoch=10, epochs=True), TypeError, ["epochs", "True"]),
    ("epochs=str", lambda: Run(steps_per_epoch=10, epochs="2.3"), TypeError, ["epochs", "'2.3'"]),
    ("epochs=list", lambda: Run(steps_per_epoch=10, epochs=[2]), TypeError, ["epochs", "[2]"]),
    ("epochs>int64", lambda: Run(steps_per_epoch=10, epochs=BIG), OverflowError, ["epochs", str(BIG)]),
    ("epochs=tiny", lambda: Run(steps_per_epoch=10, epochs=1e-30), OverflowError, ["epochs", "1e-30"]),
    ("epochs*spe>int64", lambda: Run(steps_per_epoch=2**62, epochs=4), OverflowError,
     ["steps_per_epoch", "epochs", str(2**62), "4"]),
    ("epochs missing", lambda: Run(steps_per_epoch=10), ValueError, ["epochs", "max_steps"]),
    ("nothing", lambda: Run(), ValueError, ["max_steps", "steps_per_epoch", "epochs"]),
    ("max_steps=0", lambda: Run(max_steps=0), ValueError, ["max_steps", "0"]),
    ("max_steps<0", lambda: Run(max_steps=-7), ValueError, ["max_steps", "-7"]),
    ("max_steps=float", lambda: Run(max_steps=1.5), TypeError, ["max_steps", "1.5"]),
    ("max_steps=inf", lambda: Run(max_steps=INF), TypeError, ["max_steps", "inf"]),
    ("max_steps=bool", lambda: Run(max_steps=False), TypeError, ["max_steps", "False"]),
    ("max_steps=str", lambda: Run(max_steps="800"), TypeError, ["max_steps", "'800'"]),
    ("max_steps>int64", lambda: Run(max_steps=BIG), OverflowError, ["max_steps", str(BIG)]),
    ("max_steps=huge", lambda: Run(max_steps=HUGE), OverflowError, ["max_steps", HUGE_SHOWN]),
    ("spe=huge", lambda: Run(HUGE, 2), OverflowError, ["steps_per_epoch", HUGE_SHOWN]),
    ("epochs=huge", lambda: Run(10, HUGE), OverflowError, ["epochs", HUGE_SHOWN]),
    ("epochs=-huge", lambda: Run(10, -HUGE), ValueError, ["epochs", "-" + HUGE_SHOWN[1:]]),
    ("sps=huge", lambda: Run(max_steps=10, samples_per_step=HUGE), OverflowError,
     ["samples_per_step", HUGE_SHOWN]),
    ("sps=0", lambda: Run(max_steps=10, samples_per_step=0), ValueError, ["samples_per_step", "0"]),
    ("sps=nan", lambda: Run(max_steps=10, samples_per_step=NAN), ValueError, ["samples_per_step", "nan"]),
    ("sps=str", lambda: Run(max_steps=10, samples_per_step="32"), TypeError, ["samples_per_step", "'32'"]),
    ("sps=bool", lambda: Run(max_steps=10, samples_per_step=True), TypeError, ["samples_per_step", "True"]),
    ("sps>int64", lambda: Run(max_steps=10, samples_per_step=BIG), OverflowError, ["samples_per_step"]),
    ("tps<0", lambda: Run(max_steps=10, tokens_per_step=-1), ValueError, ["tokens_per_step", "-1"]),
    ("tps=inf", lambda: Run(max_steps=10, tokens_per_step=INF), ValueError, ["tokens_per_step", "inf"]),
    ("tps=str", lambda: Run(max_steps=10, tokens_per_step="4k"), TypeError, ["tokens_per_step", "'4k'"]),
    ("locate(0)", lambda: run100().locate(0), ValueError, ["step", "0"]),
    ("locate(float)", lambda: run100().locate(3.0), TypeError, ["step", "3.0"]),
    # ---- Run.from_dataset
    ("N=0", dataset(num_examples=0), ValueError, ["num_examples", "0"]),
    ("N=float", dataset(num_examples=1000.0), TypeError, ["num_examples", "1000.0"]),
    ("N=bool", dataset(num_examples=True), TypeError, ["num_examples", "True"]),
    ("N=str", dataset(num_examples="1000"), TypeError, ["num_examples", "'1000'"]),
    ("N>int64", dataset(num_examples=BIG), OverflowError, ["num_examples", str(BIG)]),
    ("N=huge", dataset(num_examples=HUGE), OverflowError, ["num_examples", HUGE_SHOWN]),
    ("b=0", dataset(micro_batch_size=0), ValueError, ["micro_batch_size", "0"]),
    ("b=nan", dataset(micro_batch_size=NAN), TypeError, ["micro_batch_size", "nan"]),
    ("g<0", dataset(grad_accum=-2), ValueError, ["grad_accum", "-2"]),
    ("g=float", dataset(grad_accum=2.0), TypeError, ["grad_accum", "2.0"]),
    ("w=0", dataset(world_size=0), ValueError, ["world_size", "0"]),
    ("w=bool", dataset(world_size=True), TypeError, ["world_size", "True"]),
    ("ds epochs=0", dataset(epochs=0), ValueError, ["epochs", "0"]),
    ("ds epochs=nan", dataset(epochs=NAN), ValueError, ["epochs", "nan"]),
    ("ds max_steps=0", dataset(max_steps=0), ValueError, ["max_steps", "0"]),
    ("ds no epochs", dataset(epochs=None), ValueError, ["epochs"]),
    ("drop_last=1", dataset(drop_last=1), TypeError, ["drop_last", "1"]),
    ("drop_last=str", dataset(drop_last="yes"), TypeError, ["drop_last", "'yes'"]),
    ("partial=bogus", dataset(partial_accumulation="bogus"), ValueError,
     ["partial_accumulation", "'bogus'"]),
    ("partial=None", dataset(partial_accumulation=None), (TypeError, ValueError),
     ["partial_accumulation", "None"]),
    ("S=0", dataset(num_examples=4, micro_batch_size=1, grad_accum=8, world_size=1,
                    drop_last=True, partial_accumulation="drop"), ValueError,
     ["num_examples", "grad_accum", "4", "8"]),
    ("b*g*w>int64", dataset(num_examples=10, micro_batch_size=2**62, grad_accum=4), OverflowError,
     ["micro_batch_size", "grad_accum", "world_size"]),
    ("ds tps=0", dataset(tokens_per_step=0), ValueError, ["tokens_per_step", "0"]),
    # ---- Schedule
    ("run=None", lambda: Schedule(None, every=5), TypeError, ["run", "None"]),
    ("run=int", lambda: Schedule(100, every=5), TypeError, ["run", "int"]),
    ("saves_per_epoch=0", sched(saves_per_epoch=0), ValueError, ["saves_per_epoch", "0"]),
    ("saves_per_epoch<0", sched(saves_per_epoch=-1), ValueError, ["saves_per_epoch", "-1"]),
    ("saves_per_epoch=float", sched(saves_per_epoch=8.0), TypeError, ["saves_per_epoch", "8.0"]),
    ("saves_per_epoch=bool", sched(saves_per_epoch=True), TypeError, ["saves_per_epoch", "True"]),
    ("saves_per_epoch=str", sched(saves_per_epoch="8"), TypeError, ["saves_per_epoch", "'8'"]),
    ("saves_per_epoch>int64", sched(saves_per_epoch=BIG), OverflowError, ["saves_per_epoch", str(BIG)]),
    ("saves_per_epoch no S", lambda: Schedule(Run(max_steps=100), saves_per_epoch=4), ValueError,
     ["saves_per_epoch", "steps_per_epoch"]),
    ("count=0", sched(count=0), ValueError, ["count", "0"]),
    ("count=nan", sched(count=NAN), TypeError, ["count", "nan"]),
    ("count=str", sched(count="4"), TypeError, ["count", "'4'"]),
    ("count>int64", sched(count=BIG), OverflowError, ["count", str(BIG)]),
    ("every=0", sched(every=0), ValueError, ["every", "0"]),
    ("every<0", sched(every=-5), ValueError, ["every", "-5"]),
    ("every=float", sched(every=2.5), TypeError, ["every", "2.5"]),
    ("every=nan", sched(every=NAN), TypeError, ["every", "nan"]),
    ("every=bool", sched(every=True), TypeError, ["every", "True"]),
    ("every=list", sched(every=[5]), TypeError, ["every", "[5]"]),
    ("every=garbage", sched(every="abc"), ValueError, ["every", "'abc'"]),
    ("every=unit?", sched(every="5 parsecs"), ValueError, ["every", "'5 parsecs'"]),
    ("every=1.5 steps", sched(every="1.5"), ValueError, ["every", "'1.5'"]),
    ("every=0ep", sched(every="0ep"), ValueError, ["every", "'0ep'"]),
    ("every=-2ep", sched(every="-2ep"), ValueError, ["every", "'-2ep'"]),
    ("every=1/0ep", sched(every="1/0ep"), ValueError, ["every", "'1/0ep'"]),
    ("every=1e30", sched(every="1e30"), OverflowError, ["every", "'1e30'"]),
    ("every>int64", sched(every=BIG), OverflowError, ["every", str(BIG)]),
    ("every=huge", sched(every=HUGE), OverflowError, ["every", HUGE_SHOWN]),
    # a spacing within the run (10.000...01 steps) whose terms exceed int64
    ("every=exact beyond int64", sched(every=f"{10**25 + 1}/{10**26}ep"), OverflowError,
     ["every", "int64", str(10**25 + 1)]),
    ("every=ep no S", lambda: Schedule(Run(max_steps=100), every="2ep"), ValueError,
     ["every", "'2ep'", "steps_per_epoch"]),
    ("every=sp no sps", sched(every="10sp"), ValueError, ["every", "'10sp'", "samples_per_step"]),
    ("every=tok no tps", sched(every="1e9tok"), ValueError, ["every", "'1e9tok'", "tokens_per_step"]),
    ("start=0", sched(every=5, start=0), ValueError, ["start", "0"]),
    ("start=float", sched(every=5, start=1.5), TypeError, ["start", "1.5"]),
    ("start>int64", sched(every=5, start=BIG), OverflowError, ["start", str(BIG)]),
    ("start no every", sched(start=5), ValueError, ["start", "every", "5"]),
    ("start with ep", sched(every="1ep", start=5), ValueError, ["start", "5"]),
    ("until=0", sched(every=5, until=0), ValueError, ["until", "0"]),
    ("until=str", sched(every=5, until="9"), TypeError, ["until", "'9'"]),
    ("until no every", sched(until=50), ValueError, ["until", "every", "50"]),
    ("until<start", sched(every=5, start=20, until=10), ValueError, ["until", "10", "20"]),
    ("ratio=0", sched(ratio=0), ValueError, ["ratio", "0"]),
    ("ratio=1", sched(ratio=1), ValueError, ["ratio", "1"]),
    ("ratio>1", sched(ratio=1.5), ValueError, ["ratio", "1.5"]),
    ("ratio<0", sched(ratio=-0.1), ValueError, ["ratio", "-0.1"]),
    ("ratio=nan", sched(ratio=NAN), ValueError, ["ratio", "nan"]),
    ("ratio=inf", sched(ratio=INF), ValueError, ["ratio", "inf"]),
    ("ratio=str", sched(ratio="0.1"), TypeError, ["ratio", "'0.1'"]),
    ("ratio=bool", sched(ratio=True), TypeError, ["ratio", "True"]),
    ("ratio=tiny", sched(ratio=1e-300), OverflowError, ["ratio", "1e-300"]),
    ("ratio=Fraction>int64", sched(ratio=Fraction(1, BIG)), OverflowError, ["ratio"]),
    ("at=int", sched(at=5), TypeError, ["at", "5"]),
    ("at=str", sched(at="5"), TypeError, ["at", "'5'"]),
    ("at=dict", sched(at={5: 1}), TypeError, ["at"]),
    ("at=[float]", sched(at=[10, 1.0]), TypeError, ["at[1]", "1.0"]),
    ("at=[nan]", sched(at=[NAN]), TypeError, ["at[0]", "nan"]),
    ("at=[bool]", sched(at=[True]), TypeError, ["at[0]", "True"]),
    ("at=[str]", sched(at=["7"]), TypeError, ["at[0]", "'7'"]),
    ("at=[str, huge]", sched(at=[HUGE, "7"]), TypeError, ["at[1]", "'7'"]),
    ("at=generator of floats", lambda: Schedule(run100(), at=(x / 2 for x in range(1, 3))), TypeError,
     ["at[0]", "0.5"]),
    ("at=2-D", sched(at=np.array([[1, 2], [3, 4]])), ValueError, ["at", "(2, 2)"]),
    ("at=0-D", sched(at=np.array(5)), ValueError, ["at", "()"]),
    ("at=float array", sched(at=np.array([1.0, 2.0])), TypeError, ["at", "float64"]),
    ("at=bool array", sched(at=np.array([True])), TypeError, ["at", "bool"]),
    ("at=str array", sched(at=np.array(["1"])), TypeError, ["at"]),
    ("at=object array", sched(at=np.array([1, None], dtype=object)), TypeError, ["at", "object"]),
    ("first=1", sched(first=1), TypeError, ["first", "1"]),
    ("first=None", sched(first=None), TypeError, ["first", "None"]),
    ("final=0", sched(final=0), TypeError, ["final", "0"]),
    ("final=str", sched(final="False"), TypeError, ["final", "'False'"]),
    ("min_interval<0", sched(every=5, min_interval=-1), ValueError, ["min_interval", "-1"]),
    ("min_interval=float", sched(every=5, min_interval=2.5), TypeError, ["min_interval", "2.5"]),
    ("min_interval=None", sched(every=5, min_interval=None), TypeError, ["min_interval", "None"]),
    ("min_interval>int64", sched(every=5, min_interval=BIG), OverflowError, ["min_interval", str(BIG)]),
    ("max_gap=0", sched(every=5, max_gap=0), ValueError, ["max_gap", "0"]),
    ("max_gap=float", sched(every=5, max_gap=2.5), TypeError, ["max_gap", "2.5"]),
    ("max_gap>int64", sched(every=5, max_gap=BIG), OverflowError, ["max_gap", str(BIG)]),
    ("max_gap=huge", sched(every=5, max_gap=HUGE), OverflowError, ["max_gap", HUGE_SHOWN]),
    ("strict=1", sched(every=5, strict=1), TypeError, ["strict", "1"]),
    ("strict=str", sched(every=5, strict="yes"), TypeError, ["strict", "'yes'"]),
    # ---- queries
    ("should_save(-1)", query("should_save", -1), ValueError, ["step", "-1"]),
    ("should_save(-2**70)", query("should_save", -(2**70)), ValueError, ["step"]),
    ("should_save(-huge)", query("should_save", -HUGE), ValueError, ["step", "-int of about"]),
    ("next_after(-huge)", query("next_after", -HUGE), ValueError, ["step", "-int of about"]),
    ("due(prev=-huge)", query("due", -HUGE, 5), ValueError, ["prev", "-int of about"]),
    ("due(prev=huge)", query("due", HUGE, 5), ValueError, ["prev", HUGE_SHOWN, "5"]),
    ("locate(huge)", lambda: run100().locate(HUGE), OverflowError, ["step", HUGE_SHOWN]),
    ("should_save(float)", query("should_save", 10.0), TypeError, ["step", "10.0"]),
    ("should_save(nan)", query("should_save", NAN), TypeError, ["step", "nan"]),
    ("should_save(bool)", query("should_save", True), TypeError, ["step", "True"]),
    ("should_save(np.bool)", query("should_save", np.bool_(True)), TypeError, ["step", "True"]),
    ("should_save(str)", query("should_save", "10"), TypeError, ["step", "'10'"]),
    ("should_save(None)", query("should_save", None), TypeError, ["step", "None"]),
    ("in(-1)", lambda: -1 in Schedule(run100(), every=10), ValueError, ["step", "-1"]),
    ("next_after(-1)", query("next_after", -1), ValueError, ["step", "-1"]),
    ("next_after(float)", query("next_after", np.float64(3)), TypeError, ["step", "3.0"]),
    ("next_after(str)", query("next_after", "3"), TypeError, ["step", "'3'"]),
    ("due(prev<0)", query("due", -1, 5), ValueError, ["prev", "-1"]),
    ("due(step<0)", query("due", 1, -5), ValueError, ["step", "-5"]),
    ("due(prev>step)", query("due", 5, 3), ValueError, ["prev", "step", "5", "3"]),
    ("due(prev=float)", query("due", 1.0, 2), TypeError, ["prev", "1.0"]),
    ("due(step=str)", query("due", 1, "2"), TypeError, ["step", "'2'"]),
    ("due(prev=bool)", query("due", False, 2), TypeError, ["prev", "False"]),
]


@pytest.mark.parametrize("call, exc, words", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input(backends, call, exc, words):
    raised = {}
    for name in backends:
        with _backend.use(name):
            with pytest.raises(Exception) as info:
                call()
        raised[name] = (type(info.value), str(info.value))
    kind, message = next(iter(raised.values()))
    assert all(r == (kind, message) for r in raised.values()), raised  # same on both backends
    assert issubclass(kind, exc), (kind, message)
    for word in words:
        assert word in message, (word, message)

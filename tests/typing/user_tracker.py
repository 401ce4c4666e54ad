"""A user's training loop around ckptsched.Tracker, written to be checked with
`mypy --strict tests/typing/user_tracker.py`: every public name of the Tracker's API is used
as a user would, and what it returns has a real type (never Any).  It also runs, without
torch: `PYTHONPATH=. python tests/typing/user_tracker.py` from the repository root."""
from __future__ import annotations

import json
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Optional, TypeVar

from ckptsched import Diagnostic, Run, Schedule, Tracker
from ckptsched.tracker import Decision, TrackerState

if sys.version_info >= (3, 11):
    from typing import assert_type  # mypy: an error when the value's type is Any or another
else:
    _T = TypeVar("_T")

    def assert_type(value: _T, expected: object) -> _T:
        return value


class Clock:
    """A clock the loop controls (seconds as a float)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def agree(vote: int) -> int:
    """A one-rank `sync`: the agreed vote is this rank's vote."""
    return vote


def train(tokens_per_step: list[int], resume_from: TrackerState | None = None) -> list[int]:
    """Train over the given steps; return the steps saved."""
    clock = Clock()
    schedule = Schedule(Run(max_steps=len(tokens_per_step)), every=4)
    tracker = Tracker(schedule, every=["5000tok", "64sp"], every_seconds=Fraction(90, 1),
                      sync=agree, rank=0, clock=clock, handle_sigterm=True, strict=False)
    if resume_from is not None:
        tracker.load_state_dict(resume_from)
    start = (tracker.step or 0) + 1
    saved: list[int] = []
    with tracker as entered:
        assert_type(entered, Tracker)
        for step in range(start, len(tokens_per_step) + 1):
            clock.now += 10.0
            if step == 3:
                tracker.request_save()
            decision = tracker.update(step, samples=8, tokens=tokens_per_step[step - 1])
            assert_type(decision, Decision)
            assert_type(decision.save, bool)
            if decision:
                print(f"step {assert_type(decision.step, int)}: save "
                      f"({', '.join(assert_type(decision.reasons, tuple[str, ...]))})")
                state = assert_type(tracker.state_dict(), TrackerState)
                saved.append(assert_type(state["last_saved"], Optional[int]) or 0)
            if assert_type(decision.stop, bool) or assert_type(tracker.stopped, bool):
                break
    last = assert_type(tracker.last_saved, Optional[int])
    assert last is None or last in saved
    return saved


def main() -> None:
    tokens = [1200, 3100, 900, 2048, 0, 4096, 777, 1500]
    whole = train(tokens)

    first = Tracker(every="5000tok", sync=False)
    for step, n in enumerate(tokens[:5], 1):
        first.update(step, tokens=n)
    state = first.state_dict()
    text = json.dumps(state)  # plain values: any checkpoint format will do
    restored = Tracker(every="5000tok", sync=False, every_seconds=Decimal("1800"))
    restored.load_state_dict(json.loads(text))
    assert assert_type(restored.step, Optional[int]) == 5
    assert assert_type(restored.state_dict()["tokens"], int) == sum(tokens[:5])
    assert assert_type(state["format"], str) == "ckptsched.Tracker/2"

    quiet = Tracker(every_seconds=3600.0, sync=False)
    quiet.update(1)
    quiet.request_save(stop=True)
    stopped = quiet.update(2).stop
    diagnostics = (assert_type(quiet.finish(3), tuple[Diagnostic, ...])
                   + assert_type(quiet.diagnostics, tuple[Diagnostic, ...]))
    codes = sorted({d.code for d in diagnostics})
    quiet.close()
    print(whole, stopped, codes, repr(restored))


if __name__ == "__main__":
    main()

"""A user's script over the core public API: `mypy --strict` must accept it with no error
(tests/test_typing.py).  `assert_type` pins the precise types (never Any).  Never run."""
from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any, Iterator, Mapping, Optional, Tuple

import numpy as np
import numpy.typing as npt
from typing_extensions import assert_type

import ckptsched
from ckptsched import CODES, Diagnostic, Run, Schedule, ScheduleError

log = logging.getLogger(__name__)

# ---- runs
run = Run(steps_per_epoch=217, epochs=4)
run_rational = Run(100, Fraction(5, 2), samples_per_step=32, tokens_per_step=2.5)
run_float = Run(10, 2.3)
run_numpy = Run(np.int64(10), np.float32(2.3), max_steps=np.int32(20))
run_steps = Run(max_steps=10_000, tokens_per_step=4096)
data_run = Run.from_dataset(1736, 1, grad_accum=8, world_size=1, epochs=4, drop_last=False,
                            partial_accumulation="step", tokens_per_step=4096)

assert_type(run.total_steps, int)
assert_type(run.steps_per_epoch, Optional[int])
assert_type(run.epochs, Optional[Fraction])
assert_type(run.max_steps, Optional[int])
assert_type(run_rational.samples_per_step, Optional[Fraction])
assert_type(run_steps.tokens_per_step, Optional[Fraction])
assert_type(run.num_epochs, Optional[int])
assert_type(run.locate(300), Tuple[int, int])
assert_type(data_run, Run)
if run.steps_per_epoch is not None:
    whole_epochs: int = run.total_steps // run.steps_per_epoch

# ---- schedules, one rule each, then all together
schedules = [
    Schedule(run, saves_per_epoch=8),
    Schedule(run, count=10, first=True),
    Schedule(run, every=100, start=50, until=800),
    Schedule(run, every="2ep"),
    Schedule(run_steps, every="1e6tok"),
    Schedule(run, ratio=0.07),
    Schedule(run, ratio=Fraction(1, 3)),
    Schedule(run, at=[5, 10, 2000]),
    Schedule(run, at=range(0, 10**18, 100)),
    Schedule(run, at=np.array([5, 6], dtype=np.int64)),
    Schedule(run, at=(s * s for s in range(20))),
    Schedule(run, saves_per_epoch=2, final=False, min_interval=50, max_gap=500),
    Schedule(run, saves_per_epoch=np.int64(4), count=3, every=7, strict=False),
]
sched: Schedule = schedules[0]

# ---- queries
assert_type(sched.should_save(217), bool)
assert_type(sched.should_save(np.int64(217)), bool)
assert_type(sched.due(200, 230), bool)
following = sched.next_after(217)
assert_type(following, Optional[int])
if following is not None:
    gap: int = following - 217
assert_type(sched.steps, npt.NDArray[np.int64])
first_step: int = int(sched.steps[0])
assert_type(sched.last, Optional[int])
assert_type(len(sched), int)
present: bool = 434 in sched
assert_type(iter(sched), Iterator[int])
in_order: list[int] = [step for step in sched]
assert_type(sched.run, Run)
same: bool = sched == schedules[0] and hash(sched) == hash(schedules[0])
text: str = repr(sched) + repr(run)

# ---- diagnostics
assert_type(sched.diagnostics, Tuple[Diagnostic, ...])
for diagnostic in sched.diagnostics:
    assert_type(diagnostic.code, str)
    severity: str = diagnostic.severity
    assert_type(diagnostic.message, str)
    assert_type(diagnostic.data, Mapping[str, Any])
    log.info("%s %s %s %s", diagnostic.code, severity, dict(diagnostic.data), str(diagnostic))
known: bool = all(d.code in CODES for d in sched.diagnostics)
severity_of: Mapping[str, str] = CODES

try:
    Schedule(Run(max_steps=100), every=1000, final=False, strict=True)
except ScheduleError as error:
    assert_type(error.diagnostics, Tuple[Diagnostic, ...])
    as_value_error: ValueError = error

# ---- the package
assert_type(ckptsched.backend(), str)
assert_type(ckptsched.BACKEND, str)
assert_type(ckptsched.__version__, str)

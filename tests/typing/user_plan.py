"""A user's script around ckptsched.Plan and Retention, written to be checked with
`mypy --strict tests/typing/user_plan.py`: every public name of the Plan / Retention API is
used as a user would, and what it returns has a real type (never Any).  It also runs:
`PYTHONPATH=. python tests/typing/user_plan.py` from the repository root."""
from __future__ import annotations

import pickle
import sys
from typing import Optional, TypeVar

import numpy as np
import numpy.typing as npt

from ckptsched import Diagnostic, Plan, Retention, Run, Schedule, ScheduleError
from ckptsched.plan import Peak, Timeline

if sys.version_info >= (3, 11):
    from typing import assert_type  # mypy: an error when the value's type is Any or another
else:
    _T = TypeVar("_T")

    def assert_type(value: _T, expected: object) -> _T:
        return value

Steps = npt.NDArray[np.int64]


def preview(plan: Plan) -> list[str]:
    """What a CLI would print: one line per save, and the peak."""
    timeline = assert_type(plan.timeline, Timeline)
    lines = []
    for step, during, after in zip(assert_type(timeline.step, Steps).tolist(),
                                   assert_type(timeline.during, Steps).tolist(),
                                   assert_type(timeline.after, Steps).tolist()):
        lines.append(f"save {step}: {during} on disk while writing, {after} after deleting")
    if timeline.after_bytes is not None and timeline.during_bytes is not None:
        lines.append(f"at most {int(timeline.during_bytes.max())} bytes")
    peak = assert_type(plan.peak, Peak)
    count: int = peak.count
    size: Optional[int] = peak.bytes
    at: Optional[int] = peak.step
    lines.append(f"peak {count} checkpoints ({size} bytes) at step {at}; {len(timeline)} saves")
    return lines


def main() -> None:
    run = Run.from_dataset(num_examples=12345, micro_batch_size=4, grad_accum=8, world_size=2,
                           epochs=3)
    keep = Retention(keep_last=2, keep_every=dict(every=100), keep_best=None)
    assert_type(keep, Retention)
    plan = Plan(run, save=dict(saves_per_epoch=5), eval=dict(every=100), log=dict(every=10),
                keep=keep, checkpoint_bytes=16e9, disk_budget=80e9)
    save: Optional[Schedule] = plan.save
    evals: Optional[Schedule] = plan.eval
    logs: Optional[Schedule] = plan.log
    assert save is not None and evals is not None and logs is not None
    on_disk = assert_type(plan.on_disk_after(386), Steps)
    survivors = assert_type(plan.survivors, Steps)
    diagnostics = assert_type(plan.diagnostics, tuple[Diagnostic, ...])
    codes = [d.code for d in diagnostics]
    print(on_disk.tolist(), survivors.tolist(), codes)
    print("\n".join(preview(plan)))

    # the other forms of the arguments
    fixed = Plan(run, save="at_evals", eval=Schedule(run, every=100),
                 keep=Retention(keep_last=1, keep_every="1ep", keep_best=1),
                 checkpoint_bytes=2_000_000_000, load_best_model_at_end=True, strict=False)
    assert fixed.load_best_model_at_end and not fixed.strict
    size: Optional[int] = fixed.checkpoint_bytes
    budget: Optional[int] = fixed.disk_budget
    print(size, budget, Plan(run, keep=Retention(keep_every=1000)).keep.keep_every)
    try:
        Plan(run, save=dict(count=4), eval=dict(count=3), load_best_model_at_end=True,
             strict=True)
    except ScheduleError as error:
        print([d.code for d in error.diagnostics])

    # the runtime side: which checkpoints to delete after each save, on every rank
    bound = assert_type(fixed.keep, Retention)
    also_bound = assert_type(Retention(keep_every="1ep").bind(run), Retention)
    last: Optional[int] = bound.keep_last
    best: Optional[int] = bound.keep_best
    bound_run: Optional[Run] = bound.run
    keep_schedule: Optional[Schedule] = also_bound.keep_schedule
    keep_steps = assert_type(also_bound.keep_steps, Steps)
    print(last, best, bound_run, keep_schedule, keep_steps.tolist(),
          also_bound.with_keep_best(2), also_bound.keep_diagnostics())
    on_disk_now: list[int] = []
    metrics: dict[int, float] = {}
    for step in assert_type(fixed.save, Optional[Schedule]) or ():
        on_disk_now.append(step)
        metrics[step] = 1.0 / step
        gone = assert_type(bound.to_delete(on_disk_now, metrics=metrics,
                                           greater_is_better=False), Steps)
        kept = assert_type(bound.kept(np.array(on_disk_now), metrics=metrics), Steps)
        on_disk_now = [s for s in on_disk_now if s not in set(gone.tolist())]
        assert on_disk_now == kept.tolist()
    print(on_disk_now)
    assert pickle.loads(pickle.dumps(plan)) == plan and hash(plan) == hash(plan)
    assert pickle.loads(pickle.dumps(bound)) == bound
    print(repr(plan), repr(bound))


if __name__ == "__main__":
    main()

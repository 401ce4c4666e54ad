"""Framework integrations: transformers, Lightning, Axolotl configs.

    from ckptsched.integrations.transformers import ScheduleCallback   # needs transformers
    from ckptsched.integrations.lightning import ScheduleCheckpoint    # needs lightning
    from ckptsched.integrations.axolotl import schedules_from_config   # PyYAML for .yaml paths

Importing this package imports no framework: each submodule imports its own framework
when it is imported itself.  What they share lives here: how a rule is given (a dict of
Schedule arguments, a Schedule factory, or a ready Schedule) and how it becomes a
Schedule once the framework knows the run's real geometry.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Callable, Optional, Tuple, Union

from ..retention import Retention
from ..run import Run
from ..schedule import Schedule

__all__ = ["SCHEDULE_ARGUMENTS", "ScheduleSpec", "build_schedule", "check_spec", "describe",
           "optimizer_steps_per_epoch", "schedule_on_run", "check_unbound_retention"]

#: How an integration takes a rule: a mapping of Schedule arguments, a factory
#: `run -> Schedule` (called once the framework knows the run), or a ready Schedule.
ScheduleSpec = Union[Mapping[str, Any], Callable[[Run], Schedule], Schedule]

#: The keyword arguments a dict rule may hold: those of `Schedule` after `run`.
SCHEDULE_ARGUMENTS: Tuple[str, ...] = tuple(name for name in inspect.signature(Schedule).parameters
                                            if name != "run")


def check_spec(spec: Optional[ScheduleSpec], name: str) -> Optional[ScheduleSpec]:
    """Validate a rule as given by the user, before the run is known.

    `spec` is None (this decision is left to the framework), a mapping of Schedule
    arguments, a callable `factory(run) -> Schedule`, or a Schedule.  Returns a copy of a
    mapping, or `spec` itself.  TypeError names `name` and what is wrong.
    """
    if spec is None or isinstance(spec, Schedule):
        return spec
    if isinstance(spec, Mapping):
        keys = list(spec)
        bad = [k for k in keys if not isinstance(k, str)]
        if bad:
            raise TypeError(f"{name}= must map Schedule argument names to values, "
                            f"got key {bad[0]!r}")
        unknown = sorted(set(keys) - set(SCHEDULE_ARGUMENTS))
        if "run" in unknown:
            raise TypeError(f"{name}= must not hold 'run': the run comes from the framework's "
                            "real geometry")
        if unknown:
            raise TypeError(f"{name}= has unknown Schedule argument(s) {', '.join(unknown)}; "
                            f"expected some of: {', '.join(SCHEDULE_ARGUMENTS)}")
        return dict(spec)
    if callable(spec):
        return spec
    raise TypeError(f"{name}= must be a dict of Schedule arguments, a factory run -> Schedule, "
                    f"or a Schedule; got {spec!r} ({type(spec).__name__})")


def build_schedule(spec: ScheduleSpec, run: Run, name: str) -> Schedule:
    """The Schedule of a checked rule on `run` (a factory is called with `run`).

    A ready Schedule, or one a factory returns, must be for a run of the same length (and
    the same steps per epoch, when both know it): ValueError otherwise, since its steps
    would not be this run's steps.
    """
    if isinstance(spec, Mapping):
        return Schedule(run, **spec)
    schedule = spec if isinstance(spec, Schedule) else spec(run)
    if not isinstance(schedule, Schedule):
        raise TypeError(f"{name}= factory returned {type(schedule).__name__}, "
                        "not a ckptsched.Schedule")
    theirs, ours = schedule.run, run
    if theirs.total_steps != ours.total_steps or (
            theirs.steps_per_epoch is not None and ours.steps_per_epoch is not None
            and theirs.steps_per_epoch != ours.steps_per_epoch):
        raise ValueError(
            f"{name}= gives a schedule for {theirs!r} ({theirs.total_steps} steps, "
            f"{theirs.steps_per_epoch} per epoch), but the training run has "
            f"{ours.total_steps} steps ({ours.steps_per_epoch} per epoch): pass a dict of "
            "Schedule arguments or a factory so the schedule is built on the real run")
    return schedule


def check_unbound_retention(keep: object) -> None:
    """A callback's `keep=`: a Retention not yet bound to a run (the callback binds it to the
    trainer's real run); TypeError / ValueError naming `keep` otherwise."""
    if not isinstance(keep, Retention):
        raise TypeError(f"keep must be a ckptsched.Retention or None, got {keep!r} "
                        f"({type(keep).__name__})")
    if keep.run is not None:
        raise ValueError(f"keep={keep!r} is bound to a run; pass the unbound Retention: the "
                         "callback binds it to the Trainer's real run")


def schedule_on_run(schedule: Optional[Schedule], run: Run) -> Optional[Schedule]:
    """`schedule` as a Schedule of `run` itself, for a Plan of `run`: the same steps.  A ready
    Schedule given by the user may be of an equal-length Run that differs in other fields
    (build_schedule accepts it); it is rebuilt on `run` from its steps, without logging."""
    if schedule is None or schedule.run == run:
        return schedule
    return Schedule._build(run, {"at": schedule.steps.tolist(), "final": False}, log=False)


def optimizer_steps_per_epoch(batches: int, grad_accum: int,
                              partial_accumulation: str = "step") -> int:
    """Optimizer steps in an epoch of `batches` micro-batches (per rank) under gradient
    accumulation, as docs/semantics.md defines them ("step": a trailing partial accumulation
    still steps; "drop": it does not).  Computed by the core (`Run.from_dataset` with
    one example per micro-batch).  May raise ValueError when "drop" leaves 0 steps."""
    steps = Run.from_dataset(batches, 1, grad_accum, max_steps=1,
                             partial_accumulation=partial_accumulation).steps_per_epoch
    assert steps is not None  # from_dataset always knows its steps per epoch
    return steps


def describe(schedule: Schedule, limit: int = 8) -> str:
    """'N steps: a, b, c, ..., z' for logs and the CLI, without building huge arrays."""
    count: Optional[int]
    try:
        count = len(schedule)
    except ValueError:
        count = None
    head: list[int] = []
    for step in schedule:
        head.append(step)
        if len(head) >= limit:
            break
    if not head:
        return "no steps"
    shown = ", ".join(str(s) for s in head)
    last = schedule.last
    if count is not None and count > len(head):
        shown += (", ..., " if count > len(head) + 1 else ", ") + str(last)
    what = f"{count} step{'s' if count != 1 else ''}" if count is not None else "steps"
    return f"{what}: {shown}"

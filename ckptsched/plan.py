"""`Plan`: a run's schedules together (save, eval, log), its retention, and its disk.

    plan = Plan(run, save=dict(saves_per_epoch=5), eval=dict(every=100),
                keep=Retention(keep_last=2, keep_every="1ep"), checkpoint_bytes=16e9)
    plan.timeline      # per save: checkpoints on disk during it and after its deletions
    plan.peak          # (count, bytes, step): the most on disk at once, a save in flight included
    plan.survivors     # what is on disk when the run ends
    plan.diagnostics   # the schedules' own, and BEST_NOT_SAVED, DISK_BUDGET, KEEP_*, HF_REFUSED

Everything here is computed before training from the schedules' exact steps; the only step
arithmetic is numpy bookkeeping over those arrays (docs/semantics.md, "Plans").
"""
from __future__ import annotations

import inspect
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Literal, NamedTuple, Optional, Union, cast

import numpy as np
import numpy.typing as npt

from ._common import check_step
from ._frameworks import StepsArgument, transformers_refusal, transformers_steps_argument
from ._numbers import INT64_MAX, to_bool, to_int
from .diagnostics import Diagnostic, ScheduleError, plan_diagnostic, report
from .retention import Retention, Steps, _first_at_or_after
from .run import Run
from .schedule import Schedule
from .sizes import parse_size

#: A schedule as a Plan argument: a Schedule of the plan's run, or the Schedule's keyword
#: arguments as a dict, or None.
ScheduleSpec = Union[Schedule, Mapping[str, Any], None]

#: The Schedule keyword arguments (everything but the run).
SCHEDULE_ARGUMENTS = tuple(name for name in inspect.signature(Schedule.__init__).parameters
                           if name not in ("self", "run"))

#: Schedule rules transformers can express as one `save_steps` / `eval_steps` value.
_HF_RULES = ("saves_per_epoch", "count", "every", "ratio")
#: Schedule arguments that do not change the value transformers would be given.
_HF_NEUTRAL = ("final", "strict", "max_gap", "name")

# Schedule() is called through a typed alias: its result is a Schedule whatever its annotations.
_new_schedule = cast(Callable[..., Schedule], Schedule)


class Peak(NamedTuple):
    """The most checkpoints on disk at once: during the save at `step`, before its deletions.

    bytes is None without checkpoint_bytes; step is None when the plan saves nothing."""

    count: int  # type: ignore[assignment]  # the field the issue names; shadows tuple.count
    bytes: Optional[int]
    step: Optional[int]


@dataclass(frozen=True, eq=False)
class Timeline:
    """Per save step, in order: checkpoints on disk during the save (the retained ones plus the
    one being written: the peak candidates) and after its deletions.  Read-only int64 arrays;
    the *_bytes arrays are None without checkpoint_bytes.  keep_best counts in its worst case."""

    step: Steps
    during: Steps
    after: Steps
    during_bytes: Optional[Steps]
    after_bytes: Optional[Steps]

    def __len__(self) -> int:
        return len(self.step)


def _preview(values: Sequence[object], shown: int = 8) -> str:
    """The first `shown` values, and how many there are in all when there are more."""
    text = ", ".join(str(v) for v in values[:shown])
    return text + (f", ... ({len(values)} in all)" if len(values) > shown else "")


def _read_only(array: npt.NDArray[Any]) -> Steps:
    array = np.ascontiguousarray(array, dtype=np.int64)
    array.flags.writeable = False
    return array


def _whole_number(value: object, name: str) -> int:
    """A positive byte count: an int, a float with no fractional part (16e9), or a string
    with a unit ("16GB", "500MiB": ckptsched.sizes)."""
    if isinstance(value, str):
        return parse_size(value, name)
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or value != int(value):
            raise ValueError(f"{name} must be a whole number of bytes, got {value!r}")
        if value > INT64_MAX:
            raise OverflowError(f"{name}={value!r} exceeds the int64 range (max {INT64_MAX})")
        value = int(value)
        if value < 1:
            raise ValueError(f"{name} must be a positive number of bytes, got {value!r}")
    return to_int(value, name)


class _Arguments(NamedTuple):
    """A Plan's arguments, checked, with the schedules built and the retention bound."""

    save: Optional[Schedule]
    eval: Optional[Schedule]
    log: Optional[Schedule]
    keep: Retention
    size: Optional[int]
    budget: Optional[int]
    load_best: bool
    strict: bool

    @classmethod
    def check(cls, run: Run, arguments: dict[str, Any], log: bool) -> _Arguments:
        """Errors name the argument and its value; `log`: let built schedules log theirs."""
        a = arguments
        strict = to_bool(a["strict"], "strict")
        load_best = to_bool(a["load_best_model_at_end"], "load_best_model_at_end")
        size = (None if a["checkpoint_bytes"] is None
                else _whole_number(a["checkpoint_bytes"], "checkpoint_bytes"))
        budget = None if a["disk_budget"] is None else _whole_number(a["disk_budget"],
                                                                     "disk_budget")
        if budget is not None and size is None:
            raise ValueError(f"disk_budget={a['disk_budget']!r} needs checkpoint_bytes (the size "
                             "of one checkpoint) to compare the peak on disk with it")
        keep = _retention(a["keep"], run, load_best)
        eval_ = _schedule(a["eval"], run, "eval", log)
        log_ = _schedule(a["log"], run, "log", log)
        save: Optional[Schedule]
        if isinstance(a["save"], str):
            if a["save"] != "at_evals":
                raise ValueError(f"save={a['save']!r} is not understood: pass 'at_evals' (save at "
                                 "every eval step), a Schedule, a dict of Schedule arguments or None")
            if eval_ is None:
                raise ValueError("save='at_evals' saves at the eval steps, but eval is None; "
                                 "pass eval= as well")
            save = _at_evals(eval_, log)
        else:
            save = _schedule(a["save"], run, "save", log)
        if load_best and eval_ is None:
            raise ValueError("load_best_model_at_end=True keeps the best evaluated model, but "
                             "eval is None; pass eval= (the steps that evaluate)")
        return cls(save, eval_, log_, keep, size, budget, load_best, strict)


def _restore(run: Run, arguments: dict[str, Any]) -> Plan:
    return Plan._build(run, arguments, log=False)


class Plan:
    """A run's save / eval / log schedules, its retention and its disk, previewed before training.

    save, eval, log   each a Schedule of `run`, a dict of Schedule arguments, or None;
                      save="at_evals" saves exactly at the eval steps (the fix for BEST_NOT_SAVED)
    keep              a Retention (None: keep every checkpoint); `plan.keep` is it bound to run
    checkpoint_bytes  the size of one checkpoint (an int, a whole float such as 16e9, or a
                      string such as "16GB" or "500MiB")
    disk_budget       warn (DISK_BUDGET) when the peak bytes exceed it (needs checkpoint_bytes)
    load_best_model_at_end   the best evaluated model is loaded at the end (as in transformers):
                      it must be saved (BEST_NOT_SAVED) and kept -- `plan.keep` keeps at least
                      the best one (keep_best=1 unless keep asks for more) -- and transformers'
                      own start-up checks are reported (HF_REFUSED)
    strict            raise ScheduleError when any diagnostic is a warning

    Each schedule is named after its role ("save", "eval", "log"; a Schedule given with the
    default name is renamed so), so its diagnostics say which it is.  The plan's own
    diagnostics are reported once when it is built, as `ckptsched.diagnostics` describes
    (the schedules report theirs when they are built).  keep_best picks its checkpoints at run
    time: the counts (timeline, peak) include its K in the worst case, while the steps
    (on_disk_after, survivors) are those the other rules keep.  Plans are immutable, picklable
    and compare equal when built from equal arguments.
    """

    __slots__ = ("run", "save", "eval", "log", "keep", "checkpoint_bytes", "disk_budget",
                 "load_best_model_at_end", "strict", "diagnostics", "timeline", "peak",
                 "survivors", "_arguments", "_permanent", "_key")

    run: Run
    save: Optional[Schedule]
    eval: Optional[Schedule]
    log: Optional[Schedule]
    keep: Retention
    checkpoint_bytes: Optional[int]
    disk_budget: Optional[int]
    load_best_model_at_end: bool
    strict: bool
    diagnostics: tuple[Diagnostic, ...]
    timeline: Timeline
    peak: Peak
    survivors: Steps
    _arguments: dict[str, Any]
    _permanent: npt.NDArray[np.bool_]
    _key: tuple[object, ...]

    def __init__(self, run: Run, *, save: Union[ScheduleSpec, Literal["at_evals"]] = None,
                 eval: ScheduleSpec = None, log: ScheduleSpec = None,
                 keep: Optional[Retention] = None,
                 checkpoint_bytes: Union[int, float, str, None] = None,
                 disk_budget: Union[int, float, str, None] = None,
                 load_best_model_at_end: bool = False, strict: bool = False) -> None:
        arguments = dict(save=save, eval=eval, log=log, keep=keep,
                         checkpoint_bytes=checkpoint_bytes, disk_budget=disk_budget,
                         load_best_model_at_end=load_best_model_at_end, strict=strict)
        self._setup(run, arguments, log=True)

    @classmethod
    def _build(cls, run: Run, arguments: dict[str, Any], *, log: bool) -> Plan:
        plan = cls.__new__(cls)
        plan._setup(run, arguments, log=log)
        return plan

    # ---- building ------------------------------------------------------------------------

    def _setup(self, run: Run, arguments: dict[str, Any], *, log: bool) -> None:
        if not isinstance(run, Run):
            raise TypeError(f"run must be a ckptsched.Run, got {type(run).__name__}")
        a = _Arguments.check(run, arguments, log)
        saves = _steps(a.save, "save")
        permanent = _first_at_or_after(saves, a.keep.keep_steps)
        timeline = _timeline(saves, permanent, a.keep, a.size)
        peak = _peak(timeline, a.size)
        own = _plan_diagnostics(a, arguments, saves, peak)
        schedules = [d for s in (a.save, a.eval, a.log) if s is not None for d in s.diagnostics]
        given = dict(arguments, save=arguments["save"] if isinstance(arguments["save"], str)
                     else a.save, eval=a.eval, log=a.log, checkpoint_bytes=a.size,
                     disk_budget=a.budget)
        key = (run, a.save, a.eval, a.log, a.keep, a.size, a.budget, a.load_best, a.strict)
        for name, value in (
                ("run", run), ("save", a.save), ("eval", a.eval), ("log", a.log),
                ("keep", a.keep), ("checkpoint_bytes", a.size), ("disk_budget", a.budget),
                ("load_best_model_at_end", a.load_best), ("strict", a.strict),
                ("diagnostics", tuple(schedules + own)), ("timeline", timeline),
                ("peak", peak), ("_arguments", given), ("_permanent", permanent),
                ("_key", key)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "survivors", self.on_disk_after(run.total_steps))
        warnings = [d for d in self.diagnostics if d.severity == "warning"]
        if a.strict and warnings:
            raise ScheduleError(warnings)
        if log:
            report(own, strict=False)

    # ---- queries ---------------------------------------------------------------------------

    def on_disk_after(self, step: int) -> Steps:
        """The steps whose checkpoints are on disk once `step` is done: after the last save at
        or before `step` and its deletions (empty before the first save).  A sorted, read-only
        int64 array; keep_best's runtime choices are not included (see the class doc)."""
        step = min(check_step(step), INT64_MAX)  # past int64 is past every save
        saves = self.timeline.step
        done = int(np.searchsorted(saves, step, side="right"))
        last = self.keep.keep_last
        if last is None:
            return _read_only(saves[:done])
        window = max(done - last, 0)
        return _read_only(np.concatenate((saves[:window][self._permanent[:window]],
                                          saves[window:done])))

    def plot(self, ax: Any = None) -> Any:
        """Draw the plan with matplotlib (pip install 'ckptsched[plot]') and return the Figure:
        see ckptsched.plotting.plot_plan."""
        from .plotting import plot_plan
        return plot_plan(self, ax=ax)

    # ---- identity -------------------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Plan is immutable; build a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Plan is immutable; build a new one")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (self.run, dict(self._arguments)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        parts = [repr(self.run)]
        for name in ("save", "eval", "log"):
            value = self._arguments[name]
            if isinstance(value, Schedule):
                arguments = _schedule_arguments(value)
                if arguments.get("name") == name:  # the role's own name goes without saying
                    del arguments["name"]
                parts.append(f"{name}={arguments!r}")
            elif value is not None:
                parts.append(f"{name}={value!r}")
        if self._arguments["keep"] is not None:
            parts.append(f"keep={self._arguments['keep']!r}")
        for name in ("checkpoint_bytes", "disk_budget"):
            if self._arguments[name] is not None:
                parts.append(f"{name}={self._arguments[name]!r}")
        for name in ("load_best_model_at_end", "strict"):
            if self._arguments[name]:
                parts.append(f"{name}=True")
        return f"Plan({', '.join(parts)})"


# ---- arguments ---------------------------------------------------------------------------------

def _schedule_arguments(schedule: Schedule) -> dict[str, Any]:
    """The keyword arguments a Schedule was built with (those not at their default)."""
    return dict(getattr(schedule, "_kwargs"))


def _schedule(spec: object, run: Run, role: str, log: bool) -> Optional[Schedule]:
    """The `role` ("save", "eval", "log") schedule from a Schedule, a dict or None."""
    if spec is None:
        return None
    if isinstance(spec, Schedule):
        if spec.run != run:
            raise ValueError(f"{role} is a Schedule of {spec.run!r}, not of the plan's run "
                             f"{run!r}; build it on the plan's run or pass its arguments as a dict")
        if spec.name == "save" and role != "save":
            # built with the default name: as the plan's eval / log schedule its diagnostics
            # must not speak of saves (it reported its own already, when it was built)
            return Schedule._build(run, {**_schedule_arguments(spec), "name": role}, log=False)
        return spec
    if not isinstance(spec, Mapping):
        raise TypeError(f"{role} must be a Schedule, a dict of Schedule arguments or None, got "
                        f"{spec!r} ({type(spec).__name__})")
    kwargs = dict(spec)
    for name in kwargs:
        if name not in SCHEDULE_ARGUMENTS:
            raise TypeError(f"{role}={kwargs!r}: {name!r} is not a Schedule argument; use "
                            f"{', '.join(SCHEDULE_ARGUMENTS)}")
    kwargs.setdefault("name", role)
    try:
        if not log:
            return Schedule._build(run, kwargs, log=False)
        return _new_schedule(run, **kwargs)
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ScheduleError):  # strict=True in the dict: the schedule's own word
            raise
        raise type(exc)(f"{role}={dict(spec)!r}: {exc}") from None


def _at_evals(eval_: Schedule, log: bool) -> Schedule:
    """A save schedule with exactly the eval steps: the eval's own rules, built as saves."""
    kwargs = _schedule_arguments(eval_)
    kwargs["name"] = "save"
    if not log:
        return Schedule._build(eval_.run, kwargs, log=False)
    return _new_schedule(eval_.run, **kwargs)


def _retention(keep: object, run: Run, load_best: bool) -> Retention:
    """`keep` bound to the run; with load_best_model_at_end it keeps at least the best one."""
    if keep is None:
        keep = Retention()
    if not isinstance(keep, Retention):
        raise TypeError(f"keep must be a ckptsched.Retention or None, got {keep!r} "
                        f"({type(keep).__name__})")
    if keep.run is not None and keep.run != run:
        raise ValueError(f"keep is bound to {keep.run!r}, not to the plan's run {run!r}; pass "
                         "the unbound Retention")
    if load_best and keep.keep_best is None:
        keep = keep.with_keep_best(1)
    return keep.bind(run)


def _steps(schedule: Optional[Schedule], role: str) -> Steps:
    if schedule is None:
        return np.zeros(0, dtype=np.int64)
    try:
        steps: Steps = schedule.steps
    except ValueError as exc:
        raise ValueError(f"the plan needs every {role} step: {exc}") from None
    return steps


# ---- the preview -------------------------------------------------------------------------------

def _timeline(saves: Steps, permanent: npt.NDArray[np.bool_], keep: Retention,
              size: Optional[int]) -> Timeline:
    """Counts on disk for each save, in closed form (DESIGN.md, "Plans"): after the i-th save
    (1-based) and its deletions the disk holds the last N saves, the keep_every saves before
    them, and keep_best's K among the rest (worst case); during the save, what the previous
    save left plus the one being written."""
    n = len(saves)
    index = np.arange(1, n + 1, dtype=np.int64)
    if keep.keep_last is None:
        after = index.copy()
    else:
        permanent_before = np.concatenate((np.zeros(1, dtype=np.int64),
                                           np.cumsum(permanent, dtype=np.int64)))
        outside = np.maximum(index - keep.keep_last, 0)  # saves older than the last N
        after = np.minimum(index, keep.keep_last) + permanent_before[outside]
    if keep.keep_best is not None:
        after += np.minimum(keep.keep_best, index - after)
    during = np.concatenate((np.zeros(1, dtype=np.int64), after[:-1])) + 1 if n else after.copy()
    during_bytes = after_bytes = None
    if size is not None:
        most = int(during.max()) if n else 0
        if most * size > INT64_MAX:
            raise OverflowError(f"checkpoint_bytes={size} times {most} checkpoints on disk "
                                f"exceeds the int64 range (max {INT64_MAX})")
        during_bytes, after_bytes = _read_only(during * size), _read_only(after * size)
    return Timeline(_read_only(saves), _read_only(during), _read_only(after),
                    during_bytes, after_bytes)


def _peak(timeline: Timeline, size: Optional[int]) -> Peak:
    if len(timeline) == 0:
        return Peak(0, None if size is None else 0, None)
    at = int(np.argmax(timeline.during))
    count = int(timeline.during[at])
    return Peak(count, None if size is None else count * size, int(timeline.step[at]))


# ---- diagnostics -------------------------------------------------------------------------------

def _plan_diagnostics(a: _Arguments, given: dict[str, Any], saves: Steps,
                      peak: Peak) -> list[Diagnostic]:
    """The plan's own diagnostics, about its schedules together."""
    user_keep_best = given["keep"] is not None and given["keep"].keep_best is not None
    return (list(a.keep.keep_diagnostics())
            + _keep_diagnostics(a.keep, saves)
            + _best_diagnostics(user_keep_best, a.load_best, saves, a.eval)
            + _budget_diagnostics(peak, a.size, a.budget)
            + _refusal_diagnostics(a.save, a.eval, given["save"], a.load_best))


def _keep_diagnostics(keep: Retention, saves: Steps) -> list[Diagnostic]:
    """KEEP_SHIFTED (keep steps that are not saves) and KEEP_NEVER (keep steps after the last)."""
    if keep.keep_every is None:
        return []
    boundaries = keep.keep_steps
    label = f"keep_every={keep._keep_every_given()!r}"
    last = int(saves[-1]) if len(saves) else 0
    out = []
    never = boundaries[boundaries > last]
    between = boundaries[boundaries <= last]
    position = np.searchsorted(saves, between)
    shifted = between[saves[position] != between] if len(between) else between
    if len(shifted):
        kept_instead = saves[np.searchsorted(saves, shifted)]
        pairs = [f"{k} -> {s}" for k, s in zip(shifted[:8].tolist(), kept_instead[:8].tolist())]
        pairs += [f"... ({len(shifted)} in all)"] if len(shifted) > 8 else []
        out.append(plan_diagnostic(
            "KEEP_SHIFTED",
            f"{label}: {len(shifted)} keep step(s) are not save steps; the first save after each "
            f"is kept instead: {', '.join(pairs)}; save at the keep steps to keep them exactly",
            schedule="keep", keep_steps=shifted[:100].tolist(),
            kept_saves=kept_instead[:100].tolist(), count=len(shifted)))
    if len(never):
        where = f"after the last save at step {last}" if last else "in a plan that saves nothing"
        out.append(plan_diagnostic(
            "KEEP_NEVER",
            f"{label}: {len(never)} keep step(s) come {where}, so nothing is kept for them: "
            f"{_preview(never.tolist())}; save at the end of the run (final=True) or at these steps",
            schedule="keep", keep_steps=never[:100].tolist(), count=len(never), last_save=last))
    return out


def _best_diagnostics(keep_best: bool, load_best: bool, saves: Steps,
                      eval_: Optional[Schedule]) -> list[Diagnostic]:
    """BEST_NOT_SAVED: the best model is chosen among eval steps, some of which are no saves."""
    if not (keep_best or load_best) or eval_ is None:
        return []
    evals = _steps(eval_, "eval")
    unsaved = evals[~np.isin(evals, saves)]
    if not len(unsaved):
        return []
    why = "load_best_model_at_end=True" if load_best else "keep_best"
    return [plan_diagnostic(
        "BEST_NOT_SAVED",
        f"{why} picks the best of the evaluations, but {len(unsaved)} of {len(evals)} eval "
        f"steps are not save steps ({_preview(unsaved.tolist())}): a model evaluated there is "
        "never saved, so the best model may be lost; pass save='at_evals' to save at every eval "
        "step, or save at least at the eval steps",
        schedule="save", unsaved_eval_steps=unsaved[:100].tolist(), count=len(unsaved),
        eval_count=len(evals))]


def _budget_diagnostics(peak: Peak, size: Optional[int],
                        budget: Optional[int]) -> list[Diagnostic]:
    if budget is None or peak.bytes is None or peak.bytes <= budget:
        return []
    assert size is not None
    fits = budget // size
    return [plan_diagnostic(
        "DISK_BUDGET",
        f"up to {peak.count} checkpoints of {size} bytes are on disk at once ({peak.bytes} bytes, "
        f"during the save at step {peak.step}, before older ones are deleted), over "
        f"disk_budget={budget}; keep at most {fits} at once, the one being written included "
        "(a smaller keep_last or a coarser keep_every), or raise disk_budget",
        schedule="keep", peak_count=peak.count, peak_bytes=peak.bytes, step=peak.step,
        disk_budget=budget, checkpoint_bytes=size, fits=fits)]


def _transformers_value(schedule: Schedule) -> Optional[StepsArgument]:
    """The one transformers value (save_steps / eval_steps) a schedule stands for, or None when
    it combines rules or uses arguments transformers has not."""
    kwargs = _schedule_arguments(schedule)
    rules = [name for name in kwargs if name not in _HF_NEUTRAL]
    if len(rules) != 1 or rules[0] not in _HF_RULES:
        return None
    ratio = kwargs.get("ratio")
    return transformers_steps_argument(
        schedule.run, saves_per_epoch=kwargs.get("saves_per_epoch"), count=kwargs.get("count"),
        every=kwargs.get("every"), ratio=None if ratio is None else float(ratio))


def _refusal_diagnostics(save: Optional[Schedule], eval_: Optional[Schedule],
                         save_given: object, load_best: bool) -> list[Diagnostic]:
    """HF_REFUSED: the same settings given to transformers would stop it at start-up."""
    if not load_best or save is None or eval_ is None:
        return []
    eval_steps = _transformers_value(eval_)
    save_steps = eval_steps if save_given == "at_evals" else _transformers_value(save)
    if save_steps is None or eval_steps is None:
        return []
    refusal = transformers_refusal(save_steps=save_steps, eval_steps=eval_steps,
                                   load_best_model_at_end=True)
    if refusal is None:
        return []
    return [plan_diagnostic(
        "HF_REFUSED",
        f"with load_best_model_at_end=True, transformers would refuse to start with "
        f"save_steps={save_steps!r} and eval_steps={eval_steps!r} (what these schedules are "
        f"there): \"{refusal}\"; ckptsched's plan is exact, but to run the same settings in "
        "transformers use save='at_evals' or save steps that are a multiple of the eval steps",
        schedule="save", framework="transformers", save_steps=save_steps,
        eval_steps=eval_steps, refusal=refusal)]

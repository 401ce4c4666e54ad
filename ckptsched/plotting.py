"""A picture of a `Plan` with matplotlib (an optional extra: pip install 'ckptsched[plot]').

    figure = plan.plot()                 # or plot_plan(plan, compare={"save": hf_steps})
    figure.savefig("plan.png")

Top panel: the step axis with the epoch boundaries (thin lines, every k-th labelled on top),
a row of marks each for save / eval / log, and another framework's steps (`compare`) as
hollow marks under the row they compare with.  Bottom panel: the checkpoints on disk over
the run (a step function: the spike at each save is the one being written, before older
ones are deleted), in bytes on the right axis when the checkpoint size is known, with the
disk budget as a horizontal line.

Long runs stay readable and cheap: every row is one vectorized collection (never one
artist per step), marks shrink with their spacing, and a row of more than DENSE_MARKS steps
(thousands of log steps) is drawn as a density band instead of marks.  matplotlib is imported
only here, and only the Agg canvas is used (no pyplot, no window).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional, cast

import numpy as np

from .sizes import format_size

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .plan import Plan

__all__ = ["plot_plan", "save_figure", "DENSE_MARKS"]

#: A row with more steps than this is drawn as a density band, not as one mark per step.
DENSE_MARKS = 1500
#: With more saves than this, the disk panel shows the level after each save's deletions and
#: a light band up to the count while a save is written, instead of one spike per save.
SPIKED_SAVES = 400
#: At most this many epoch boundaries are drawn (every m-th, m = 1, 2, 5, 10, ...).
EPOCH_LINES = 120
#: At most this many epoch boundaries are labelled (every k-th, k = 1, 2, 5, 10, 20, 50, ...).
EPOCH_LABELS = 12

_COLORS = {"save": "#1f5fa8", "eval": "#d9822b", "log": "#5b8c3a"}
_DIFFERS = (0.7, 0.13, 0.13, 1.0)  # the red of a compared step the plan does not have
_INSTALL = "plotting needs matplotlib; install it with pip install 'ckptsched[plot]'"


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        raise ImportError(_INSTALL) from None
    return matplotlib


def plot_plan(plan: Plan, ax: Optional[Axes] = None, *,
              compare: Optional[Mapping[str, Sequence[int]]] = None,
              compare_label: str = "transformers / Axolotl") -> Figure:
    """Draw `plan` and return the matplotlib Figure.

    ax       None: a new Figure (Agg canvas) with the marks panel and the disk panel; an Axes:
             only the marks are drawn on it (the disk panel needs a second Axes)
    compare  {"save": steps, "eval": steps}: another framework's steps, drawn hollow
    compare_label  the name of that framework in the row labels
    """
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    compare = dict(compare or {})
    unknown = [k for k in compare if k not in ("save", "eval", "log")]
    if unknown:
        raise ValueError(f"compare={sorted(compare)!r}: {unknown[0]!r} is not a schedule of a "
                         "plan; use 'save', 'eval' or 'log'")
    if ax is not None:
        _draw_marks(ax, plan, compare, compare_label)
        return cast("Figure", ax.figure)
    saves = len(plan.timeline) > 0
    figure = Figure(figsize=(11, 5.6 if saves else 3.0), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    if saves:
        marks_ax, disk_ax = figure.subplots(2, 1, sharex=True,
                                            gridspec_kw=dict(height_ratios=(1, 1.15)))
    else:
        marks_ax, disk_ax = figure.subplots(1, 1), None
    _draw_marks(marks_ax, plan, compare, compare_label)
    if disk_ax is not None:
        _draw_disk(disk_ax, plan)
        disk_ax.set_xlabel("optimizer step")
    else:
        marks_ax.set_xlabel("optimizer step")
    figure.suptitle(_title(plan), fontsize=11)
    return figure


def save_figure(figure: Figure, path: str) -> None:
    """Write `figure` to `path`; the format is the file's extension (.png, .svg, .pdf).  An SVG
    keeps its text as text (searchable, and smaller than glyph outlines)."""
    import matplotlib
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(path)


# ---- the marks panel ---------------------------------------------------------------------------

def _title(plan: Plan) -> str:
    run = plan.run
    if run.steps_per_epoch is None:
        return f"{run.total_steps} steps"
    return (f"{run.total_steps} steps: {run.num_epochs} epoch(s) of {run.steps_per_epoch} steps")


def _steps(schedule: Any) -> np.ndarray:
    return np.zeros(0, dtype=np.int64) if schedule is None else np.asarray(schedule.steps)


def _rows(plan: Plan, compare: Mapping[str, Sequence[int]],
          compare_label: str) -> list[tuple[str, str, np.ndarray, Optional[np.ndarray]]]:
    """(label, family, steps, differs) of each row, top to bottom; `differs` is None for the
    plan's own rows and, for a compared row, which of its steps the plan does not have."""
    rows: list[tuple[str, str, np.ndarray, Optional[np.ndarray]]] = []
    for family in ("save", "eval", "log"):
        schedule = getattr(plan, family)
        try:
            ours = _steps(schedule)
        except ValueError:  # more steps than can be built: a band from the first to the last
            rows.append((f"{family} ({_count(schedule)}; too many to draw each)", family,
                         np.array([schedule.next_after(0) or 0, schedule.last or 0]), None))
            ours = np.zeros(0, dtype=np.int64)
            continue
        if schedule is not None:
            dense = ", as a density band" if len(ours) > DENSE_MARKS else ""
            rows.append((f"{family} ({len(ours)}{dense})", family, ours, None))
        if family in compare:
            steps = np.asarray(compare[family], dtype=np.int64)
            differs = ~np.isin(steps, ours)
            other = (f"; red: {int(differs.sum())} at other steps" if differs.any()
                     else "; same steps")
            rows.append((f"{family}: {compare_label} ({len(steps)}{other})", family, steps,
                         differs))
    return rows


def _count(schedule: Any) -> str:
    try:
        return str(len(schedule))
    except ValueError:
        return "?"


def _marker_size(steps: np.ndarray, total: int, width_points: float = 700.0) -> float:
    """A mark's size in points: about the smallest spacing between marks, within [3, 9]."""
    if len(steps) < 2:
        return 9.0
    spacing = float(np.min(np.diff(steps))) / max(total, 1) * width_points
    return float(np.clip(spacing * 0.9, 3.0, 9.0))


def _draw_marks(ax: Axes, plan: Plan, compare: Mapping[str, Sequence[int]],
                compare_label: str) -> None:
    total = plan.run.total_steps
    rows = _rows(plan, compare, compare_label)
    _epoch_lines(ax, plan, label=True)
    for y, (label, family, steps, differs) in zip(range(len(rows), 0, -1), rows):
        color = _COLORS[family]
        if label.endswith("too many to draw each)"):
            ax.fill_between(steps, y - 0.3, y + 0.3, facecolor=color, alpha=0.3, hatch="///",
                            edgecolor=color, linewidth=0, gid="band")
            continue
        if len(steps) > DENSE_MARKS:
            _density(ax, steps, total, y, color, differs is not None)
            continue
        size = _marker_size(steps, total)
        if differs is not None:  # hollow; red where the plan has no such step
            flags = differs.tolist()  # at most DENSE_MARKS: still one collection
            own = _rgba(color)
            ax.scatter(steps, np.full(len(steps), y), s=size ** 2, marker="o", facecolors="none",
                       edgecolors=[_DIFFERS if d else own for d in flags],
                       linewidths=[1.6 if d else 0.9 for d in flags], gid=f"{family}-compare")
        else:
            ax.scatter(steps, np.full(len(steps), y), s=(size * 1.6) ** 2, marker="|",
                       color=color, linewidths=1.6, gid=family)
    ax.set_yticks(range(len(rows), 0, -1), [r[0] for r in rows])
    ax.set_ylim(0.4, len(rows) + 0.6)
    ax.set_xlim(0, total * 1.01)
    ax.tick_params(axis="y", length=0)
    for side in ("left", "right"):
        ax.spines[side].set_visible(False)
    _step_axis(ax)


def _rgba(color: str) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba
    return to_rgba(color)


def _density(ax: Axes, steps: np.ndarray, total: int, y: float, color: str,
             hollow: bool) -> None:
    """Many steps as a band whose height follows how many fall in each of ~500 bins."""
    bins = min(500, max(total, 1))
    counts, edges = np.histogram(steps, bins=bins, range=(0, total))
    height = 0.35 * counts / max(int(counts.max()), 1)
    ax.fill_between(edges, y - np.append(height, 0), y + np.append(height, 0), step="post",
                    facecolor="none" if hollow else color, edgecolor=color,
                    alpha=1.0 if hollow else 0.55, linewidth=0.6, gid="density")


def _epoch_lines(ax: Axes, plan: Plan, label: bool) -> None:
    """Thin lines at the epoch boundaries; on top, every k-th one labelled with its number."""
    run = plan.run
    size = run.steps_per_epoch
    if size is None or run.num_epochs is None or run.num_epochs < 2:
        return
    ends = np.arange(1, run.num_epochs, dtype=np.int64) * size
    ends = ends[ends < run.total_steps]
    if len(ends) == 0:
        return
    # at most EPOCH_LINES lines (every m-th boundary), at most EPOCH_LABELS labels (every k-th)
    m = next(m for m in _nice_steps() if len(ends) / m <= EPOCH_LINES)
    ax.vlines(ends[m - 1::m], 0, 1, transform=ax.get_xaxis_transform(), colors="0.82",
              linewidths=0.6, zorder=0, gid="epochs")
    if not label:
        return
    k = next(k for k in _nice_steps() if k >= m and len(ends) / k <= EPOCH_LABELS)
    labelled = ends[k - 1::k]
    top = ax.secondary_xaxis("top")
    top.set_xticks(labelled.tolist(), [str(int(s // size)) for s in labelled])
    top.set_xlabel("end of epoch" + (f" (every {k}th labelled)" if k > 1 else ""), fontsize=9)
    top.tick_params(labelsize=8)


def _nice_steps() -> Iterator[int]:
    """1, 2, 5, 10, 20, 50, ... (endless)."""
    scale = 1
    while True:
        for k in (1, 2, 5):
            yield k * scale
        scale *= 10


def _step_axis(ax: Axes) -> None:
    from matplotlib.ticker import EngFormatter
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))


# ---- the disk panel ----------------------------------------------------------------------------

def _draw_disk(ax: Axes, plan: Plan) -> None:
    """Checkpoints on disk over the run: after each save's deletions (filled), the spike of
    the save being written, the peak, and the budget; bytes on the right with a size."""
    t = plan.timeline
    total = plan.run.total_steps
    steps, during, after = t.step, t.during, t.after
    before = np.concatenate(([0], after[:-1]))
    # one polyline: ... (s_i, before_i) -> (s_i, during_i) -> (s_i, after_i) -> (s_i+1, after_i)
    ax.fill_between(np.append(steps, total), np.append(after, after[-1]), step="post",
                    color=_COLORS["save"], alpha=0.18, linewidth=0, gid="after")
    at_end = f"checkpoints on disk ({int(after[-1])} at the end"
    if len(steps) <= SPIKED_SAVES:
        xs = np.concatenate(([0], np.repeat(steps, 3), [total]))
        ys = np.concatenate(([0], np.column_stack((before, during, after)).ravel(), [after[-1]]))
        ax.plot(xs, ys, color=_COLORS["save"], linewidth=1.0, gid="on-disk",
                label=f"{at_end}; spikes: a save being written, before older ones are deleted)")
    else:  # spikes this dense would fill the panel: the level after, and a band up to the peak
        ax.fill_between(steps, before, during, step="pre", color=_COLORS["save"], alpha=0.12,
                        linewidth=0, gid="during", label="while a save is written (before "
                                                         "older ones are deleted)")
        ax.step(np.concatenate(([0], steps, [total])), np.concatenate(([0], after, after[-1:])),
                where="post", color=_COLORS["save"], linewidth=1.0, gid="on-disk",
                label=f"{at_end}, after each save's deletions)")
    survivors = plan.survivors
    if len(survivors) < len(steps):  # something is deleted: mark what stays to the end
        ax.scatter(survivors, np.zeros(len(survivors)), marker="^", s=36, color="#333333",
                   clip_on=False, zorder=3, gid="survivors",
                   label=f"kept to the end ({len(survivors)} "
                         f"survivor{'' if len(survivors) == 1 else 's'})")
    _epoch_lines(ax, plan, label=False)
    peak = plan.peak
    size, budget = plan.checkpoint_bytes, plan.disk_budget
    peak_text = f"peak {peak.count}" + ("" if peak.bytes is None else f" = {format_size(peak.bytes)}")
    ax.plot([peak.step or 0], [peak.count], marker="v", color="#b22222", linestyle="none",
            markersize=7, label=f"{peak_text} (step {peak.step})", gid="peak")
    top = float(peak.count)
    if budget is not None and size is not None:
        limit = budget / size
        over = peak.bytes is not None and peak.bytes > budget
        ax.axhline(limit, color="#b22222", linestyle="--", linewidth=1.2, gid="budget",
                   label=f"disk budget {format_size(budget)}" + (" (exceeded)" if over else ""))
        top = max(top, limit)
    ax.set_ylim(0, top * 1.25 + 0.5)
    ax.set_xlim(0, total * 1.01)
    ax.set_ylabel("checkpoints on disk")
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if size is not None:
        from matplotlib.ticker import FuncFormatter
        each = size

        def to_bytes(count: Any) -> Any:
            return np.asarray(count) * each

        def to_count(in_bytes: Any) -> Any:
            return np.asarray(in_bytes) / each

        right = ax.secondary_yaxis("right", functions=(to_bytes, to_count))
        right.yaxis.set_major_formatter(FuncFormatter(lambda b, _: format_size(int(round(b)))
                                                      if b > 0 else "0"))
        right.set_ylabel(f"bytes ({format_size(size)} each)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    _step_axis(ax)

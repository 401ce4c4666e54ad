"""Plan.plot / ckptsched.plotting and `ckptsched plan --plot`: real files (PNG, SVG, PDF), the
figure's artists against the plan's own steps, long runs drawn with a few vectorized
collections, and the message when matplotlib is missing."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import matplotlib  # the plot extra is part of the test requirements: never skipped

from ckptsched import Plan, Retention, Run, cli
from ckptsched.plotting import DENSE_MARKS, plot_plan, save_figure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def short_plan():
    run = Run(32, 2)
    return Plan(run, save=dict(saves_per_epoch=3), eval=dict(saves_per_epoch=2),
                log=dict(every=4), keep=Retention(keep_last=2), checkpoint_bytes="500MiB")


def long_plan():
    run = Run(1000, 100)
    return Plan(run, save=dict(saves_per_epoch=2), eval=dict(every=1000), log=dict(every=10),
                keep=Retention(keep_last=3, keep_every="10ep"), checkpoint_bytes="16GB",
                disk_budget="100GB")


def by_gid(figure, gid):
    return [a for ax in figure.axes for a in ax.get_children() if a.get_gid() == gid]


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == PNG_MAGIC
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_marks_are_the_plans_steps(backend):
    plan = short_plan()
    figure = plan.plot()
    assert isinstance(figure, matplotlib.figure.Figure)
    for family in ("save", "eval", "log"):
        (marks,) = by_gid(figure, family)
        xs = marks.get_offsets()[:, 0]
        assert xs.tolist() == getattr(plan, family).steps.tolist()
    (survivors,) = by_gid(figure, "survivors")
    assert survivors.get_offsets()[:, 0].tolist() == plan.survivors.tolist()
    (peak,) = by_gid(figure, "peak")
    assert peak.get_xdata().tolist() == [plan.peak.step]
    assert peak.get_ydata().tolist() == [plan.peak.count]
    assert by_gid(figure, "budget") == []


def test_on_disk_line_follows_the_timeline(backend):
    plan = long_plan()
    figure = plan.plot()
    (line,) = by_gid(figure, "on-disk")
    xs, ys = line.get_xdata(), line.get_ydata()
    t = plan.timeline
    # at each save: what the previous one left, the spike while writing, then after deletions
    assert np.array_equal(xs[1:-1].reshape(-1, 3), np.repeat(t.step, 3).reshape(-1, 3))
    assert np.array_equal(ys[1:-1].reshape(-1, 3)[:, 1], t.during)
    assert np.array_equal(ys[1:-1].reshape(-1, 3)[:, 2], t.after)
    (budget,) = by_gid(figure, "budget")
    assert budget.get_ydata()[0] == pytest.approx(plan.disk_budget / plan.checkpoint_bytes)


def test_long_run_uses_few_artists(backend):
    plan = long_plan()
    assert len(plan.log.steps) > DENSE_MARKS
    figure = plan.plot()
    assert by_gid(figure, "log") == [] and len(by_gid(figure, "density")) == 1
    (saves,) = by_gid(figure, "save")
    assert len(saves.get_offsets()) == len(plan.save.steps) == 200
    assert sum(len(ax.get_children()) for ax in figure.axes) < 100
    epochs = by_gid(figure, "epochs")  # one collection per panel, 99 boundaries each
    assert [len(e.get_segments()) for e in epochs] == [99, 99]


def test_epoch_labels_are_thinned(backend):
    figure = long_plan().plot()
    secondary = [c for ax in figure.axes for c in ax.child_axes]
    labels = [t.get_text() for c in secondary for t in c.get_xticklabels()]
    assert [t for t in labels if t] == [str(e) for e in range(10, 100, 10)]


def test_png_svg_pdf_files(tmp_path, backend):
    plan = long_plan()
    figure = plan.plot()
    png, svg, pdf = tmp_path / "p.png", tmp_path / "p.svg", tmp_path / "p.pdf"
    for path in (png, svg, pdf):
        save_figure(figure, str(path))
    width, height = png_size(png)
    assert (width, height) == (1100, 560)
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for label in ("save (200)", "eval (100)", "log (10000, as a density band)", "checkpoints on disk",
                  "disk budget 100 GB", "peak 13 = 208 GB", "optimizer step"):
        assert label in text, label
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_compare_marks_are_hollow(backend):
    plan = short_plan()
    hf = [11, 22, 33, 44, 55, 64]
    figure = plot_plan(plan, compare={"save": hf}, compare_label="transformers")
    (marks,) = by_gid(figure, "save-compare")
    assert marks.get_offsets()[:, 0].tolist() == hf
    assert len(marks.get_facecolors()) == 0 or marks.get_facecolors()[:, 3].max() == 0
    ours = plan.save.steps.tolist()
    red = [tuple(c) == (0.7, 0.13, 0.13, 1.0) for c in marks.get_edgecolors()]
    assert red == [s not in ours for s in hf] == [False, False, True, True, True, False]
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert "save: transformers (6; red: 3 at other steps)" in labels
    with pytest.raises(ValueError, match="'keep' is not a schedule"):
        plot_plan(plan, compare={"keep": [1]})


def test_plot_on_a_given_axes(backend):
    from matplotlib.figure import Figure
    figure = Figure()
    ax = figure.subplots()
    assert short_plan().plot(ax=ax) is figure
    assert len(by_gid(figure, "save")) == 1 and by_gid(figure, "on-disk") == []


def test_a_plan_without_saves_draws_marks_only(backend):
    figure = Plan(Run(max_steps=50), eval=dict(every=10)).plot()
    assert len(figure.axes) == 1 and len(by_gid(figure, "eval")) == 1


def test_cli_plot_writes_the_file(tmp_path, capsys, backend):
    path = tmp_path / "plan.svg"
    code = cli.main(["plan", "--steps-per-epoch", "32", "--epochs", "2", "--saves-per-epoch", "3",
                     "--compare-hf", "--plot", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"wrote {path}" in err
    text = path.read_text()
    assert "save: transformers / Axolotl (6; red: 3 at other steps)" in text
    assert "save (6)" in text


def test_cli_plot_bad_extension_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["plan", "--max-steps", "10", "--plot", "plan.jpg"])
    assert info.value.code == 2
    assert "--plot" in capsys.readouterr().err


def test_cli_plot_without_matplotlib_exits_2(tmp_path):
    """matplotlib blocked in a fresh interpreter: exit 2 with the install hint, no file."""
    path = tmp_path / "plan.png"
    script = ("import sys; sys.modules['matplotlib'] = None\n"
              "from ckptsched import cli\n"
              f"sys.exit(cli.main(['plan', '--max-steps', '100', '--every', '10', "
              f"'--plot', {str(path)!r}]))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "pip install 'ckptsched[plot]'" in done.stderr
    assert "--plot" in done.stderr and "Traceback" not in done.stderr
    assert not path.exists()


def test_plotting_without_matplotlib_raises_import_error():
    script = ("import sys; sys.modules['matplotlib'] = None\n"
              "from ckptsched import Plan, Run\n"
              "try:\n    Plan(Run(max_steps=10), save=dict(every=5)).plot()\n"
              "except ImportError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert "pip install 'ckptsched[plot]'" in done.stdout, done.stderr


def test_importing_ckptsched_does_not_import_matplotlib():
    script = "import sys, ckptsched, ckptsched.cli.plan; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_a_schedule_too_large_to_build_is_a_band(backend):
    """10**9 log steps are never built: the row is one band from the first step to the last."""
    plan = Plan(Run(max_steps=10**9), save=dict(every=10**7), log=dict(every=1))
    figure = plan.plot()
    (band,) = by_gid(figure, "band")
    xs = band.get_paths()[0].vertices[:, 0]
    assert xs.min() == 1 and xs.max() == 10**9
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["save (100)", "log (1000000000; too many to draw each)"]
    assert by_gid(figure, "survivors") == []  # nothing is deleted: no survivor marks


def test_cli_plot_to_a_missing_directory_exits_2(tmp_path, capsys):
    path = tmp_path / "no" / "such" / "plan.png"
    code = cli.main(["plan", "--max-steps", "10", "--every", "5", "--plot", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "No such file" in err.strip().splitlines()[-1]


def test_dense_saves_and_many_epochs_stay_few_artists(backend):
    """1200 saves over 400 epochs: the disk panel is the level after each save plus a band to
    the count while writing (no comb of spikes), and every 5th epoch boundary is drawn."""
    plan = Plan(Run(3, 400), save=dict(every=1), keep=Retention(keep_last=1, keep_every=300),
                checkpoint_bytes=10)
    figure = plan.plot()
    (line,) = by_gid(figure, "on-disk")
    t = plan.timeline
    xs, ys = line.get_xdata(), line.get_ydata()
    assert xs[1:-1].tolist() == t.step.tolist() and ys[1:-1].tolist() == t.after.tolist()
    assert len(by_gid(figure, "during")) == 1
    epochs = by_gid(figure, "epochs")
    assert [len(e.get_segments()) for e in epochs] == [79, 79]  # epochs 5, 10, ..., 395
    secondary = [c for ax in figure.axes for c in ax.child_axes]
    labels = [t.get_text() for c in secondary for t in c.get_xticklabels() if t.get_text()]
    assert labels == [str(e) for e in range(50, 400, 50)]

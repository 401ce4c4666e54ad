"""The `ckptsched` command as a whole: --version, help on every flag, exit statuses, a
closed stdout, resource errors, over-long integers, and plans too large to build.

Commands run in-process through `main([...])` (with capsys), or, for pipes and exit
statuses, in a child `python -m ckptsched` that imports the same package as this process.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ckptsched
from ckptsched import Run, Schedule, cli
from ckptsched.cli import _shared

HUGE_DIGITS = "9" * 5000  # over Python's 4300-digit limit on int(str)


def invoke(capsys, *argv):
    """(exit status, stdout, stderr) of `ckptsched ARGV` in this process."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def child_env() -> dict:
    """The environment of a child interpreter that imports the same ckptsched as this one."""
    where = str(Path(ckptsched.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([where, os.environ.get("PYTHONPATH", "")])}


def run_child(argv, tmp_path, **kwargs):
    return subprocess.run([sys.executable, "-m", "ckptsched", *argv], cwd=tmp_path,
                          env=child_env(), **kwargs)


# ---- --version, help, exit statuses ------------------------------------------------------

def test_version(capsys, tmp_path):
    code, out, err = invoke(capsys, "--version")
    assert code == 0
    assert out == f"ckptsched {ckptsched.__version__}\n"
    version_file = Path(ckptsched.__file__).with_name("_version.py").read_text()
    assert f'__version__ = "{ckptsched.__version__}"' in version_file
    result = run_child(["--version"], tmp_path, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, out, "")


def _parsers():
    """(name, parser) of the top-level parser and of every subcommand."""
    top = cli.build_parser()
    yield "ckptsched", top
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, parser in action.choices.items():
                yield f"ckptsched {name}", parser


def test_every_subcommand_is_there_with_a_description():
    names = [name for name, _ in _parsers()]
    assert names == ["ckptsched"] + [f"ckptsched {n}" for n in cli.SUBCOMMANDS]
    top = cli.build_parser()
    (sub,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    listed = {a.dest: a.help for a in sub._choices_actions}
    for name, parser in _parsers():
        assert parser.description and parser.description.strip(), name
        if name != "ckptsched":
            assert listed[name.split()[1]].strip(), name


@pytest.mark.parametrize("name, parser", list(_parsers()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_option_has_help(name, parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        what = f"{name} {'/'.join(action.option_strings) or action.dest}"
        assert action.help not in (None, argparse.SUPPRESS), what
        assert action.help.strip(), what


def test_help_lists_the_exit_statuses(capsys):
    code, out, err = invoke(capsys, "--help")
    assert code == 0
    epilog = out[out.index("exit status:"):]
    for status in (0, 1, 2, 130, 141):
        assert re.search(rf"^\s+{status}\s+\S", epilog, re.M), status
    assert (cli.EXIT_OK, cli.EXIT_FINDING, cli.EXIT_USAGE) == (0, 1, 2)


def test_exit_statuses_of_plan(capsys):
    assert invoke(capsys, "plan", "--max-steps", "30", "--every", "10")[0] == 0
    assert invoke(capsys, "plan", "--max-steps", "30", "--every", "7", "--no-final",
                  "--strict")[0] == 1
    assert invoke(capsys, "plan", "--max-steps", "0")[0] == 2
    assert invoke(capsys, "plan", "--no-such-flag")[0] == 2
    assert invoke(capsys)[0] == 2  # no command


# ---- a closed standard output -------------------------------------------------------------

def _sweep_csv(tmp_path, runs=4_000):
    """A sweep whose per-run table (two thirds of the runs flagged UNEVEN_TAIL, with their
    messages) is several times a pipe's 64 KiB buffer, as CSV and as JSON."""
    path = tmp_path / "runs.csv"
    path.write_text("max_steps,every\n" + "".join(f"{100 + i},3\n" for i in range(runs)))
    return str(path)


CLOSED_PIPE_COMMANDS = {
    "plan": ["plan", "--max-steps", "100000", "--every", "1", "--rows", "100000"],
    "plan --json": ["plan", "--max-steps", "100000", "--every", "1", "--json"],
    "plan --compare-hf": ["plan", "--max-steps", "100000", "--ratio", "0.0001", "--every", "1",
                          "--compare-hf", "--rows", "100000"],
    "sweep": ["sweep", "RUNS"],
    "sweep --json": ["sweep", "RUNS", "--json"],
    "--help": ["--help"],
    "--version": ["--version"],
    "plan --help": ["plan", "--help"],
    "sweep --help": ["sweep", "--help"],
    "check --help": ["check", "--help"],
    "bench --help": ["bench", "--help"],
}


@pytest.mark.parametrize("argv", CLOSED_PIPE_COMMANDS.values(), ids=CLOSED_PIPE_COMMANDS.keys())
def test_stdout_closed_before_the_first_write(tmp_path, argv):
    """Nobody reads stdout at all (the read end is closed before the child starts): the
    first write fails; the child exits 141 with nothing on stderr."""
    argv = [_sweep_csv(tmp_path) if a == "RUNS" else a for a in argv]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = run_child(argv, tmp_path, stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    assert result.returncode == cli.EXIT_BROKEN_PIPE, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert "Error" not in result.stderr, result.stderr


MID_OUTPUT = {k: v for k, v in CLOSED_PIPE_COMMANDS.items() if "help" not in k and "version" not in k}


@pytest.mark.parametrize("argv", MID_OUTPUT.values(), ids=MID_OUTPUT.keys())
def test_stdout_closed_after_the_first_line(tmp_path, argv):
    """`ckptsched ... | head -1`: the reader goes away mid-output (the output is larger
    than a pipe's buffer); the child stops quietly with 141."""
    argv = [_sweep_csv(tmp_path) if a == "RUNS" else a for a in argv]
    child = subprocess.Popen([sys.executable, "-m", "ckptsched", *argv], cwd=tmp_path,
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait() == cli.EXIT_BROKEN_PIPE, stderr
    assert first.strip()
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert "BrokenPipe" not in stderr


# ---- resource errors become one line ----------------------------------------------------------

def _raiser(error):
    def raise_it(*args, **kwargs):
        raise error
    return raise_it


def _patch_core(monkeypatch, command, error):
    """Make the work of `command` raise `error`."""
    from ckptsched.cli import bench, plan, sweep
    from ckptsched.integrations import axolotl

    target = {"plan": (plan, "Schedule"), "sweep": (sweep, "sweep"),
              "bench": (bench, "run_suite"), "check": (axolotl, "schedules_from_config")}[command]
    monkeypatch.setattr(*target, _raiser(error))


def _argv(command, tmp_path):
    csv_path = tmp_path / "runs.csv"
    csv_path.write_text("max_steps,every\n10,2\n")
    return {"plan": ["plan", "--max-steps", "10", "--every", "2"],
            "sweep": ["sweep", str(csv_path)],
            "bench": ["bench", "--quick"],
            "check": ["check", str(tmp_path / "config.yaml"), "--num-examples", "10"]}[command]


@pytest.mark.parametrize("command", ["plan", "sweep", "check", "bench"])
@pytest.mark.parametrize("error, words", [(MemoryError(), "out of memory"),
                                          (MemoryError("cannot allocate 8 EiB"), "8 EiB"),
                                          (RecursionError(), "nested too deeply")])
def test_resource_errors_are_one_line_exit_2(monkeypatch, capsys, tmp_path, command, error, words):
    _patch_core(monkeypatch, command, error)
    code, out, err = invoke(capsys, *_argv(command, tmp_path))
    assert code == 2
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"ckptsched {command}: error: ") and words in last, last


@pytest.mark.parametrize("command", ["plan", "sweep", "check", "bench"])
def test_ctrl_c_exits_130_without_a_traceback(monkeypatch, capsys, tmp_path, command):
    _patch_core(monkeypatch, command, KeyboardInterrupt())
    code, out, err = invoke(capsys, *_argv(command, tmp_path))
    assert code == cli.EXIT_INTERRUPTED == 130
    assert err.strip() == f"ckptsched {command}: interrupted"


def test_a_multi_line_message_is_printed_on_one_line(monkeypatch, capsys, tmp_path):
    _patch_core(monkeypatch, "plan", ValueError("first line\n  second line"))
    code, out, err = invoke(capsys, *_argv("plan", tmp_path))
    assert code == 2
    assert err.strip().splitlines()[-1] == "ckptsched plan: error: first line second line"


# ---- integers over Python's digit limit ----------------------------------------------------

PLAN_RUN = ["--max-steps", "100"]
INTEGER_FLAGS = [
    (["plan", "--steps-per-epoch", HUGE_DIGITS, "--epochs", "1"], "--steps-per-epoch"),
    (["plan", "--max-steps", HUGE_DIGITS], "--max-steps"),
    (["plan", "--num-examples", HUGE_DIGITS, "--epochs", "1"], "--num-examples"),
    (["plan", *PLAN_RUN, "--micro-batch-size", HUGE_DIGITS], "--micro-batch-size"),
    (["plan", *PLAN_RUN, "--grad-accum", HUGE_DIGITS], "--grad-accum"),
    (["plan", *PLAN_RUN, "--world-size", HUGE_DIGITS], "--world-size"),
    (["plan", *PLAN_RUN, "--saves-per-epoch", HUGE_DIGITS], "--saves-per-epoch"),
    (["plan", *PLAN_RUN, "--count", HUGE_DIGITS], "--count"),
    (["plan", *PLAN_RUN, "--every", HUGE_DIGITS], "--every"),
    (["plan", *PLAN_RUN, "--every", "5", "--start", HUGE_DIGITS], "--start"),
    (["plan", *PLAN_RUN, "--every", "5", "--until", HUGE_DIGITS], "--until"),
    (["plan", *PLAN_RUN, "--at", f"5,{HUGE_DIGITS}"], "--at"),
    (["plan", *PLAN_RUN, "--every", "5", "--min-interval", HUGE_DIGITS], "--min-interval"),
    (["plan", *PLAN_RUN, "--every", "5", "--max-gap", HUGE_DIGITS], "--max-gap"),
    (["plan", *PLAN_RUN, "--every", "5", "--rows", HUGE_DIGITS], "--rows"),
    (["plan", "--steps-per-epoch", "10", "--epochs", HUGE_DIGITS], "--epochs"),
    (["plan", *PLAN_RUN, "--ratio", "0." + HUGE_DIGITS], "--ratio"),
    (["plan", *PLAN_RUN, "--samples-per-step", HUGE_DIGITS], "--samples-per-step"),
    (["plan", *PLAN_RUN, "--tokens-per-step", "1/" + HUGE_DIGITS], "--tokens-per-step"),
    (["check", "config.yaml", "--num-examples", HUGE_DIGITS], "--num-examples"),
    (["check", "config.yaml", "--num-examples", "10", "--world-size", HUGE_DIGITS], "--world-size"),
    (["check", "config.yaml", "--num-examples", "10", "--rows", HUGE_DIGITS], "--rows"),
    (["sweep", "RUNS", "--checkpoint-bytes", HUGE_DIGITS], "--checkpoint-bytes"),
    (["bench", "--repeat", HUGE_DIGITS], "--repeat"),
]


@pytest.mark.parametrize("argv, flag", INTEGER_FLAGS, ids=[f"{a[0]} {f}" for a, f in INTEGER_FLAGS])
@pytest.mark.parametrize("sign", ["", "-"])
def test_integers_over_the_digit_limit_name_the_flag(capsys, tmp_path, argv, flag, sign):
    csv_path = tmp_path / "runs.csv"
    csv_path.write_text("max_steps,every\n10,2\n")
    argv = [str(csv_path) if a == "RUNS" else a for a in argv]
    argv = [_with_sign(a, sign) if len(a) > 4000 else a for a in argv]
    code, out, err = invoke(capsys, *argv)
    assert code == 2, err[-300:]
    last = err.strip().splitlines()[-1]
    assert flag in last, last
    assert len(last) < 400, last  # the value is abbreviated
    assert "4300" not in last and "set_int_max_str_digits" not in last, last
    assert "Traceback" not in err


@pytest.mark.parametrize("flag", ["--epochs", "--ratio", "--samples-per-step", "--tokens-per-step"])
@pytest.mark.parametrize("number", ["1e400000000", "1e-400000000", "2.5E+99999",
                                    "1e" + HUGE_DIGITS])
def test_huge_exponents_are_refused_before_they_are_computed(capsys, flag, number):
    # Fraction("1e400000000") would build 10**400000000 (minutes, gigabytes) first
    code, out, err = invoke(capsys, "plan", "--steps-per-epoch", "10", "--epochs", "2",
                            flag, number)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert flag in last and "exponent" in last and len(last) < 400, last


def test_exponents_within_reach_are_exact(capsys):
    code, out, err = invoke(capsys, "plan", "--steps-per-epoch", "10", "--epochs", "25e-1",
                            "--ratio", "7E-2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["run"]["epochs"] == "5/2" and data["run"]["total_steps"] == 25
    assert "ratio=0.07" in data["schedule"]


def _with_sign(value, sign):
    """The long value with `sign` before its last comma-separated part."""
    head, _, last = value.rpartition(",")
    return f"{head}{',' if head else ''}{sign}{last}"


def test_integer_parsing_matches_int():
    for text in ["0", "7", "-7", "+7", " 42 ", "1_000", "0007", str(2**63 - 1), str(-(2**63)),
                 "9" * 19]:
        assert _shared.integer(text) == int(text)
    for text in ["", "x", "1.5", "1e3", "1__0", "_1", "0x10", "--1"]:
        with pytest.raises(ValueError):
            _shared.integer(text)
    for text in ["1" + "0" * 19, "-" + "9" * 25, HUGE_DIGITS, "0" * 5000 + "1" * 20]:
        with pytest.raises(OverflowError, match="exceeds the int64 range"):
            _shared.integer(text)
    assert _shared.integer("0" * 5000 + "12") == 12  # leading zeros are not digits of size


def test_shown_abbreviates_long_values():
    assert _shared.shown("abc") == "'abc'"
    long = _shared.shown("x" * 10_000)
    assert len(long) < 80 and "10000 characters" in long
    message = _shared.shortened("every='" + "9" * 5000 + "' is too large")
    assert message.startswith("every='999") and message.endswith("(5008 characters) is too large")
    assert len(message) < 100
    assert _shared.shortened("short words stay") == "short words stay"


# ---- plans too large to build -------------------------------------------------------------

S_HUGE, E_HUGE = 10**15, 1000
T_HUGE = S_HUGE * E_HUGE


def _rows(out):
    """(ordinal, step) rows of the plan table."""
    return [(m.group(1), int(m.group(2)))
            for m in re.finditer(r"^\s*(\d+|\?)\s+(\d+)\s+(?:epoch|step) ", out, re.M)]


def test_a_huge_plan_prints_its_ends(backend, capsys):
    code, out, err = invoke(capsys, "plan", "--steps-per-epoch", str(S_HUGE), "--epochs",
                            str(E_HUGE), "--every", "1", "--rows", "6")
    assert code == 0, err
    expected = [1, 2, 3, T_HUGE - 2, T_HUGE - 1, T_HUGE]  # every step of the run
    assert _rows(out) == [(str(s), s) for s in expected]
    assert f"\n{T_HUGE} saves\n" in out
    assert f"epoch {E_HUGE}, step {S_HUGE} of {S_HUGE}" in out


def test_a_huge_plan_with_overlapping_rules(capsys):
    # every 3 and 10**9 evenly spaced saves (at the multiples of 10**9): too many to count.
    # The Python backend says so at once; the C backend first walks 2**27 steps (seconds),
    # with the same answer, so this test of the CLI uses the Python one.
    from ckptsched import _backend

    n = 10**9
    with _backend.use("python"):
        _overlapping_rules(capsys, n)


def _overlapping_rules(capsys, n):
    code, out, err = invoke(capsys, "plan", "--max-steps", str(T_HUGE), "--every", "3",
                            "--count", str(n), "--rows", "8")
    assert code == 0, err
    window = range(T_HUGE - 100, T_HUGE + 1)
    union_tail = [s for s in window if s % 3 == 0 or s % (T_HUGE // n) == 0]
    assert _rows(out) == [("1", 3), ("2", 6), ("3", 9), ("4", 12)] + \
        [("?", s) for s in union_tail[-4:]]
    assert "unknown number of saves" in out


def test_a_huge_plan_compared_with_transformers(backend, capsys):
    k = 10**6
    code, out, err = invoke(capsys, "plan", "--steps-per-epoch", str(S_HUGE), "--epochs",
                            str(E_HUGE), "--saves-per-epoch", str(k), "--compare-hf", "--rows", "6")
    assert code == 0, err
    ratio = 1.0 / (k * E_HUGE)  # Axolotl's float
    interval = math.ceil(T_HUGE * ratio)
    # k evenly spaced saves per epoch, ceil(j * S / k): near the start and the end of the run
    ours = {-(-j * S_HUGE // k) + e * S_HUGE for e, js in ((0, range(1, 4)),
                                                          (E_HUGE - 1, range(k - 3, k + 1)))
            for j in js}
    theirs = {interval * i for i in range(1, 4)} | {T_HUGE} | \
        {interval * (T_HUGE // interval - i) for i in range(3)}
    union = sorted(ours | theirs)
    rows = [(int(m.group(1)), m.group(2), m.group(3))
            for m in re.finditer(r"^\s*(\d+)\s+(save|-)\s+(save|-)\s+epoch", out, re.M)]
    expected = union[:3] + union[-3:]
    assert [r[0] for r in rows] == expected
    for step, mine, hf in rows:
        assert (mine == "save") == (step in ours) and (hf == "save") == (step in theirs)
    hf_count = T_HUGE // interval + (T_HUGE % interval != 0)  # its multiples, and T
    assert f"ckptsched: {k * E_HUGE} saves" in out and f"{hf_count} saves" in out


def test_a_huge_plan_as_json(backend, capsys):
    code, out, err = invoke(capsys, "plan", "--steps-per-epoch", str(S_HUGE), "--epochs",
                            str(E_HUGE), "--every", "2", "--compare-hf", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["count"] == T_HUGE // 2 and data["steps"] is None
    assert data["compare_hf"]["steps"] is None
    assert data["compare_hf"]["count"] == T_HUGE // 2


def test_too_large_for_min_interval_names_the_flag(backend, capsys):
    code, out, err = invoke(capsys, "plan", "--max-steps", str(T_HUGE), "--every", "2",
                            "--min-interval", "3")
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert "--min-interval" in last and "134217728" in last
    assert last.endswith("leave out --min-interval for this run, or plan fewer steps)")
    code, out, err = invoke(capsys, "plan", "--max-steps", str(T_HUGE), "--every", "3",
                            "--max-gap", "2")
    assert code == 2 and "argument --max-gap:" in err and "leave out --max-gap" in err


# ---- the ends of a schedule from next_after alone --------------------------------------------

rules = st.fixed_dictionaries({}, optional={
    "every": st.integers(1, 40), "count": st.integers(1, 12), "saves_per_epoch": st.integers(1, 5),
    "at": st.lists(st.integers(1, 300), max_size=5), "first": st.booleans(),
    "final": st.booleans()})


@given(total=st.integers(1, 300), spe=st.integers(1, 80), kwargs=rules, k=st.integers(0, 12))
def test_first_and_last_steps_match_the_whole_schedule(backend, total, spe, kwargs, k):
    run = Run(spe, Fraction(total, spe)) if "saves_per_epoch" in kwargs else Run(max_steps=total)
    sched = Schedule(run, **kwargs)
    steps = [int(s) for s in sched.steps]
    assert _shared.first_steps(sched.next_after, k) == steps[:k]
    assert _shared.last_steps(sched.next_after, sched.last, k) == (steps[-k:] if k else [])
    for step in range(1, total + 2):
        below = [s for s in steps if s < step]
        assert _shared.previous_step(sched.next_after, step) == (below[-1] if below else None)


@given(total=st.integers(1, 200), every=st.integers(1, 30), rows=st.integers(1, 30))
def test_the_table_is_the_ends_of_the_whole_schedule(backend, total, every, rows):
    from ckptsched.cli.plan import _table_rows

    sched = Schedule(Run(max_steps=total), every=every)
    steps = [int(s) for s in sched.steps]
    table = list(_table_rows(sched.next_after, sched.last, rows))
    assert list(_table_rows(sched.next_after, sched.last, rows, len(steps))) == table
    if len(steps) <= rows:
        assert table == list(enumerate(steps, 1))
    else:
        half = max(rows // 2, 1)
        assert table == list(enumerate(steps[:half], 1)) + [None] + \
            list(zip(range(-half, 0), steps[-half:]))


# ---- output that cannot be written, streams closed at start ----------------------------------

class FullDisk:
    """A stdout whose writes fail as on a full disk."""

    def write(self, text):
        raise OSError(28, "No space left on device")

    def flush(self):
        pass


def test_output_that_cannot_be_written_in_process(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", FullDisk())
    assert cli.main(["plan", "--max-steps", "10", "--every", "2"]) == 2
    err = capsys.readouterr().err
    assert err == "ckptsched plan: error: cannot write the output: No space left on device\n"


def test_output_to_a_full_device(tmp_path):
    if not os.path.exists("/dev/full"):  # Linux only; the in-process test above covers the rest
        return
    for argv in (["plan", "--max-steps", "10", "--every", "2"],
                 ["plan", "--max-steps", "100000", "--every", "1", "--rows", "100000"]):
        with open("/dev/full", "w") as full:
            result = run_child(argv, tmp_path, stdout=full, stderr=subprocess.PIPE, text=True)
        assert result.returncode == 2
        assert result.stderr.strip().endswith("cannot write the output: No space left on device")
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_streams_closed_at_start(tmp_path):
    """`>&-` and `2>&-`: Python starts with sys.stdout / sys.stderr None; the command still
    runs (sweep -o writes its file) and never prints a traceback elsewhere."""
    csv_path = tmp_path / "runs.csv"
    csv_path.write_text("max_steps,every\n10,2\n")
    code = ("import os, sys; os.close(1); os.close(2); sys.stdout = sys.stderr = None\n"
            "from ckptsched.cli import main\n"
            "status = [main(['sweep', 'runs.csv', '-o', 'out.csv']),\n"
            "          main(['plan', '--max-steps', '10', '--every', '0']),\n"
            "          main(['plan', '--max-steps', '10', '--every', '2'])]\n"
            "open('status.txt', 'w').write(repr(status))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=child_env())
    assert result.returncode == 0
    assert (tmp_path / "status.txt").read_text() == "[0, 2, 0]"
    assert (tmp_path / "out.csv").read_text().splitlines() == ["row,count,peak,survivors,flags,messages",
                                                                "0,5,5,5,,"]


def test_plan_reports_each_diagnostic_once_in_its_own_listing(capsys):
    """The command lists diagnostics itself: no ScheduleWarning (nor log record) repeats them."""
    import warnings

    from ckptsched import ScheduleWarning
    from ckptsched.cli import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main(["plan", "--steps-per-epoch", "10", "--max-steps", "5",
                       "--saves-per-epoch", "20"])
    assert status == 0
    assert not [w for w in caught if issubclass(w.category, ScheduleWarning)]
    captured = capsys.readouterr()
    assert captured.out.count("FEWER_THAN_REQUESTED") == 1
    assert "FEWER_THAN_REQUESTED" not in captured.err

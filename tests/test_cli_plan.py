"""`ckptsched plan`: the table, --json, --compare-hf, and exit codes (0 success, 1 a warning
with --strict, 2 bad usage with a message naming the flag)."""
import json
import math
import re
from fractions import Fraction

import pytest

pytest.importorskip("ckptsched.cli.plan")

from ckptsched import cli  # noqa: E402

RUN_217x4 = ["--steps-per-epoch", "217", "--epochs", "4"]
EXPECTED_217x4_8 = [e * 217 + math.ceil(Fraction(j * 217, 8)) for e in range(4) for j in range(1, 9)]


def invoke(capsys, *argv):
    """(exit code, stdout, stderr) of `ckptsched plan ARGV`; argparse errors exit via SystemExit."""
    try:
        code = cli.main(["plan", *argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def table_steps(out):
    """The step column of the plan table (rows like '   3        651  epoch 3, ...')."""
    return [int(m.group(1)) for m in re.finditer(r"^\s*\d+\s+(\d+)\s+epoch \d+", out, re.M)]


def test_plan_table(backend, capsys):
    code, out, err = invoke(capsys, *RUN_217x4, "--saves-per-epoch", "8")
    assert code == 0, err
    assert table_steps(out) == EXPECTED_217x4_8
    assert re.search(r"\b32 saves\b", out)
    assert "HF_MISMATCH" in out
    assert "epoch 4, step 217 of 217" in out


def test_plan_table_without_epochs(backend, capsys):
    code, out, err = invoke(capsys, "--max-steps", "100", "--ratio", "0.07")
    assert code == 0, err
    rows = [int(m.group(1)) for m in re.finditer(r"^\s*\d+\s+(\d+)\s+step \d+ of 100", out, re.M)]
    assert rows == list(range(7, 99, 7)) + [100]
    assert "HF_MISMATCH" in out and "UNEVEN_TAIL" in out


def test_plan_table_elides_the_middle(backend, capsys):
    code, out, err = invoke(capsys, *RUN_217x4, "--saves-per-epoch", "8", "--rows", "6")
    assert code == 0, err
    steps = table_steps(out)
    assert steps == EXPECTED_217x4_8[:3] + EXPECTED_217x4_8[-3:]
    assert "..." in out and re.search(r"\b32 saves\b", out)


def test_plan_json(backend, capsys):
    code, out, err = invoke(capsys, *RUN_217x4, "--saves-per-epoch", "8", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["steps"] == EXPECTED_217x4_8
    assert data["count"] == 32
    assert data["backend"] == backend.NAME
    assert data["run"]["total_steps"] == 868 and data["run"]["steps_per_epoch"] == 217
    assert data["run"]["num_epochs"] == 4
    hf = [d for d in data["diagnostics"] if d["code"] == "HF_MISMATCH"]
    assert len(hf) == 1 and hf[0]["severity"] == "info" and hf[0]["data"]["hf_count"] == 31


def test_plan_json_rational_epochs_and_dataset(backend, capsys):
    code, out, err = invoke(capsys, "--num-examples", "1736", "--grad-accum", "8", "--epochs", "2.3",
                            "--saves-per-epoch", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["run"]["steps_per_epoch"] == 217
    T = math.ceil(Fraction(23, 10) * 217)  # 500
    assert data["run"]["total_steps"] == T
    assert data["steps"] == [217, 434, T]


def test_plan_compare_hf(backend, capsys):
    code, out, err = invoke(capsys, *RUN_217x4, "--saves-per-epoch", "8", "--compare-hf", "--json")
    assert code == 0, err
    data = json.loads(out)
    hf = data["compare_hf"]
    assert hf["count"] == 31
    assert hf["steps"] == list(range(28, 869, 28))  # transformers: every ceil(868/32) = 28


@pytest.mark.parametrize("argv", [
    ["--max-steps", "800", "--every", "1000"],                # OUT_OF_RANGE
    ["--max-steps", "30", "--every", "7", "--no-final"],      # FINAL_NOT_SAVED
    ["--max-steps", "30", "--every", "10", "--max-gap", "5"],  # LONG_GAP
], ids=["OUT_OF_RANGE", "FINAL_NOT_SAVED", "LONG_GAP"])
def test_plan_strict_exits_1_on_a_warning(backend, capsys, argv):
    code, out, err = invoke(capsys, *argv)
    assert code == 0, err
    code, out, err = invoke(capsys, *argv, "--strict")
    assert code == 1
    assert "(warning)" in out
    code, out, err = invoke(capsys, *argv, "--strict", "--json")
    assert code == 1 and any(d["severity"] == "warning" for d in json.loads(out)["diagnostics"])


def test_plan_strict_exits_0_on_info_only(backend, capsys):
    code, out, err = invoke(capsys, "--max-steps", "100", "--ratio", "0.07", "--strict")
    assert code == 0, err
    assert "(info)" in out


@pytest.mark.parametrize("argv, flag", [
    (["--max-steps", "0"], "--max-steps"),
    (["--max-steps", "ten"], "--max-steps"),
    (["--steps-per-epoch", "-3", "--epochs", "1"], "--steps-per-epoch"),
    (["--steps-per-epoch", "10", "--epochs", "abc"], "--epochs"),
    (["--steps-per-epoch", "10", "--epochs", "0"], "--epochs"),
    (["--max-steps", "100", "--count", "1.5"], "--count"),
    (["--max-steps", "100", "--every", "abc"], "--every"),
    (["--max-steps", "100", "--every", "0"], "--every"),
    (["--max-steps", "100", "--every", "2ep"], "--every"),
    (["--max-steps", "100", "--ratio", "1.5"], "--ratio"),
    (["--max-steps", "100", "--ratio", "x"], "--ratio"),
    (["--max-steps", "100", "--at", "1,x"], "--at"),
    (["--max-steps", "100", "--at", "1.5"], "--at"),  # negatives are dropped, not errors
    (["--max-steps", "100", "--every", "5", "--start", "0"], "--start"),
    (["--max-steps", "100", "--start", "5"], "--start"),
    (["--max-steps", "100", "--every", "5", "--min-interval", "-1"], "--min-interval"),
    (["--max-steps", "100", "--max-gap", "0"], "--max-gap"),
    (["--max-steps", "100", "--rows", "0"], "--rows"),
    (["--max-steps", "100", "--partial-accumulation", "sometimes"], "--partial-accumulation"),
    (["--num-examples", "4", "--grad-accum", "8", "--drop-last", "--partial-accumulation", "drop",
      "--epochs", "1"], "--num-examples"),
    (["--steps-per-epoch", "10"], "--epochs"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_plan_bad_value_exits_2_naming_the_flag(capsys, argv, flag):
    code, out, err = invoke(capsys, *argv)
    assert code == 2, (out, err)
    assert "usage:" in err
    last = err.strip().splitlines()[-1]
    assert flag in last, last


def test_plan_without_run_geometry_exits_2(backend, capsys):
    code, out, err = invoke(capsys, "--every", "5")
    assert code == 2
    assert "--max-steps" in err or "--steps-per-epoch" in err

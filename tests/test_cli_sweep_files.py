"""`ckptsched sweep`: the input CSV and the --output file at their edges (encodings, sizes,
empty files, directories, stdin), each ending in one line naming the file and exit 2."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ckptsched
from ckptsched.cli import main

RUNS = "name,max_steps,every\na,100,7\nb,30,10\n"


def expected_rows():
    """The per-run table of RUNS from the exact model: every k in a run of T, plus T."""
    rows = []
    for i, (name, T, k) in enumerate([("a", 100, 7), ("b", 30, 10)]):
        rows.append({"row": str(i), "name": name, "count": str(T // k + (T % k != 0))})
    return rows


def invoke(capsys, *argv):
    try:
        code = main(["sweep", *argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def last_line(err):
    return err.strip().splitlines()[-1]


def table(out):
    return [{k: r[k] for k in ("row", "name", "count")} for r in csv.DictReader(io.StringIO(out))]


def write(tmp_path, data, name="runs.csv"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


# ---- encodings ---------------------------------------------------------------------------

def test_plain_csv(capsys, tmp_path):
    code, out, err = invoke(capsys, write(tmp_path, RUNS))
    assert code == 0, err
    assert table(out) == expected_rows()


def test_a_byte_order_mark_is_accepted(capsys, tmp_path):
    code, out, err = invoke(capsys, write(tmp_path, b"\xef\xbb\xbf" + RUNS.encode()))
    assert code == 0, err
    assert table(out) == expected_rows()


def test_crlf_line_ends(capsys, tmp_path):
    code, out, err = invoke(capsys, write(tmp_path, RUNS.replace("\n", "\r\n")))
    assert code == 0, err
    assert table(out) == expected_rows()


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_a_byte_that_is_not_utf8_names_file_offset_and_line(capsys, tmp_path, bom):
    data = bom + b"name,max_steps,every\nna\xefve,100,7\n"
    path = write(tmp_path, data)
    code, out, err = invoke(capsys, path)
    assert code == 2
    offset = data.index(b"\xefve")
    line = last_line(err)
    assert path in line and f"offset {offset}" in line and "line 2" in line and "0xef" in line
    assert data[:offset].count(b"\n") + 1 == 2


def test_latin1_file(capsys, tmp_path):
    path = write(tmp_path, "name,max_steps,every\ncafé,100,7\n".encode("latin-1"))
    code, out, err = invoke(capsys, path)
    assert code == 2 and "not UTF-8" in last_line(err) and path in last_line(err)


# ---- sizes -------------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["name", "every"])
def test_a_cell_over_the_csv_field_limit(capsys, tmp_path, column):
    big = "7" * (csv.field_size_limit() + 1)
    cells = {"name": "a", "max_steps": "100", "every": "7", column: big}
    path = write(tmp_path, "name,max_steps,every\nb,30,10\n" + ",".join(cells.values()) + "\n")
    code, out, err = invoke(capsys, path)
    assert code == 2
    line = last_line(err)
    assert path in line and "line 3" in line and str(csv.field_size_limit()) in line
    assert len(line) < 400


@pytest.mark.parametrize("column, cell", [("every", "9" * 5000), ("epochs", "9" * 5000),
                                          ("ratio", "1/" + "9" * 5000),
                                          ("checkpoint_bytes", "-" + "9" * 5000)])
def test_cells_over_the_digit_limit(capsys, tmp_path, column, cell):
    header = "steps_per_epoch,epochs,max_steps,every,ratio,checkpoint_bytes"
    row = {"steps_per_epoch": "10", "epochs": "2", "max_steps": "", "every": "5", "ratio": "",
           "checkpoint_bytes": "", column: cell}
    path = write(tmp_path, header + "\n" + ",".join(row[c] for c in header.split(",")) + "\n")
    code, out, err = invoke(capsys, path)
    assert code == 2
    line = last_line(err)
    assert f"line 2, column {column}" in line and "int64" in line and len(line) < 400, line


# ---- empty and odd files -------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "\n\n", "  \n", ",,\n"], ids=["empty", "blank lines",
                                                                      "spaces", "empty header"])
def test_empty_files(capsys, tmp_path, text):
    path = write(tmp_path, text)
    code, out, err = invoke(capsys, path)
    assert code == 2
    assert path in last_line(err) and "empty" in last_line(err)


def test_header_only_is_a_sweep_of_no_runs(capsys, tmp_path):
    code, out, err = invoke(capsys, write(tmp_path, "max_steps,every\n"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["runs"] == [] and doc["summary"]["runs"] == 0
    assert doc["summary"]["total_checkpoints"] == 0


def test_duplicate_and_unknown_columns(capsys, tmp_path):
    code, out, err = invoke(capsys, write(tmp_path, "max_steps,every,max_steps\n1,2,3\n"))
    assert code == 2 and "max_steps appear more than once" in last_line(err)
    code, out, err = invoke(capsys, write(tmp_path, "max_steps,evry\n1,2\n"))
    assert code == 2 and "'evry'" in last_line(err)


def test_ragged_rows_and_unclosed_quotes_name_the_line(capsys, tmp_path):
    code, out, err = invoke(capsys, write(tmp_path, "max_steps,every\n10,2\n10\n"))
    assert code == 2 and "line 3" in last_line(err)
    code, out, err = invoke(capsys, write(tmp_path, 'max_steps,every\n10,2\n"10,2\n'))
    assert code == 2 and "line 3" in last_line(err)


def test_a_sweep_error_names_the_real_line(capsys, tmp_path):
    # blank lines and a quoted multi-line name: run 1 is on line 6, not on line 1 + 2
    text = 'name,max_steps,every\n\n"first\nrun",10,2\n\nsecond,10,0\n'
    code, out, err = invoke(capsys, write(tmp_path, text))
    assert code == 2
    line = last_line(err)
    assert "every[1]" in line and "run 1 is on line 6" in line, line
    assert text.splitlines()[5] == "second,10,0"


def test_input_is_a_directory_or_missing(capsys, tmp_path):
    code, out, err = invoke(capsys, str(tmp_path))
    assert code == 2 and str(tmp_path) in last_line(err) and "directory" in last_line(err)
    missing = str(tmp_path / "nope.csv")
    code, out, err = invoke(capsys, missing)
    assert code == 2 and missing in last_line(err) and "No such file" in last_line(err)


# ---- stdin -------------------------------------------------------------------------------

def _child(argv, data, tmp_path):
    where = str(Path(ckptsched.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([where, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "ckptsched", "sweep", *argv], input=data,
                          capture_output=True, cwd=tmp_path, env=env)


def test_stdin(tmp_path):
    result = _child(["-"], b"\xef\xbb\xbf" + RUNS.encode(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert table(result.stdout.decode()) == expected_rows()
    result = _child(["-"], b"max_steps,every\n10,\xff\n", tmp_path)
    assert result.returncode == 2
    line = last_line(result.stderr.decode())
    assert line.startswith("ckptsched sweep: error: stdin is not UTF-8") and "offset 19" in line
    assert "Traceback" not in result.stderr.decode()


# ---- --output ----------------------------------------------------------------------------

def test_output_file(capsys, tmp_path):
    path = write(tmp_path, RUNS)
    code, stdout_table, _ = invoke(capsys, path)
    target = tmp_path / "table.csv"
    code, out, err = invoke(capsys, path, "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text() == stdout_table
    assert "runs: 2" in err


@pytest.mark.parametrize("where", ["directory", "missing folder", "under a file"])
def test_output_that_cannot_be_written(capsys, tmp_path, where):
    (tmp_path / "file.txt").write_text("x")
    target = {"directory": tmp_path, "missing folder": tmp_path / "no" / "t.csv",
              "under a file": tmp_path / "file.txt" / "t.csv"}[where]
    code, out, err = invoke(capsys, write(tmp_path, RUNS), "--output", str(target))
    assert code == 2
    line = last_line(err)
    assert line.startswith(f"ckptsched sweep: error: --output {target}: cannot write it")
    assert "Traceback" not in err


def test_a_bad_csv_leaves_the_output_file_alone(capsys, tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("previous\n")
    code, out, err = invoke(capsys, write(tmp_path, "max_steps,every\n10,x\n"), "-o", str(target))
    assert code == 2 and target.read_text() == "previous\n"


def test_checkpoint_bytes_flag(capsys, tmp_path):
    path = write(tmp_path, RUNS)
    code, out, err = invoke(capsys, path, "--checkpoint-bytes", "1_000", "--json")
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert [r["bytes_written"] for r in runs] == [1000 * int(r["count"])
                                                  for r in expected_rows()]
    code, out, err = invoke(capsys, path, "--checkpoint-bytes", "lots")
    assert code == 2 and "--checkpoint-bytes" in last_line(err) and "'lots'" in last_line(err)


@pytest.mark.parametrize("size, n_bytes", [("16GB", 16 * 10**9), ("500MiB", 500 * 2**20),
                                           ("2e9", 2 * 10**9), ("1.5TB", 15 * 10**11)])
def test_checkpoint_sizes_as_people_write_them(capsys, tmp_path, size, n_bytes):
    """--checkpoint-bytes and the checkpoint_bytes column take the sizes of ckptsched.sizes."""
    rows = expected_rows()
    code, out, err = invoke(capsys, write(tmp_path, RUNS), "--checkpoint-bytes", size, "--json")
    assert code == 0, err
    assert [r["bytes_written"] for r in json.loads(out)["runs"]] == \
        [n_bytes * int(r["count"]) for r in rows]
    path = write(tmp_path, "max_steps,every,checkpoint_bytes\n100,10,%s\n50,7,1\n" % size)
    code, out, err = invoke(capsys, path, "--json")
    assert code == 0, err
    first = json.loads(out)["runs"][0]
    assert first["bytes_written"] == n_bytes * (100 // 10)  # every 10 of 100 steps, 100 included


@pytest.mark.parametrize("cell", ["16 parsecs", "0.5B", "0GB"])
def test_a_bad_checkpoint_size_cell_names_its_line_and_column(capsys, tmp_path, cell):
    path = write(tmp_path, "max_steps,every,checkpoint_bytes\n100,10,1GB\n50,7,%s\n" % cell)
    code, out, err = invoke(capsys, path)
    line = last_line(err)
    assert code == 2 and "line 3, column checkpoint_bytes" in line and repr(cell) in line, line

"""`ckptsched sweep runs.csv`: checkpoints, disk and diagnostics of every run of a sweep.

The CSV has one run per row; its columns are `ckptsched.sweep` arguments (an empty cell
leaves the argument out of that run) plus an optional `name` copied to the output.  The
file is UTF-8 (a byte-order mark is dropped; '-' reads standard input); a header with no
rows is a sweep of no runs.  The per-run table (CSV, or JSON with --json) goes to stdout or
--output, with each run's peak checkpoints on disk, survivors, bytes written and peak
bytes (with checkpoint_bytes), codes and, for flagged runs, the diagnostic messages of its
Schedule; the summary (runs, total checkpoints, the largest peak disk of one run, bytes
written, runs per diagnostic code) goes to stderr.  A file that cannot be read or written,
a cell that is not a number (or over the csv module's field limit), and a bad run end in
one line naming the file, its line and column or the run, with exit status 2.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from fractions import Fraction

from ..diagnostics import CODES
from ..sizes import parse_size
from ..sweeps import sweep
from ._shared import integer, is_integer, read_text, shown

HELP = "count the checkpoints, disk and diagnostics of each run of a sweep (a CSV of runs)"

INTEGER_COLUMNS = ("steps_per_epoch", "max_steps", "saves_per_epoch", "every", "count",
                   "min_interval", "checkpoint_bytes", "keep_last", "num_examples",
                   "micro_batch_size", "grad_accum", "world_size")
NUMBER_COLUMNS = ("epochs", "ratio", "samples_per_step", "tokens_per_step")
FLAG_COLUMNS = ("final", "drop_last")
COLUMNS = ("steps_per_epoch", "epochs", "max_steps", "saves_per_epoch", "every", "count",
           "ratio", "final", "min_interval", "checkpoint_bytes", "keep_last", "num_examples",
           "micro_batch_size", "grad_accum", "world_size", "drop_last", "partial_accumulation",
           "samples_per_step", "tokens_per_step")
#: Defaults of the columns a sweep takes as flags / words, for an empty cell.
_DEFAULTS = {"final": True, "drop_last": False, "partial_accumulation": "step"}
_TRUE = ("true", "yes", "1", "y", "t")
_FALSE = ("false", "no", "0", "n", "f")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", help="CSV of runs ('-': stdin); columns: " + ", ".join(COLUMNS)
                        + ", and an optional name")
    parser.add_argument("--json", action="store_true",
                        help="write {summary, runs: [...]} as JSON instead of a CSV table")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the per-run table to FILE instead of stdout")
    parser.add_argument("--checkpoint-bytes", metavar="N",
                        help="size of one checkpoint (16GB, 2e9, 500MiB), for runs without a "
                        "checkpoint_bytes column (whose cells take the same forms)")
    parser.add_argument("--fail-on", metavar="CODE[,CODE...]",
                        help="exit with status 1 when any run has one of these diagnostic codes")


def run(args) -> int:
    fail_on = _codes(args.fail_on)
    text = read_text(args.csv, "CSV")
    source = "stdin" if args.csv == "-" else args.csv
    names, values, lines = _parse(text, source)
    if args.checkpoint_bytes is not None:
        if "checkpoint_bytes" in values:
            raise ValueError("--checkpoint-bytes: the CSV already has a checkpoint_bytes column")
        values["checkpoint_bytes"] = parse_size(args.checkpoint_bytes, "--checkpoint-bytes")
    try:
        res = sweep(**values, counts_only=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise type(exc)(f"{source}: {exc}{_where_is_run(str(exc), lines)}") from None
    summary = res.summary()
    table = _table(res, names)
    if args.output:
        _write_file(args.output, lambda out: _write_table(out, args.json, summary, table,
                                                          names is not None, res))
    else:
        _write_table(sys.stdout, args.json, summary, table, names is not None, res)
    _print_summary(summary, sys.stderr)
    if fail_on and res.runs_with(*fail_on).size:
        return 1
    return 0


def _codes(text):
    if text is None:
        return ()
    codes = tuple(c.strip() for c in text.split(",") if c.strip())
    unknown = [c for c in codes if c not in CODES]
    if unknown or not codes:
        raise ValueError(f"--fail-on: unknown diagnostic code(s) {', '.join(unknown) or text!r}; "
                         f"the codes are {', '.join(CODES)}")
    return codes


def _where_is_run(message, lines):
    """" (run i is on line L of the file)" for the first run index `name[i]` a sweep error
    message mentions; "" when it names none."""
    match = re.search(r"\w\[(\d+)\]", message)
    if match is None or int(match.group(1)) >= len(lines):
        return ""
    i = int(match.group(1))
    return f" (run {i} is on line {lines[i]} of the file)"


def _write_table(out, as_json, summary, table, with_names, res):
    """The per-run table: CSV, or {summary, runs} as JSON."""
    if as_json:
        json.dump({"summary": summary, "runs": table}, out, indent=1)
        out.write("\n")
    else:
        _write_csv(out, table, with_names, res.bytes is not None)


def _write_file(path, write):
    """write(file) into a new file at `path`; ValueError naming --output when it cannot
    be created or written (a directory, a missing folder, no permission, a full disk)."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as out:
            write(out)
    except OSError as exc:
        raise ValueError(f"--output {path}: cannot write it: {exc.strerror or exc}") from None


def _parse(text, source):
    """(names or None, {argument: list of per-run values}, the line of each run) from the
    CSV text."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _parse_rows(reader, source)
    except csv.Error as exc:
        limit = csv.field_size_limit()
        hint = (f" (a cell over {limit} characters: no cell of a sweep needs that many)"
                if "field limit" in str(exc) else "")
        raise ValueError(f"{source} line {reader.line_num}: not valid CSV: {exc}{hint}") from None


def _parse_rows(reader, source):
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ValueError(f"{source} is empty: expected a header row naming the columns "
                         f"({', '.join(COLUMNS)})")
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in COLUMNS and h != "name"]
    if unknown:
        raise ValueError(f"{source}: unknown column(s) {', '.join(map(repr, unknown))}; the "
                         f"columns are {', '.join(COLUMNS)} and name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ValueError(f"{source}: column(s) {', '.join(dupes)} appear more than once")
    cells = {h: [] for h in header}
    lines = []
    for row in reader:
        if not any(c.strip() for c in row):
            continue  # blank line
        if len(row) != len(header):
            raise ValueError(f"{source} line {reader.line_num}: {len(row)} cells for "
                             f"{len(header)} columns")
        for h, cell in zip(header, row):
            cells[h].append(_cell(h, cell.strip(), source, reader.line_num))
        lines.append(reader.line_num)
    names = cells.pop("name", None)
    every = cells.get("every")
    if every is not None and any(isinstance(v, str) for v in every):
        cells["every"] = [None if v is None else str(v) for v in every]  # "500": steps
    return names, cells, lines


def _cell(column, cell, source, line):
    if column == "name" or cell == "":
        return cell if column == "name" else _DEFAULTS.get(column)
    where = f"{source} line {line}, column {column}"
    if column == "partial_accumulation":
        if cell not in ("step", "drop"):
            raise ValueError(f"{where}: {shown(cell)} is not step or drop")
        return cell
    if column == "every" and not is_integer(cell):
        return cell  # a unit ("2ep", "10000sp", "1e9tok"): the sweep parses it
    if column == "checkpoint_bytes":  # a size as people write it: 16GB, 2e9, 500MiB
        try:
            return parse_size(cell, "checkpoint_bytes")
        except (ValueError, OverflowError) as exc:
            raise type(exc)(f"{where}: {exc}") from None
    if column in FLAG_COLUMNS:
        if cell.lower() in _TRUE:
            return True
        if cell.lower() in _FALSE:
            return False
        raise ValueError(f"{where}: {shown(cell)} is not true or false")
    try:
        return integer(cell)
    except OverflowError as exc:
        raise OverflowError(f"{where}: {exc}") from None
    except ValueError:
        pass
    try:
        if column in NUMBER_COLUMNS and "/" in cell:
            numerator, denominator = cell.split("/", 1)
            return Fraction(integer(numerator), integer(denominator))
        return float(cell)  # the sweep says whether a float is acceptable here
    except OverflowError as exc:
        raise OverflowError(f"{where}: {exc}") from None
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{where}: {shown(cell)} is not a number") from None


def _table(res, names):
    rows = []
    for i in range(len(res)):
        row = {"row": i}
        if names is not None:
            row["name"] = names[i]
        row["count"] = int(res.counts[i])
        row["peak"] = int(res.peak[i])
        row["survivors"] = int(res.survivors[i])
        if res.bytes is not None:
            row["bytes_written"] = int(res.bytes[i])
            row["peak_bytes"] = int(res.peak_bytes[i])
        row["flags"] = list(res.codes(i))
        row["messages"] = list(res.messages(i))  # built for flagged runs only
        rows.append(row)
    return rows


def _write_csv(out, table, with_names, with_bytes):
    fields = ["row"] + (["name"] if with_names else []) + ["count", "peak", "survivors"] \
        + (["bytes_written", "peak_bytes"] if with_bytes else []) + ["flags", "messages"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({**row, "flags": "|".join(row["flags"]),
                         "messages": " | ".join(row["messages"])})


def _print_summary(summary, stream):
    total_bytes = summary["total_bytes"]
    print(f"runs: {summary['runs']}", file=stream)
    print(f"total checkpoints: {summary['total_checkpoints']}", file=stream)
    print(f"largest peak on disk: {summary['max_peak']} checkpoints (one run, a save in "
          "flight included)", file=stream)
    if total_bytes is not None:
        peak_bytes = summary["max_peak_bytes"]
        print(f"largest peak disk of one run: {peak_bytes} bytes ({peak_bytes / 2**30:.2f} GiB)",
              file=stream)
        print(f"bytes written (all runs, all saves): {total_bytes} "
              f"({total_bytes / 2**30:.2f} GiB)", file=stream)
    flagged = {c: n for c, n in summary["runs_per_code"].items() if n}
    print("runs per diagnostic code:" + ("" if flagged else " none"), file=stream)
    for code, n in flagged.items():
        print(f"  {code}: {n}", file=stream)

"""`ckptsched plan` with a plan's flags: the --eval-* / --log-* rule families, retention
(--keep-last, --keep-every, --keep-best, --load-best-model-at-end) and disk (--checkpoint-size,
--disk-budget); the table, --json, exit codes, and errors naming the flag.  Expected values come
from brute-force models over plain integers, not from the code under test."""
from __future__ import annotations

import json
import re

import pytest

from ckptsched import cli
from ckptsched.cli import build_parser
from ckptsched.cli.plan import _FAMILIES, _RULES

from test_cli_plan import invoke


def every(n, total):
    """Steps of an `every n` rule with the final step (Schedule's default final=True)."""
    return sorted(set(range(n, total + 1, n)) | {total})


def retained(saves, keep_last, keep_steps):
    """Brute force: after each save, the last keep_last saves, plus for each keep step k
    reached so far the first save at or after k."""
    out = []
    for i in range(1, len(saves) + 1):
        done = saves[:i]
        kept = set(done[-keep_last:]) if keep_last else set(done)
        for k in keep_steps:
            first = next((s for s in done if s >= k), None)
            if first is not None:
                kept.add(first)
        out.append(sorted(kept))
    return out


RUN30 = ["--max-steps", "30"]


def parse_rows(out, names):
    """{step: {name: mark}} from the plan table (rows like '   10  save  eval  log  ...')."""
    rows = {}
    pattern = (r"^\s+(\d+)" + "".join(r"\s+(\S+)" for _ in names)
               + r"\s+(?:epoch \d+, )?step \d+ of")
    for m in re.finditer(pattern, out, re.M):
        rows[int(m.group(1))] = dict(zip(names, m.groups()[1:]))
    return rows


def test_families_are_columns_of_one_table(backend, capsys):
    code, out, err = invoke(capsys, *RUN30, "--every", "7", "--eval-every", "10",
                            "--log-every", "5")
    assert code == 0, err
    saves, evals, logs = every(7, 30), every(10, 30), every(5, 30)
    rows = parse_rows(out, ["save", "eval", "log"])
    assert sorted(rows) == sorted(set(saves) | set(evals) | set(logs))
    for step, marks in rows.items():
        assert marks == {"save": "save" if step in saves else "-",
                         "eval": "eval" if step in evals else "-",
                         "log": "log" if step in logs else "-"}, step
    assert f"{len(saves)} saves; {len(evals)} evaluations; {len(logs)} log steps" in out


@pytest.mark.parametrize("family", ["eval", "log"])
def test_each_family_takes_every_rule(backend, capsys, family):
    code, out, err = invoke(capsys, *RUN30, "--every", "30", f"--{family}-count", "3",
                            f"--{family}-at", "4", f"--{family}-first", "--json")
    assert code == 0, err
    assert json.loads(out)[family]["steps"] == [1, 4, 10, 20, 30]
    code, out, err = invoke(capsys, *RUN30, f"--{family}-every", "7", f"--{family}-no-final",
                            f"--{family}-start", "3", f"--{family}-until", "20", "--json")
    assert code == 0, err
    assert json.loads(out)[family]["steps"] == [3, 10, 17]
    code, out, err = invoke(capsys, "--steps-per-epoch", "10", "--epochs", "2",
                            f"--{family}-per-epoch", "2", "--json")
    assert code == 0, err
    assert json.loads(out)[family]["steps"] == [5, 10, 15, 20]
    # the flag reaches the Schedule argument (its semantics are tested in test_schedule.py)
    code, out, err = invoke(capsys, *RUN30, f"--{family}-every", "2",
                            f"--{family}-min-interval", "5", "--json")
    assert code == 0, err
    assert "every=2, min_interval=5" in json.loads(out)[family]["schedule"]
    code, out, err = invoke(capsys, "--max-steps", "100", f"--{family}-ratio", "0.25",
                            "--json")
    assert code == 0, err
    assert json.loads(out)[family]["steps"] == [25, 50, 75, 100]


def test_the_three_families_have_the_same_rules():
    """Generated from one table: every rule has its save, eval and log flag, with help."""
    parser = build_parser()
    plan = next(a for a in parser._subparsers._group_actions[0].choices.items()
                if a[0] == "plan")[1]
    flags = {opt: action for action in plan._actions for opt in action.option_strings}
    for argument, save_suffix, family_suffix, *_ in _RULES:
        for family, *_ in _FAMILIES:
            flag = "--" + (save_suffix if family == "save" else f"{family}-{family_suffix}")
            assert flag in flags, flag
            assert flags[flag].help and family_suffix != "" and flags[flag].help.strip()
    for flag in ("--keep-last", "--keep-every", "--keep-best", "--load-best-model-at-end",
                 "--checkpoint-size", "--disk-budget", "--plot"):
        assert flags[flag].help.strip(), flag


def test_retention_and_sizes_on_disk_after_each_save(backend, capsys):
    argv = [*RUN30, "--every", "7", "--keep-last", "2", "--keep-every", "10",
            "--checkpoint-size", "1.5GB"]
    code, out, err = invoke(capsys, *argv, "--json")
    assert code == 0, err
    data = json.loads(out)
    saves = every(7, 30)
    model = retained(saves, 2, [10, 20, 30])
    size = 1_500_000_000
    assert data["checkpoint_bytes"] == size
    assert data["timeline"]["step"] == saves
    assert data["timeline"]["after"] == [len(kept) for kept in model]
    during = [1] + [len(kept) + 1 for kept in model[:-1]]
    assert data["timeline"]["during"] == during
    assert data["timeline"]["after_bytes"] == [len(kept) * size for kept in model]
    assert data["on_disk_after"] == model
    peak = max(range(len(saves)), key=lambda i: (during[i], -i))
    assert data["peak"] == {"count": during[peak], "bytes": during[peak] * size,
                            "step": saves[peak]}
    assert data["survivors"] == model[-1]
    assert data["keep"] == {"keep_last": 2, "keep_every": 10, "keep_best": None}

    code, out, err = invoke(capsys, *argv)
    assert code == 0, err
    for step, kept in zip(saves, model):
        gb = f"{len(kept) * 1.5:.4g} GB"
        cell = f"{len(kept)} ckpt{'s' if len(kept) > 1 else ''}, {gb}: " + ", ".join(map(str, kept))
        assert re.search(rf"^\s+{step}\s+save\s.*{re.escape(cell)}$", out, re.M), (step, cell)
    assert (f"peak on disk: {during[peak]} checkpoints, {during[peak] * 1.5:.4g} GB "
            f"({during[peak] * size} bytes), during the save at step {saves[peak]}") in out
    assert f"survivors at the end: {len(model[-1])}" in out


def test_disk_budget_and_strict(backend, capsys):
    argv = [*RUN30, "--every", "5", "--keep-last", "2", "--checkpoint-size", "16GB"]
    code, out, err = invoke(capsys, *argv, "--disk-budget", "48GB", "--strict")
    assert code == 0, err
    assert "the peak fits" in out and "DISK_BUDGET" not in out
    code, out, err = invoke(capsys, *argv, "--disk-budget", "40e9", "--strict")
    assert code == 1
    assert "the peak over it" in out and "DISK_BUDGET (warning)" in out
    code, out, err = invoke(capsys, *argv, "--disk-budget", "40e9", "--json")
    data = json.loads(out)
    assert code == 0 and data["disk_budget"] == 40 * 10**9
    assert [d["code"] for d in data["diagnostics"]] == ["DISK_BUDGET"]


def test_keep_best_and_load_best(backend, capsys):
    code, out, err = invoke(capsys, *RUN30, "--count", "4", "--eval-count", "3",
                            "--load-best-model-at-end", "--json")
    assert code == 0, err
    data = json.loads(out)
    best = [d for d in data["diagnostics"] if d["code"] == "BEST_NOT_SAVED"]
    assert best and best[0]["data"]["unsaved_eval_steps"] == [10, 20]
    assert data["load_best_model_at_end"] is True and data["keep"]["keep_best"] == 1
    code, out, err = invoke(capsys, *RUN30, "--every", "10", "--eval-every", "10",
                            "--keep-last", "1", "--keep-best", "2")
    assert code == 0, err
    # after the third save: the newest (30) and, in the worst case, two best among 10, 20
    assert re.search(r"^\s+30\s+save\s+eval\s.*3 ckpts: 30 \+ 2 best$", out, re.M), out


def test_compare_hf_in_a_plan(backend, capsys):
    code, out, err = invoke(capsys, "--steps-per-epoch", "32", "--epochs", "2",
                            "--saves-per-epoch", "3", "--eval-per-epoch", "2", "--compare-hf")
    assert code == 0, err
    rows = parse_rows(out, ["save", "eval", "HF"])
    hf = sorted(set(range(11, 65, 11)) | {64})  # Axolotl: ceil(64 / 6) = 11, and the last
    assert sorted(s for s, r in rows.items() if r["HF"] == "save") == hf
    assert "HF (Axolotl save_steps=1/(3*2)" in out
    code, out, err = invoke(capsys, "--steps-per-epoch", "32", "--epochs", "2",
                            "--saves-per-epoch", "3", "--keep-last", "1", "--compare-hf",
                            "--json")
    assert json.loads(out)["compare_hf"]["steps"] == hf


def test_plot_alone_keeps_todays_output(backend, capsys, tmp_path):
    argv = ["--steps-per-epoch", "217", "--epochs", "4", "--saves-per-epoch", "8"]
    code, before, err = invoke(capsys, *argv)
    code, after, err = invoke(capsys, *argv, "--plot", str(tmp_path / "p.png"))
    assert code == 0, err
    assert after == before and "wrote" in err


@pytest.mark.parametrize("argv, flag", [
    (["--eval-every", "0"], "--eval-every"),
    (["--log-every", "2ep"], "--log-every"),
    (["--eval-ratio", "1.5"], "--eval-ratio"),
    (["--log-count", "x"], "--log-count"),
    (["--eval-start", "5"], "--eval-start"),
    (["--log-at", "1,x"], "--log-at"),
    (["--eval-max-gap", "0"], "--eval-max-gap"),
    (["--keep-last", "0"], "--keep-last"),
    (["--keep-best", "-1"], "--keep-best"),
    (["--keep-every", "0"], "--keep-every"),
    (["--keep-every", "abc"], "--keep-every"),
    (["--keep-every", "1ep"], "--keep-every"),
    (["--checkpoint-size", "1.5B"], "--checkpoint-size"),
    (["--checkpoint-size", "16XB"], "--checkpoint-size"),
    (["--checkpoint-size", "0"], "--checkpoint-size"),
    (["--checkpoint-size", "1e30"], "--checkpoint-size"),
    (["--disk-budget", "500MiB"], "--disk-budget"),  # without --checkpoint-size
    (["--load-best-model-at-end"], "--load-best-model-at-end"),  # without eval rules
    (["--plot", "plan.gif"], "--plot"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_plan_values_exit_2_naming_the_flag(capsys, argv, flag):
    code, out, err = invoke(capsys, *RUN30, "--every", "10", *argv)
    assert code == 2, (out, err)
    last = err.strip().splitlines()[-1]
    assert flag in last, last
    assert "Traceback" not in err


# ---- ckptsched check: the config's Plan and what transformers would refuse ------------------

yaml = pytest.importorskip("yaml")  # in requirements-test.txt


def check(capsys, tmp_path, config, *argv):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    try:
        code = cli.main(["check", str(path), *argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


EVAL_SET = {"val_set_size": 0.05, "micro_batch_size": 1}


def assert_one_load_best_message(out, save_steps, eval_steps):
    """The text of `check` says once that Axolotl drops load_best_model_at_end: in the
    HF_REFUSED warning, with Axolotl's float save_steps % eval_steps and what to change, and
    in no note."""
    said = [line for line in out.splitlines() if "Axolotl passes false" in line]
    assert len(said) == 1 and said[0].startswith("  HF_REFUSED (warning): "), said
    assert (f"save_steps={save_steps!r} % eval_steps={eval_steps!r} = "
            f"{save_steps % eval_steps!r}") in said[0]
    assert "make save_steps a multiple of eval_steps" in said[0]
    assert out.count("HF_REFUSED") == 1


@pytest.mark.parametrize("epochs", [1, 2, 3])
def test_check_saves_and_evals_per_epoch_with_load_best(backend, capsys, tmp_path, epochs):
    """(a) Axolotl turns saves_per_epoch=2 / evals_per_epoch=3 into the ratios 1/(2E), 1/(3E):
    with load_best_model_at_end transformers would refuse them (not a multiple), so Axolotl
    drops load_best_model_at_end.  The exact plan's HF_REFUSED and Axolotl's own note tell the
    same fact: check says it once, in the HF_REFUSED warning, and keeps BEST_NOT_SAVED."""
    config = {**EVAL_SET, "num_epochs": epochs, "saves_per_epoch": 2, "evals_per_epoch": 3,
              "load_best_model_at_end": True}
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "600", "--json")
    assert code == 0, err
    data = json.loads(out)
    refused = [d for d in data["diagnostics"] if d["code"] == "HF_REFUSED"]
    assert len(refused) == 1 and refused[0]["severity"] == "warning"
    save, evaluate = 1.0 / (2 * epochs), 1.0 / (3 * epochs)
    assert "Axolotl passes false to transformers" in refused[0]["message"]
    assert f"save_steps={save!r} % eval_steps={evaluate!r}" in refused[0]["message"]
    # the saves at 1/2, 2/2 of each epoch miss the evals at 1/3, 2/3 of it
    assert "BEST_NOT_SAVED" in [d["code"] for d in data["diagnostics"]]
    # Axolotl itself passes load_best_model_at_end=False here (save_steps % eval_steps != 0),
    # so transformers starts, and never loads the best model; no note repeats it
    assert data["transformers_refusal"] is None
    assert not any("load_best_model_at_end" in note for note in data["notes"])
    assert data["plan"]["load_best_model_at_end"] is True
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "600", "--strict")
    assert code == 1 and "HF_REFUSED (warning)" in out
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "600")
    assert code == 0, err
    assert_one_load_best_message(out, save, evaluate)
    assert "BEST_NOT_SAVED (warning)" in out


def test_check_a_ratio_mixed_with_steps_and_load_best(backend, capsys, tmp_path):
    """(b) save_steps=0.07 with eval_steps=100: HF_REFUSED only with load_best_model_at_end."""
    config = {**EVAL_SET, "num_epochs": 1, "save_steps": 0.07, "eval_steps": 100}
    code, out, err = check(capsys, tmp_path, {**config, "load_best_model_at_end": True},
                           "--num-examples", "1000", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert "HF_REFUSED" in [d["code"] for d in data["diagnostics"]]
    # Axolotl passes load_best_model_at_end=False (0.07 % 100 != 0): transformers starts
    assert data["transformers_refusal"] is None
    assert not any("load_best_model_at_end" in note for note in data["notes"])
    code, out, err = check(capsys, tmp_path, {**config, "load_best_model_at_end": True},
                           "--num-examples", "1000")
    assert_one_load_best_message(out, 0.07, 100)
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "1000", "--json")
    data = json.loads(out)
    assert data["transformers_refusal"] is None
    assert "HF_REFUSED" not in [d["code"] for d in data["diagnostics"]]


@pytest.mark.parametrize("saves, evals, epochs", [(2, 2, 1), (1, 2, 2)])
def test_check_accepts_saves_at_multiples_of_the_evals(backend, capsys, tmp_path, saves, evals,
                                                      epochs):
    config = {**EVAL_SET, "num_epochs": epochs, "saves_per_epoch": saves,
              "evals_per_epoch": evals, "load_best_model_at_end": True}
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "600", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["transformers_refusal"] is None
    assert "HF_REFUSED" not in [d["code"] for d in data["diagnostics"]]


def test_check_save_total_limit_is_keep_last(backend, capsys, tmp_path):
    config = {"num_epochs": 1, "save_steps": 100, "save_total_limit": 2}
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "1000",
                           "--checkpoint-size", "2GB", "--disk-budget", "5GB", "--json")
    assert code == 0, err
    plan = json.loads(out)["plan"]
    saves = list(range(100, 1001, 100))
    assert plan["keep_last"] == 2 and plan["survivors"] == saves[-2:]
    assert plan["peak"] == {"count": 3, "bytes": 6 * 10**9, "step": 300}
    assert "DISK_BUDGET" in [d["code"] for d in json.loads(out)["diagnostics"]]
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "1000",
                           "--checkpoint-size", "2GB")
    assert "plan: keep_last=2; peak 3 checkpoints (6 GB) during the save at step 300" in out


def test_check_load_best_without_an_eval_set_is_dropped_by_axolotl(backend, capsys, tmp_path):
    config = {"num_epochs": 1, "save_steps": 100, "load_best_model_at_end": True}
    code, out, err = check(capsys, tmp_path, config, "--num-examples", "1000", "--json")
    assert code == 0, err
    data = json.loads(out)
    # without an eval set Axolotl passes load_best_model_at_end=False: transformers starts;
    # the plan has nothing to choose the best from (no HF_REFUSED), so the note says it once
    assert data["transformers_refusal"] is None
    said = [note for note in data["notes"] if "load_best_model_at_end" in note]
    assert len(said) == 1 and "Axolotl passes false" in said[0] and "eval set" in said[0]
    assert "HF_REFUSED" not in [d["code"] for d in data["diagnostics"]]


@pytest.mark.parametrize("argv, flag", [
    (["--checkpoint-size", "1.5B"], "--checkpoint-size"),
    (["--disk-budget", "5GB"], "--disk-budget"),
])
def test_check_bad_sizes_exit_2(capsys, tmp_path, argv, flag):
    code, out, err = check(capsys, tmp_path, {"num_epochs": 1}, "--num-examples", "10", *argv)
    assert code == 2 and flag in err.strip().splitlines()[-1]

"""The Axolotl config reader and `ckptsched check`: exact schedules next to what Axolotl
would do (its float arithmetic reproduced), on both backends."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from ckptsched import Run, Schedule
from ckptsched.cli import main
from ckptsched.integrations.axolotl import schedules_from_config, transformers_refusal_of

# The reported failure: 8 saves per epoch over 4 epochs of 217 optimizer steps
# (3470 examples, micro batch 2, accumulation 8: 1735 micro-batches, the last step of 7).
REPORTED = {"base_model": "some/model", "micro_batch_size": 2, "gradient_accumulation_steps": 8,
            "num_epochs": 4, "saves_per_epoch": 8}


def write_yaml(path, cfg):
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    return path


def steps_of(schedule):
    """The steps of a Schedule as a list, or None for no schedule."""
    return None if schedule is None else schedule.steps.tolist()


def test_reproduces_31_saves_for_32_asked(backend):
    plan = schedules_from_config(REPORTED, num_examples=3470)
    assert (plan.run.steps_per_epoch, plan.run.total_steps) == (217, 868)
    theirs = plan.axolotl_save
    assert (theirs.strategy, theirs.setting, theirs.interval) == ("steps", 0.03125, 28)
    assert len(theirs) == 31 and theirs.steps.tolist() == list(range(28, 869, 28))
    assert len(plan.save) == 32
    assert plan.save.steps.tolist() == Schedule(Run(217, 4), saves_per_epoch=8).steps.tolist()
    assert {217, 434, 651, 868} <= set(plan.save.steps.tolist())
    assert not {217, 434, 651} & set(theirs.steps.tolist())  # Axolotl misses 3 epoch ends
    assert plan.differs("save") and not plan.differs("eval")
    (diag,) = plan.diagnostics
    assert diag.code == "HF_MISMATCH" and "31 saves instead of 32" in diag.message
    assert plan.requests == {"save": "saves_per_epoch=8", "eval": "no eval set"}


def test_reads_yaml_files(backend, yaml, tmp_path):
    path = write_yaml(tmp_path / "config.yml", REPORTED)
    assert schedules_from_config(path, num_examples=3470).save == \
        schedules_from_config(str(path), num_examples=3470).save


def test_ratio_and_integer_steps(backend):
    plan = schedules_from_config({"max_steps": 100, "save_steps": 0.07, "eval_steps": 30,
                                  "val_set_size": 0.1}, num_examples=1000)
    assert plan.axolotl_save.interval == 8 == math.ceil(100 * 0.07)  # the float product
    assert plan.save.steps.tolist() == [*range(7, 99, 7), 100]
    assert plan.axolotl_eval.steps.tolist() == plan.eval.steps.tolist() == [30, 60, 90, 100]
    assert plan.requests["save"] == "save_steps=0.07 (a ratio of the run)"


def test_epoch_strategy_and_max_steps(backend):
    # no save settings: Axolotl saves each epoch (and transformers at the last step)
    plan = schedules_from_config({"num_epochs": 3, "max_steps": 25, "micro_batch_size": 4},
                                 num_examples=40)
    assert (plan.run.steps_per_epoch, plan.run.total_steps) == (10, 25)
    assert plan.axolotl_save.strategy == "epoch"
    assert plan.axolotl_save.steps.tolist() == plan.save.steps.tolist() == [10, 20, 25]
    # max_steps with saves_per_epoch: Axolotl still divides by num_epochs
    plan = schedules_from_config({"num_epochs": 3, "max_steps": 25, "micro_batch_size": 4,
                                  "saves_per_epoch": 2}, num_examples=40)
    assert plan.save.steps.tolist() == [5, 10, 15, 20, 25]
    assert plan.axolotl_save.interval == math.ceil(25 / 6)
    assert any("still divides by num_epochs" in note for note in plan.notes)


def test_evals_need_an_eval_set(backend):
    cfg = {"num_epochs": 2, "evals_per_epoch": 4}
    plan = schedules_from_config(cfg, num_examples=100)
    assert plan.eval is None and plan.axolotl_eval.strategy == "no" and len(plan.axolotl_eval) == 0
    assert any("never evaluates" in note for note in plan.notes)
    plan = schedules_from_config({**cfg, "val_set_size": 0.05}, num_examples=100)
    assert plan.eval.steps.tolist() == Schedule(Run(100, 2), saves_per_epoch=4).steps.tolist()
    assert plan.axolotl_eval.setting == 0.125


def test_one_save_per_epoch_over_one_epoch_is_not_a_ratio(backend):
    # 1/(1*1) = 1.0 is not below 1: Axolotl sets no save_steps and saves each epoch
    plan = schedules_from_config({"saves_per_epoch": 1}, num_examples=50)
    assert plan.axolotl_save.strategy == "epoch"
    assert plan.save.steps.tolist() == plan.axolotl_save.steps.tolist() == [50]
    assert not plan.differs("save")


def test_batch_size_and_world_size(backend):
    plan = schedules_from_config({"micro_batch_size": 2, "batch_size": 7}, num_examples=100,
                                 world_size=2)
    # accumulation 7 // 2 = 3; 50 examples per rank, 25 micro-batches, 9 steps (the last of 1)
    assert plan.run.steps_per_epoch == 9
    assert any("gradient_accumulation_steps=3" in note for note in plan.notes)
    drop = schedules_from_config({"micro_batch_size": 2, "batch_size": 7}, num_examples=100,
                                 world_size=2, partial_accumulation="drop")
    assert drop.run.steps_per_epoch == 8


@pytest.mark.parametrize("cfg, error, match", [
    ({"saves_per_epoch": 4, "save_steps": 10}, ValueError, "mutually exclusive"),
    ({"gradient_accumulation_steps": 2, "batch_size": 8}, ValueError, "set only one"),
    ({"saves_per_epoch": 0}, ValueError, "saves_per_epoch must be a positive"),
    ({"saves_per_epoch": 2.5}, TypeError, "saves_per_epoch must be an integer"),
    ({"num_epochs": 0}, ValueError, "num_epochs must be > 0"),
    ({"num_epochs": "four"}, TypeError, "num_epochs"),
    ({"save_steps": 2.5}, ValueError, "save_steps=2.5 must be an integer"),
    ({"save_steps": True}, TypeError, "save_steps"),
    ({"micro_batch_size": -1}, ValueError, "micro_batch_size"),
    ({"save_strategy": "sometimes"}, ValueError, "save_strategy must be one of"),
    ({"batch_size": 1, "micro_batch_size": 2}, ValueError, "smaller than micro_batch_size"),
])
def test_bad_configs_name_the_key(cfg, error, match):
    with pytest.raises(error, match=match):
        schedules_from_config(cfg, num_examples=100)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_examples"):
        schedules_from_config({}, num_examples=0)
    with pytest.raises(TypeError, match="mapping or a path"):
        schedules_from_config(42, num_examples=10)
    with pytest.raises(ValueError, match="partial_accumulation"):
        schedules_from_config({}, num_examples=10, partial_accumulation="maybe")


def test_bad_yaml(yaml, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("- a list\n- not a mapping\n")
    with pytest.raises(ValueError, match="YAML mapping"):
        schedules_from_config(path, num_examples=10)
    path.write_text("key: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        schedules_from_config(path, num_examples=10)


# ---- the CLI --------------------------------------------------------------------------

def test_check_prints_both_side_by_side(yaml, tmp_path, capsys):
    path = write_yaml(tmp_path / "config.yaml", {**REPORTED, "val_set_size": 0.05,
                                                 "evals_per_epoch": 2})
    assert main(["check", str(path), "--num-examples", "3470"]) == 0
    out = capsys.readouterr().out
    assert "217 optimizer steps per epoch, 868 steps (4 epochs)" in out
    assert "ckptsched: saves_per_epoch=8" in out and "axolotl: 0.03125 -> every 28 steps" in out
    assert "32 saves" in out and "31 saves" in out
    assert "   32  868" in out and "HF_MISMATCH" in out
    assert "ckptsched: evals_per_epoch=2" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert ["1", "28", "28"] in rows and ["2", "55", "56", "*"] in rows


def test_check_json_and_strict(yaml, tmp_path, capsys):
    path = write_yaml(tmp_path / "config.yaml", REPORTED)
    assert main(["check", str(path), "--num-examples", "3470", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["save"]["ckptsched"]) == 32 and len(data["save"]["axolotl"]["steps"]) == 31
    assert data["save"]["differs"] and data["run"]["steps_per_epoch"] == 217
    assert main(["check", str(path), "--num-examples", "3470", "--strict"]) == 1
    capsys.readouterr()
    same = write_yaml(tmp_path / "same.yaml", {"saves_per_epoch": 1})
    assert main(["check", str(same), "--num-examples", "50", "--strict"]) == 0


@pytest.mark.parametrize("argv, match", [
    (["--num-examples", "0"], "--num-examples must be a positive integer"),
    (["--num-examples", "10", "--world-size", "0"], "--world-size"),
    (["--num-examples", "10", "--rows", "1"], "--rows"),
])
def test_check_bad_flags_exit_2(yaml, tmp_path, capsys, argv, match):
    path = write_yaml(tmp_path / "config.yaml", REPORTED)
    assert main(["check", str(path), *argv]) == 2
    assert match in capsys.readouterr().err


def test_check_missing_file_and_bad_config_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.yaml"), "--num-examples", "5"]) == 2
    assert "No such file" in capsys.readouterr().err


BLOCK_YAML = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"yaml", "torch", "transformers", "lightning",
                                  "pytorch_lightning"}:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
"""


def test_without_pyyaml_the_core_and_dicts_still_work(tmp_path):
    code = BLOCK_YAML + """
from ckptsched.cli import main
from ckptsched.integrations.axolotl import schedules_from_config
assert len(schedules_from_config({"saves_per_epoch": 8, "num_epochs": 4, "micro_batch_size": 2,
                                  "gradient_accumulation_steps": 8}, num_examples=3470).save) == 32
try:
    schedules_from_config("x.yaml", num_examples=5)
except ImportError as exc:
    assert "pip install 'ckptsched[yaml]'" in str(exc), exc
else:
    raise AssertionError("no ImportError")
sys.exit(main(["check", "x.yaml", "--num-examples", "5"]))
"""
    (tmp_path / "x.yaml").write_text("saves_per_epoch: 2\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env=_env())
    assert result.returncode == 2, result.stderr
    assert "needs PyYAML" in result.stderr


def _env():
    """The environment of a child that imports the same ckptsched as this process."""
    import os

    import ckptsched

    where = str(Path(ckptsched.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([where, os.environ.get("PYTHONPATH", "")])}


# ---- YAML 1.1 booleans, files at their edges --------------------------------------------------

@pytest.mark.parametrize("key", ["save_strategy", "eval_strategy", "evaluation_strategy"])
@pytest.mark.parametrize("word", ["no", "No", "off", "false"])
def test_an_unquoted_no_is_the_strategy_no(backend, yaml, tmp_path, key, word):
    path = tmp_path / "config.yaml"
    path.write_text(f"num_epochs: 2\nval_set_size: 0.1\n{key}: {word}\n")
    assert yaml.safe_load(path.read_text())[key] is False  # what YAML 1.1 makes of it
    plan = schedules_from_config(path, num_examples=100)
    quoted = schedules_from_config({"num_epochs": 2, "val_set_size": 0.1, key: "no"},
                                   num_examples=100)
    kind = "save" if key == "save_strategy" else "eval"
    assert getattr(plan, kind) is None and getattr(plan, f"axolotl_{kind}").strategy == "no"
    assert plan.requests == quoted.requests and plan.requests[kind] == f"{kind}_strategy=no"
    other = "eval" if kind == "save" else "save"
    assert steps_of(getattr(plan, other)) == steps_of(getattr(quoted, other))


@pytest.mark.parametrize("word", ["yes", "on", "true"])
def test_an_unquoted_yes_is_rejected_with_the_reason(yaml, tmp_path, word):
    path = tmp_path / "config.yaml"
    path.write_text(f"save_strategy: {word}\n")
    with pytest.raises(ValueError, match=r"save_strategy must be one of .* got True; YAML reads"):
        schedules_from_config(path, num_examples=100)


def test_a_byte_order_mark_is_accepted(backend, yaml, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(REPORTED).encode())
    assert schedules_from_config(path, num_examples=3470).save.steps.tolist() == \
        schedules_from_config(REPORTED, num_examples=3470).save.steps.tolist()


def _check_error(capsys, path, *argv):
    assert main(["check", str(path), "--num-examples", "100", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_files_that_are_not_configs_exit_2_naming_the_file(yaml, tmp_path, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("saves_per_epoch: 2\nbase_model: caf\xe9\n".encode("latin-1"))
    line = _check_error(capsys, bad)
    offset = bad.read_bytes().index(b"\xe9")
    assert str(bad) in line and f"offset {offset}" in line and "line 2" in line
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    line = _check_error(capsys, deep)
    assert str(deep) in line and "nested too deeply" in line
    digits = tmp_path / "digits.yaml"
    digits.write_text("max_steps: " + "9" * 5000 + "\n")
    line = _check_error(capsys, digits)
    assert str(digits) in line and len(line) < 400
    line = _check_error(capsys, tmp_path)
    assert str(tmp_path) in line and "directory" in line


def test_framework_schedule_next_after(backend):
    plan = schedules_from_config(REPORTED, num_examples=3470)
    theirs = plan.axolotl_save
    steps = theirs.steps.tolist()
    assert [theirs.next_after(s) for s in [0, *steps]] == [*steps, None]
    assert theirs.next_after(29) == 56


@pytest.mark.parametrize("cfg", [REPORTED, {"saves_per_epoch": 1},
                                 {"save_steps": 0.07, "max_steps": 100},
                                 {"save_strategy": "best", "metric_for_best_model": "loss"},
                                 {"save_strategy": "no"},
                                 {"num_epochs": 3, "max_steps": 25, "micro_batch_size": 4}])
def test_differs_is_the_comparison_of_the_step_lists(backend, cfg):
    plan = schedules_from_config(cfg, num_examples=1000)
    ours = [] if plan.save is None else plan.save.steps.tolist()
    expected = (plan.save is not None) if plan.axolotl_save.strategy == "best" else \
        ours != plan.axolotl_save.steps.tolist()
    assert plan.differs("save") == expected


# ---- a run too large to build ------------------------------------------------------------------

HUGE = {"num_epochs": 1000, "micro_batch_size": 1}


def table_rows(out):
    """The rows "  n  ours  theirs  [*]" of check's side-by-side tables, split."""
    return [line.split() for line in out.splitlines()
            if re.fullmatch(r"\s+\d+\s+\S+\s+\S+(\s+\*)?", line) and "saves" not in line]
S_HUGE = 10**15
T_HUGE = 1000 * S_HUGE


def test_check_a_huge_run_prints_the_ends_of_both_schedules(backend, yaml, tmp_path, capsys):
    path = write_yaml(tmp_path / "config.yaml", {**HUGE, "saves_per_epoch": 3})
    assert main(["check", str(path), "--num-examples", str(S_HUGE), "--rows", "4"]) == 0
    out = capsys.readouterr().out
    interval = math.ceil(T_HUGE * (1.0 / (3 * 1000)))  # transformers' float product
    ours = [-(-j * S_HUGE // 3) for j in (1, 2)] + [999 * S_HUGE - (-2 * S_HUGE // 3), T_HUGE]
    theirs = [interval, 2 * interval, (T_HUGE // interval) * interval, T_HUGE]
    rows = table_rows(out)
    assert [r[:3] for r in rows] == [[str(n), str(a), str(b)] for n, a, b in
                                     zip([1, 2, 2999, 3000], ours, theirs)]
    assert "3000 saves" in out
    assert main(["check", str(path), "--num-examples", str(S_HUGE), "--strict"]) == 1
    capsys.readouterr()


def test_check_a_huge_run_that_cannot_be_compared(backend, yaml, tmp_path, capsys):
    path = write_yaml(tmp_path / "config.yaml", {**HUGE, "save_steps": 1})
    assert main(["check", str(path), "--num-examples", str(S_HUGE), "--rows", "4"]) == 0
    out = capsys.readouterr().out
    assert f"{T_HUGE} saves" in out and "too many steps to compare" in out
    rows = table_rows(out)
    assert rows == [[str(s)] * 3 for s in (1, 2, T_HUGE - 1, T_HUGE)]
    assert main(["check", str(path), "--num-examples", str(S_HUGE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["save"]["ckptsched"] is None and data["save"]["axolotl"]["steps"] is None
    assert data["save"]["differs"] is None
    assert main(["check", str(path), "--num-examples", str(S_HUGE), "--strict"]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--num-examples" in line and "--strict" in line


def test_check_stops_quietly_when_stdout_closes(yaml, tmp_path):
    path = write_yaml(tmp_path / "config.yaml", {**HUGE, "saves_per_epoch": 3})
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "ckptsched", "check", str(path),
                                 "--num-examples", "1000", "--rows", "100000"], cwd=tmp_path,
                                stdout=write_end, stderr=subprocess.PIPE, text=True, env=_env())
    finally:
        os.close(write_end)
    assert result.returncode == 141, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("text, key, number", [("num_epochs: 2e0", "num_epochs", 2.0),
                                               ("save_steps: 1e1", "save_steps", 10.0),
                                               ("save_steps: 7E-2", "save_steps", 0.07),
                                               ("eval_steps: 2.5e1", "eval_steps", 25.0)])
def test_exponent_numbers_yaml_reads_as_strings(backend, yaml, tmp_path, text, key, number):
    path = tmp_path / "config.yaml"
    path.write_text(f"max_steps: 100\nval_set_size: 0.1\n{text}\n")
    assert isinstance(yaml.safe_load(path.read_text())[key], str)  # YAML 1.1 wants a dot
    plan = schedules_from_config(path, num_examples=1000)
    same = schedules_from_config({"max_steps": 100, "val_set_size": 0.1, key: number},
                                 num_examples=1000)
    for kind in ("save", "eval"):
        assert steps_of(getattr(plan, kind)) == steps_of(getattr(same, kind))
        assert getattr(plan, f"axolotl_{kind}").steps.tolist() == \
            getattr(same, f"axolotl_{kind}").steps.tolist()
    assert any(note.startswith(f"{key}: YAML read") for note in plan.notes)
    with pytest.raises(TypeError, match="micro_batch_size"):  # an integer key: as before
        schedules_from_config({"micro_batch_size": "1e1"}, num_examples=1000)


# ---- what Axolotl 0.21 does (validate_config, normalize_config, calculate_total_num_steps,
# ---- the trainer builder's _configure_save_and_eval_strategy)

def axolotl_total_steps(num_examples, epochs, batch):
    """calculate_total_num_steps without sample packing: ceil(N * num_epochs / batch_size),
    exactly (the float product and quotient are exact at these sizes)."""
    return -(-num_examples * epochs // batch)


def epoch_model(steps_per_epoch, total):
    """save_strategy "epoch": each epoch end before the last step, and the last step."""
    return sorted({*range(steps_per_epoch, total + 1, steps_per_epoch), total})


def test_axolotl_runs_ceil_examples_times_epochs_over_the_batch(backend):
    # the reported case: 329 examples, batch 1 x 3, 3 epochs: 110 steps per epoch (the
    # last of 2 micro-batches), 330 exactly, but Axolotl passes max_steps = 329
    cfg = {"micro_batch_size": 1, "gradient_accumulation_steps": 3, "num_epochs": 3,
           "saves_per_epoch": 3}
    plan = schedules_from_config(cfg, num_examples=329)
    assert plan.axolotl_save.total_steps == axolotl_total_steps(329, 3, 3) == 329
    interval = math.ceil(329 * (1.0 / 9))  # transformers' interval for save_steps 1/9
    assert plan.axolotl_save.steps.tolist() == [*range(interval, 329, interval), 329]
    assert any("= 329 steps" in note and "would be 330" in note for note in plan.notes)
    # the exact schedules follow the run the Trainer makes: epochs of 110 steps, stopped
    # at 329 (the third epoch ends a step early)
    assert (plan.run.steps_per_epoch, plan.run.total_steps) == (110, 329)
    exact = [math.ceil(Fraction(110 * k, 3)) + 110 * e for e in range(3) for k in (1, 2, 3)]
    assert plan.save.steps.tolist() == [*exact[:-1], 329]


@pytest.mark.parametrize("world_size", [1, 2])
@pytest.mark.parametrize("given_batch_size", [False, True])
def test_axolotl_total_steps_model(backend, world_size, given_batch_size):
    for num_examples in range(1, 41):
        for mbs in (1, 2, 3):
            for accum in (1, 2, 3, 4):
                for epochs in (1, 2, 3):
                    if num_examples < mbs * world_size:
                        continue
                    cfg = {"micro_batch_size": mbs, "num_epochs": epochs}
                    cfg.update({"batch_size": mbs * accum} if given_batch_size
                               else {"gradient_accumulation_steps": accum})
                    plan = schedules_from_config(cfg, num_examples=num_examples,
                                                 world_size=world_size)
                    total = axolotl_total_steps(num_examples, epochs, mbs * accum * world_size)
                    # without saves_per_epoch / save_steps / save_strategy: each epoch
                    assert plan.axolotl_save.strategy == "epoch"
                    assert plan.axolotl_save.total_steps == total, cfg
                    assert plan.axolotl_save.steps.tolist() == \
                        epoch_model(plan.run.steps_per_epoch, total), cfg


def test_max_steps_in_the_config_is_what_axolotl_runs(backend):
    plan = schedules_from_config({"max_steps": 50, "gradient_accumulation_steps": 3,
                                  "num_epochs": 3}, num_examples=329)
    assert plan.axolotl_save.total_steps == plan.run.total_steps == 50


@pytest.mark.parametrize("cfg", [
    {"num_epochs": 2},                             # no eval settings at all
    {"num_epochs": 1, "evals_per_epoch": 1},       # 1/(1*1) = 1.0: Axolotl drops it
    {"num_epochs": 0.5, "evals_per_epoch": 2},     # 1/(2*0.5) = 1.0 as well
])
def test_an_eval_set_without_usable_eval_settings_is_never_evaluated(backend, cfg):
    plan = schedules_from_config({**cfg, "val_set_size": 0.1}, num_examples=100)
    assert plan.axolotl_eval.strategy == "no" and len(plan.axolotl_eval) == 0
    assert not plan.axolotl_eval.on_start
    per_epoch = cfg.get("evals_per_epoch")
    if per_epoch is None:
        assert plan.eval is None and not plan.differs("eval")
    else:  # the config asks for evaluations, Axolotl makes none
        assert plan.eval.steps.tolist() == \
            Schedule(plan.run, saves_per_epoch=per_epoch).steps.tolist()
        assert plan.differs("eval")
        assert any("never evaluates" in note for note in plan.notes)


@pytest.mark.parametrize("extra, on_start", [
    ({}, True), ({"eval_on_start": True}, True), ({"eval_on_start": False}, False)])
@pytest.mark.parametrize("settings", [{"evals_per_epoch": 3}, {"eval_steps": 10},
                                      {"eval_strategy": "epoch"}])
def test_axolotl_evaluates_at_step_0_unless_eval_on_start_is_false(backend, settings, extra,
                                                                   on_start):
    plan = schedules_from_config({"num_epochs": 2, "val_set_size": 0.1, **settings, **extra},
                                 num_examples=100)
    assert plan.axolotl_eval.on_start is on_start
    assert plan.axolotl_eval.describe().startswith("step 0 (eval_on_start)") is on_start
    assert 0 not in plan.axolotl_eval.steps.tolist()  # the steps count from 1
    for quiet in ({"eval_strategy": "no"}, {"val_set_size": 0}):
        other = {"num_epochs": 2, "val_set_size": 0.1, **extra, **quiet}
        assert not schedules_from_config(other, num_examples=100).axolotl_eval.on_start


def test_save_total_limit_defaults_to_axolotls_4(backend):
    from ckptsched.integrations.axolotl import plan_from_config

    for cfg, keep_last in (({}, 4), ({"save_total_limit": 0}, 4),
                           ({"save_total_limit": 7}, 7)):
        plan = plan_from_config({"save_steps": 10, **cfg}, num_examples=100)
        assert plan.keep.keep_last == keep_last, cfg


# ---- Axolotl 0.21's own rules, as its validation and trainer builder apply them -------------
# (checked against real Axolotl on random configs by test_axolotl_agreement.py)

EVAL = {"val_set_size": 0.1}


@pytest.mark.parametrize("cfg, names", [
    ({"save_steps": 10, "save_strategy": "epoch"}, "save_strategy='epoch' with save_steps=10"),
    ({**EVAL, "eval_steps": 0.25, "eval_strategy": "no"}, "eval_strategy='no' with eval_steps"),
    ({**EVAL, "evals_per_epoch": 2, "eval_strategy": "epoch"}, "evals_per_epoch=2 with eval_str"),
    ({"val_set_size": 0, "eval_steps": 5}, "val_set_size=0 with eval_steps"),
    ({"val_set_size": 0, "eval_strategy": "epoch"}, "val_set_size=0 with eval_steps or eval_str"),
    ({"save_strategy": "best"}, "save_strategy='best' needs metric_for_best_model"),
])
def test_configs_axolotl_refuses_at_start_up_are_refused(backend, cfg, names):
    with pytest.raises(ValueError, match=re.escape(names)):
        schedules_from_config({"num_epochs": 1, **cfg}, num_examples=100)


@pytest.mark.parametrize("cfg", [
    {"val_set_size": 0, "eval_strategy": "no"},       # "no" is allowed without an eval set
    {"eval_strategy": "epoch"},                       # val_set_size unset: not checked
    {"save_strategy": "steps", "save_steps": 10},
    {"save_strategy": "best", "metric_for_best_model": "loss"},
])
def test_configs_axolotl_accepts_are_not_refused(backend, cfg):
    schedules_from_config({"num_epochs": 1, **cfg}, num_examples=100)


def axolotl_load_best_model(cfg, save_steps, eval_steps):
    """Axolotl's trainer builder: the config's flag, an eval set, both steps set, and
    save_steps % eval_steps == 0 (float %, as Axolotl computes it)."""
    return bool(cfg.get("load_best_model_at_end") and cfg.get("val_set_size")
                and save_steps and eval_steps and save_steps % eval_steps == 0)


@pytest.mark.parametrize("saves, evals", [(2, 2), (2, 4), (1, 3), (2, 3), (3, 2), (4, 1)])
@pytest.mark.parametrize("epochs", [1, 2, 3])
@pytest.mark.parametrize("load_best", [True, False])
def test_axolotl_decides_load_best_model_at_end_itself(backend, saves, evals, epochs, load_best):
    cfg = {**EVAL, "num_epochs": epochs, "saves_per_epoch": saves, "evals_per_epoch": evals,
           "load_best_model_at_end": load_best}
    plan = schedules_from_config(cfg, num_examples=120)
    save_ratio, eval_ratio = 1.0 / (saves * epochs), 1.0 / (evals * epochs)
    expected = axolotl_load_best_model(cfg, save_ratio if save_ratio < 1 else None,
                                       eval_ratio if eval_ratio < 1 else None)
    assert plan.axolotl_load_best is expected
    # what Axolotl passes, transformers accepts: the multiple test is the same float %
    assert transformers_refusal_of(cfg, plan) is None
    dropped = any("Axolotl passes false" in note for note in plan.notes)
    assert dropped is (load_best and not expected)
    # the reason, for `check` to say once: the float % that fails (here both steps are set)
    if dropped:
        assert plan.load_best_dropped in plan.notes[-1]
        if save_ratio < 1 and eval_ratio < 1:
            assert f"= {save_ratio % eval_ratio!r}" in plan.load_best_dropped
    else:
        assert plan.load_best_dropped is None


def test_load_best_model_at_end_needs_an_eval_set_in_axolotl(backend):
    cfg = {"num_epochs": 1, "save_steps": 10, "load_best_model_at_end": True}
    plan = schedules_from_config(cfg, num_examples=100)
    assert plan.axolotl_load_best is False and transformers_refusal_of(cfg, plan) is None
    plan = schedules_from_config({**cfg, **EVAL, "eval_steps": 5}, num_examples=100)
    assert plan.axolotl_load_best is True


@pytest.mark.parametrize("num_examples", [7, 100, 1000, 5000])
@pytest.mark.parametrize("logging_steps", [None, 3])
def test_steps_strategy_without_steps_uses_transformers_defaults(backend, num_examples,
                                                                 logging_steps):
    cfg = {**EVAL, "num_epochs": 1, "save_strategy": "steps", "eval_strategy": "steps"}
    if logging_steps is not None:
        cfg["logging_steps"] = logging_steps
    plan = schedules_from_config(cfg, num_examples=num_examples)
    total = num_examples
    # save_steps: transformers' default 500; eval_steps: logging_steps, whose Axolotl
    # default is max(min(int(0.005 * max_steps), 10), 1)
    every = logging_steps or max(min(int(Fraction(5, 1000) * total), 10), 1)
    assert plan.axolotl_save.steps.tolist() == sorted({*range(500, total + 1, 500), total})
    assert plan.axolotl_eval.steps.tolist() == sorted({*range(every, total + 1, every), total})
    assert plan.axolotl_eval.on_start


@pytest.mark.parametrize("cfg", [{"save_steps": 4}, {"saves_per_epoch": 3}, {},
                                 {"save_strategy": "no"}, {"save_steps": 1}])
def test_save_first_step_adds_step_1_to_what_axolotl_saves(backend, cfg):
    base = schedules_from_config({"num_epochs": 2, **cfg}, num_examples=30)
    first = schedules_from_config({"num_epochs": 2, **cfg, "save_first_step": True},
                                  num_examples=30)
    assert first.axolotl_save.steps.tolist() == sorted({1, *base.axolotl_save.steps.tolist()})
    assert first.axolotl_save.first and "save_first_step" in first.axolotl_save.describe()


def test_an_evaluation_at_step_0_is_no_checkpoint_metric(transformers):
    # Axolotl evaluates at step 0 (eval_on_start): retention ranks checkpoints by the
    # metrics of saved steps, and step 0 is never one (found by the real-Axolotl test with
    # load_best_model_at_end)
    from types import SimpleNamespace

    from ckptsched.integrations.transformers import _metrics_by_step

    state = SimpleNamespace(log_history=[{"eval_loss": 3.0, "step": 0}, {"loss": 2.0, "step": 1},
                                         {"eval_loss": 2.5, "step": 11}])
    assert _metrics_by_step(state, "eval_loss") == {11: 2.5}


@pytest.mark.parametrize("eval_steps", [None, 4])
def test_load_best_needs_eval_steps_in_the_config_not_transformers_fallback(backend, eval_steps):
    # eval_strategy "steps" without eval_steps evaluates every logging_steps, but Axolotl's
    # cfg.eval_steps stays unset, so it passes load_best_model_at_end=False (real Axolotl)
    cfg = {**EVAL, "num_epochs": 1, "save_steps": 8, "eval_strategy": "steps",
           "load_best_model_at_end": True, "logging_steps": 4}
    if eval_steps is not None:
        cfg["eval_steps"] = eval_steps
    plan = schedules_from_config(cfg, num_examples=40)
    assert plan.axolotl_eval.steps.tolist() == list(range(4, 41, 4))
    assert plan.axolotl_load_best is (eval_steps is not None)

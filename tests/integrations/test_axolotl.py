"""The Axolotl config reader and `ckptsched check`: exact schedules next to what Axolotl
would do (its float arithmetic reproduced), on both backends."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from ckptsched import Run, Schedule
from ckptsched.cli import main
from ckptsched.integrations.axolotl import schedules_from_config

# The reported failure: 8 saves per epoch over 4 epochs of 217 optimizer steps
# (3470 examples, micro batch 2, accumulation 8: 1735 micro-batches, the last step of 7).
REPORTED = {"base_model": "some/model", "micro_batch_size": 2, "gradient_accumulation_steps": 8,
            "num_epochs": 4, "saves_per_epoch": 8}


def write_yaml(path, cfg):
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    return path


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

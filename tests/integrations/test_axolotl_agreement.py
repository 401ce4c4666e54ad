"""`ckptsched check`'s "what Axolotl would do" against real Axolotl on many random configs.

Each config, drawn from a fixed seed (the same configs on every run), goes through Axolotl's
own config code (load_cfg: validate_config, normalize_config), calculate_total_num_steps, its
trainer builder (TrainingArguments, callbacks, AxolotlTrainer) and transformers' training loop,
with a torch model of one parameter and checkpoints that are empty folders
(tests/integrations/axolotl_agreement.py, in one child interpreter).  The steps it saved and
evaluated at, the checkpoint folders left at the end (save_total_limit) and a refusal at
start-up must all be what `ckptsched.integrations.axolotl` predicts for the config.

CKPTSCHED_AXOLOTL_CONFIGS sets the number of configs (default 150, about 2 to 3 minutes on
2 cores; 500 for the wide profile).  Needs the environment of `.ci/install-axolotl.sh`; not
collected where axolotl cannot be imported (tests/integrations/conftest.py).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

import axolotl_agreement
import axolotl_harness
from ckptsched import ScheduleWarning
from ckptsched.integrations.axolotl import (plan_from_config, schedules_from_config,
                                            transformers_refusal_of)

SEED = 20261130
COUNT = int(os.environ.get("CKPTSCHED_AXOLOTL_CONFIGS", "150"))
CASES = axolotl_agreement.random_configs(SEED, COUNT)
REQUIRED = os.environ.get("CKPTSCHED_REQUIRE_AXOLOTL", "").strip() == "1"


@pytest.fixture(scope="module")
def real_results(request, tmp_path_factory):
    """Every case run through real Axolotl, in one child interpreter: [result per case]."""
    try:
        import axolotl  # noqa: F401
    except ImportError as exc:
        if REQUIRED:
            pytest.fail(f"axolotl is required (CKPTSCHED_REQUIRE_AXOLOTL=1): {exc}",
                        pytrace=False)
        pytest.skip(f"axolotl is not available ({exc})")
    workdir = tmp_path_factory.mktemp("axolotl-agreement")
    cases_file, results_file = workdir / "cases.json", workdir / "results.json"
    cases_file.write_text(json.dumps(CASES))
    env = {**os.environ, **axolotl_harness.CHILD_ENV, "HF_HOME": str(workdir / "hf-home")}
    log = workdir / "child.log"
    with open(log, "w") as out:
        done = subprocess.run([sys.executable, axolotl_agreement.__file__, str(cases_file),
                               str(results_file)], cwd=workdir, env=env, stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              timeout=60 * 60)
    if done.returncode:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        pytest.fail(f"the agreement child exited with {done.returncode}:\n{tail}",
                    pytrace=False)
    results = json.loads(results_file.read_text())
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        seconds = sum(result["seconds"] for result in results)
        refused = sum(result["refused"] is not None for result in results)
        reporter.write_line(f"real Axolotl agreement: {len(results)} configs ({refused} "
                            f"refused at start-up) in {seconds:.0f} s of training")
    return results


def predicted(case):
    """What ckptsched says Axolotl does with the case: {"refused": message} or the steps."""
    config, num_examples = case["config"], case["num_examples"]
    try:
        with warnings.catch_warnings():  # the diagnostics of the exact schedules
            warnings.simplefilter("ignore", ScheduleWarning)
            schedules = schedules_from_config(config, num_examples)
            refusal = transformers_refusal_of(config, schedules)
            plan = plan_from_config(config, num_examples, schedules=schedules)
    except ValueError as exc:
        return {"refused": str(exc)}
    if refusal is not None:
        return {"refused": refusal}
    save, evaluate = schedules.axolotl_save, schedules.axolotl_eval
    return {"refused": None,
            "saves": None if save.strategy == "best" else save.steps.tolist(),
            "evals": [0] * evaluate.on_start + evaluate.steps.tolist(),
            "max_steps": save.total_steps,
            "keep_last": plan.keep.keep_last,
            "load_best_model_at_end": schedules.axolotl_load_best}


def transformers_survivors(saves, keep_last):
    """The checkpoint folders transformers' rotation leaves (without a best checkpoint):
    the newest `keep_last` saves."""
    return sorted(set(saves))[-keep_last:]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"cfg{i}" for i in range(len(CASES))])
def test_check_predicts_what_axolotl_does(real_results, index, backend):
    case, real = CASES[index], real_results[index]
    ours = predicted(case)
    context = f"config {case['config']} over {case['num_examples']} examples"
    if real["refused"] is not None or ours["refused"] is not None:
        assert (real["refused"] is None) == (ours["refused"] is None), \
            f"{context}: Axolotl refused: {real['refused']}; ckptsched refused: {ours['refused']}"
        return
    assert ours["max_steps"] == real["max_steps"], context
    assert ours["evals"] == real["evals"], context
    assert ours["load_best_model_at_end"] == real["load_best_model_at_end"], context
    if ours["saves"] is None:  # save_strategy "best": when the metric improves
        assert set(real["saves"]) <= {1, *real["evals"]}, context
        return
    # a step can be saved twice (save_first_step's callback, then the end of a one-step
    # epoch): the same folder, written again
    assert ours["saves"] == sorted(set(real["saves"])), context
    if not real["load_best_model_at_end"]:
        assert real["survivors"] == transformers_survivors(real["saves"], ours["keep_last"]), \
            context
    else:  # transformers also keeps the best checkpoint, and loads it
        assert real["best_loaded"] and real["best"] in real["evals"], context
        protected = {real["saves"][-1], real["best"]}
        assert protected <= set(real["survivors"]) <= set(real["saves"]), context
        assert len(real["survivors"]) == min(len(set(real["saves"])),
                                             max(ours["keep_last"], len(protected))), context

"""The real Axolotl 0.21.0 against ckptsched: what it saves, what ckptsched says it saves, and
the exact schedule it should have saved.

One tiny training (a one-layer Llama built locally, 72 alpaca examples of which Axolotl keeps
8 for evaluation, micro batch 1, accumulation 2: 2 epochs of 32 optimizer steps, with
saves_per_epoch 3 and evals_per_epoch 3) runs once per module, on the CPU, through
tests/integrations/axolotl_harness.py.  Five more trainings, each shared by its tests
(module-scoped fixtures): the same config with ckptsched's Axolotl plugin listed; the plugin
with load_best_model_at_end and save_total_limit 2 (the best checkpoint kept and loaded); the
plugin with save_first_step; and save_total_limit 3 over examples that do not fill the last
accumulation (Axolotl's own step count), without and with the plugin (the folders left are
check's prediction, then exactly plan.survivors).  Axolotl's default save_total_limit and
the rest of its rules are checked on many configs by test_axolotl_agreement.py.
About a minute each on 2 idle cores.  These tests need the environment of
`.ci/install-axolotl.sh` (Axolotl's pins clash with .ci/requirements-integrations.txt):

    bash .ci/install-axolotl.sh .venv-axolotl
    CKPTSCHED_REQUIRE_AXOLOTL=1 .venv-axolotl/bin/python -Im pytest -q -p no:cacheprovider \\
        tests/integrations/test_axolotl_real.py

Without axolotl they skip, or fail with CKPTSCHED_REQUIRE_AXOLOTL=1 (tests/integrations/
conftest.py does not even collect them elsewhere unless asked to).
"""
from __future__ import annotations

import importlib
import json
import math
import os
from fractions import Fraction
from pathlib import Path

import pytest

import axolotl_harness
from ckptsched import Run, Schedule
from ckptsched.integrations.axolotl import schedules_from_config

REQUIRED = os.environ.get("CKPTSCHED_REQUIRE_AXOLOTL", "").strip() == "1"

NUM_EXAMPLES, NUM_EVAL = 72, 8
NUM_TRAIN = NUM_EXAMPLES - NUM_EVAL  # what schedules_from_config counts: training examples
CONFIG = {"micro_batch_size": 1, "gradient_accumulation_steps": 2, "num_epochs": 2,
          "saves_per_epoch": 3, "val_set_size": NUM_EVAL, "evals_per_epoch": 3}
STEPS_PER_EPOCH, EPOCHS = 32, 2      # 64 training examples / (1 x 2), and num_epochs


def need_axolotl():
    """Import axolotl; skip when missing, or fail when CKPTSCHED_REQUIRE_AXOLOTL=1."""
    try:
        return importlib.import_module("axolotl")
    except ImportError as exc:
        if not REQUIRED:
            pytest.skip(f"axolotl is not available ({exc}); install its environment with "
                        "`bash .ci/install-axolotl.sh VENV_DIR` to run this test")
        pytest.fail(f"axolotl is required (CKPTSCHED_REQUIRE_AXOLOTL=1) but cannot be imported: "
                    f"{exc}; run `bash .ci/install-axolotl.sh VENV_DIR`", pytrace=False)


@pytest.fixture(scope="module")
def axolotl_run(request, tmp_path_factory):
    """The one real training of this module (about a minute on 2 idle cores)."""
    need_axolotl()
    run = axolotl_harness.train(CONFIG, tmp_path_factory.mktemp("axolotl"),
                                num_examples=NUM_EXAMPLES)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"real Axolotl run: {run.seconds:.1f} s wall time, "
                            f"checkpoints at {run.checkpoint_steps}")
    return run


# Axolotl 0.21.0's alpaca prompt (axolotl/prompters.py, AlpacaPrompter), with and without input
ALPACA_WITH_INPUT = ("Below is an instruction that describes a task, paired with an input that "
                     "provides further context. Write a response that appropriately completes "
                     "the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}"
                     "\n\n### Response:\n{output}")
ALPACA_NO_INPUT = ("Below is an instruction that describes a task. Write a response that "
                   "appropriately completes the request.\n\n### Instruction:\n{instruction}"
                   "\n\n### Response:\n{output}")


def test_the_tiny_tokenizer_knows_every_word_and_no_example_is_dropped(tmp_path):
    need_axolotl()
    from tokenizers import Tokenizer

    model_dir = axolotl_harness.write_tiny_llama(tmp_path / "model")
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    unknown = tokenizer.token_to_id("<unk>")
    data = axolotl_harness.write_alpaca_jsonl(tmp_path / "data.jsonl", NUM_EXAMPLES)
    examples = [json.loads(line) for line in data.read_text().splitlines()]
    assert len({json.dumps(example) for example in examples}) == NUM_EXAMPLES
    for example in examples:
        template = ALPACA_WITH_INPUT if example["input"] else ALPACA_NO_INPUT
        ids = tokenizer.encode(template.format(**example)).ids
        assert unknown not in ids, example
        # + the eos token; Axolotl drops an example longer than sequence_len
        assert len(ids) + 1 <= axolotl_harness.BASE_CONFIG["sequence_len"], example


def exact_saves_per_epoch(steps_per_epoch, epochs, saves_per_epoch):
    """The exact model: save k of epoch e at e*S + ceil(k*S/n), with Fractions."""
    return [epoch * steps_per_epoch + math.ceil(Fraction(k * steps_per_epoch, saves_per_epoch))
            for epoch in range(epochs) for k in range(1, saves_per_epoch + 1)]


def axolotl_model(total_steps, saves_per_epoch, epochs):
    """Axolotl's arithmetic with Python floats: save_steps = 1/(saves_per_epoch*num_epochs),
    which transformers turns into ceil(total_steps * save_steps) steps between events, and
    one more at the last step (transformers' final save; Axolotl's final evaluation)."""
    interval = math.ceil(total_steps * (1.0 / (saves_per_epoch * epochs)))
    return sorted({*range(interval, total_steps + 1, interval), total_steps})


def test_axolotl_trains_the_steps_ckptsched_counts(axolotl_run, backend):
    run = Run.from_dataset(num_examples=NUM_TRAIN, micro_batch_size=1, grad_accum=2,
                           epochs=EPOCHS)
    assert (run.steps_per_epoch, run.total_steps) == (STEPS_PER_EPOCH, STEPS_PER_EPOCH * EPOCHS)
    assert axolotl_run.max_steps == run.total_steps
    assert axolotl_run.log_steps == list(range(1, run.total_steps + 1))  # logging_steps 1


def test_real_checkpoints_are_what_ckptsched_predicts_for_axolotl(axolotl_run, backend):
    expected = axolotl_model(STEPS_PER_EPOCH * EPOCHS, 3, EPOCHS)
    assert expected == [11, 22, 33, 44, 55, 64]
    assert axolotl_run.checkpoint_steps == expected
    plan = schedules_from_config(CONFIG, num_examples=NUM_TRAIN)
    assert plan.axolotl_save.steps.tolist() == axolotl_run.checkpoint_steps


def test_the_exact_schedule_differs_from_the_real_one(axolotl_run, backend):
    exact = Schedule(Run(STEPS_PER_EPOCH, EPOCHS), saves_per_epoch=3).steps.tolist()
    assert exact == exact_saves_per_epoch(STEPS_PER_EPOCH, EPOCHS, 3) == [11, 22, 32, 43, 54, 64]
    plan = schedules_from_config(CONFIG, num_examples=NUM_TRAIN)
    assert plan.save.steps.tolist() == exact and plan.differs("save")
    # Axolotl misses the end of epoch 1 (step 32) and saves 3 of its 6 checkpoints elsewhere
    assert STEPS_PER_EPOCH not in axolotl_run.checkpoint_steps
    assert set(exact) - set(axolotl_run.checkpoint_steps) == {32, 43, 54}


def test_real_evaluations_are_what_ckptsched_predicts_plus_one_at_step_0(axolotl_run, backend):
    plan = schedules_from_config(CONFIG, num_examples=NUM_TRAIN)
    predicted = plan.axolotl_eval.steps.tolist()
    assert predicted == axolotl_model(STEPS_PER_EPOCH * EPOCHS, 3, EPOCHS)  # the same float rule
    # Axolotl 0.21.0 also evaluates at step 0 (its eval_on_start, when unset, is true);
    # ckptsched's schedules count optimizer steps from 1 and do not model that evaluation.
    assert axolotl_run.eval_steps == [0, *predicted]
    # evals_per_epoch=3 asks for the per-epoch rule of saves_per_epoch=3
    exact = Schedule(Run(STEPS_PER_EPOCH, EPOCHS), saves_per_epoch=3).steps.tolist()
    assert plan.eval.steps.tolist() == exact == exact_saves_per_epoch(STEPS_PER_EPOCH, EPOCHS, 3)
    assert plan.differs("eval")


# ---- the plugin: `plugins: [ckptsched.integrations.axolotl.Plugin]` and nothing else ----------

PLUGIN = "ckptsched.integrations.axolotl.Plugin"


def child_env():
    """A PYTHONPATH under which Axolotl's child process imports this ckptsched."""
    import ckptsched

    where = str(Path(ckptsched.__file__).resolve().parents[1])
    return {"PYTHONPATH": os.pathsep.join(p for p in (where, os.environ.get("PYTHONPATH"))
                                          if p)}


@pytest.fixture(scope="module")
def plugin_run(request, tmp_path_factory):
    """The same config as `axolotl_run`, with the plugin listed: one more real training."""
    need_axolotl()
    run = axolotl_harness.train({**CONFIG, "plugins": [PLUGIN]},
                                tmp_path_factory.mktemp("axolotl-plugin"),
                                num_examples=NUM_EXAMPLES, env=child_env())
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"real Axolotl run with the plugin: {run.seconds:.1f} s wall time, "
                            f"checkpoints at {run.checkpoint_steps}")
    return run


def test_with_the_plugin_axolotl_saves_exactly_on_the_schedule(plugin_run, backend):
    exact = exact_saves_per_epoch(STEPS_PER_EPOCH, EPOCHS, 3)
    assert exact == [11, 22, 32, 43, 54, 64]
    assert plugin_run.checkpoint_steps == exact  # epoch 1's end (32) included
    assert plugin_run.max_steps == STEPS_PER_EPOCH * EPOCHS
    assert plugin_run.log_steps == list(range(1, STEPS_PER_EPOCH * EPOCHS + 1))  # untouched


def test_with_the_plugin_axolotl_evaluates_exactly_on_the_schedule(plugin_run, backend):
    # evals_per_epoch=3 exactly, plus Axolotl's evaluation before training (eval_on_start,
    # left as Axolotl does it: `eval_on_start: false` in the config drops it)
    assert plugin_run.eval_steps == [0, *exact_saves_per_epoch(STEPS_PER_EPOCH, EPOCHS, 3)]


def test_the_plugin_says_in_axolotls_output_what_it_changed(plugin_run, axolotl_run):
    lines = [line for line in plugin_run.output.splitlines() if "ckptsched: " in line]
    assert len(lines) == 1, lines
    line = lines[0]
    assert "[axolotl.integrations.ckptsched]" in line  # Axolotl's own log format
    theirs = ", ".join(map(str, axolotl_run.checkpoint_steps))
    assert f"saves at 11, 22, 32, 43, 54, 64 instead of Axolotl's {theirs}" in line
    evals = ", ".join(map(str, axolotl_run.eval_steps))
    assert (f"evaluations at 0 (eval_on_start), 11, 22, 32, 43, 54, 64 instead of "
            f"Axolotl's {evals}") in line
    assert "save_total_limit=1000 run as keep_last=1000" in line


def test_plugin_rules_follow_the_raw_config(backend):
    need_axolotl()
    from ckptsched.integrations.axolotl import Plugin
    from ckptsched.integrations.axolotl_plugin import plugin_rules

    plugin = Plugin()
    plugin.register({**CONFIG, "save_first_step": True})
    assert plugin.rules == {"save": {"saves_per_epoch": 3, "first": True},
                            "eval": {"saves_per_epoch": 3}}
    # save_first_step: step 1 joins the exact saves (Axolotl's own callback saves it too)
    run = Run(STEPS_PER_EPOCH, EPOCHS)
    assert Schedule(run, **plugin.rules["save"]).steps.tolist() == \
        [1, *exact_saves_per_epoch(STEPS_PER_EPOCH, EPOCHS, 3)]
    assert plugin_rules({"save_steps": 0.25}) == {"save": {"ratio": 0.25}, "eval": None}
    assert plugin_rules({"save_steps": 10, "val_set_size": 0.1, "eval_strategy": "epoch"}) == \
        {"save": {"every": 10}, "eval": {"every": "1ep"}}
    assert plugin_rules({"save_strategy": "no"}) == {"save": None, "eval": None}
    with pytest.raises(ValueError, match="saves_per_epoch"):
        Plugin().register({"saves_per_epoch": 3, "save_steps": 5})


def test_the_summary_line_without_training(backend):
    need_axolotl()
    from types import SimpleNamespace

    from ckptsched.integrations.axolotl_plugin import axolotl_steps, summary

    run = Run(STEPS_PER_EPOCH, None, max_steps=STEPS_PER_EPOCH * EPOCHS)
    state = SimpleNamespace(max_steps=STEPS_PER_EPOCH * EPOCHS)
    args = SimpleNamespace(save_strategy="steps", save_steps=1.0 / 6, eval_strategy="no",
                           eval_steps=None, logging_steps=1, eval_on_start=False)
    theirs = axolotl_steps(args, state, run)
    ours = {"save": Schedule(run, saves_per_epoch=3, first=True)}
    line = summary(ours, theirs, {"save_first_step": True})
    assert line == ("ckptsched: saves at 1, 11, 22, 32, 43, 54, 64 instead of Axolotl's 1, 11, 22, "
                    "33, 44, 55, 64; step 1 saved for save_first_step; save_total_limit=4 "
                    "(Axolotl default) run as keep_last=4 (a checkpoint is deleted only once a "
                    "newer save has completed)")
    # a schedule Axolotl already gets right; many steps are shortened
    args.save_steps, args.eval_strategy, args.eval_steps, args.eval_on_start = 1, "epoch", None, True
    theirs = axolotl_steps(args, state, run)
    ours = {"save": Schedule(run, every=1), "eval": Schedule(run, every="1ep")}
    line = summary(ours, theirs, {"save_total_limit": 2})
    assert line == ("ckptsched: saves at 1, 2, 3, 4, 5, 6, 7, 8, ..., 64, as Axolotl would; "
                    "evaluations at 0 (eval_on_start), 32, 64, as Axolotl would; "
                    "save_total_limit=2 run as keep_last=2 (a checkpoint is deleted only once a "
                    "newer save has completed)")


@pytest.fixture(scope="module")
def first_step_run(tmp_path_factory):
    """The plugin with save_first_step: one more real training (without evaluations)."""
    need_axolotl()
    config = {**CONFIG, "val_set_size": None, "evals_per_epoch": None, "save_first_step": True,
              "plugins": [PLUGIN]}
    return axolotl_harness.train(config, tmp_path_factory.mktemp("axolotl-first-step"),
                                 num_examples=NUM_TRAIN, env=child_env())


def test_with_the_plugin_save_first_step_still_saves_step_1(first_step_run, backend):
    assert first_step_run.checkpoint_steps == \
        [1, *exact_saves_per_epoch(STEPS_PER_EPOCH, EPOCHS, 3)]
    assert first_step_run.eval_steps == []
    line, = [line for line in first_step_run.output.splitlines() if "ckptsched: " in line]
    assert "saves at 1, 11, 22, 32, 43, 54, 64 instead of Axolotl's 1, 11, 22, 33, 44, 55, 64" \
        in line and "step 1 saved for save_first_step" in line


# ---- save_total_limit over a dataset that does not fill the last accumulation -----------------

# 22 examples, 2 held out: 20 training examples, batch 1 x 3, 3 epochs: 7 optimizer steps per
# epoch (the last of 2 micro-batches), 21 exactly, but Axolotl passes max_steps =
# ceil(20 * 3 / 3) = 20.  saves_per_epoch 2 and save_total_limit 3: Axolotl saves every
# ceil(20 / 6) = 4 steps and keeps the last 3; with the plugin the saves are 2 per epoch of the
# run the Trainer makes (epochs of 7 steps, stopped at 20), and retention keeps exactly
# plan.survivors.  An eval set but no eval settings: Axolotl never evaluates.
LIMITED = {"micro_batch_size": 1, "gradient_accumulation_steps": 3, "num_epochs": 3,
           "saves_per_epoch": 2, "save_total_limit": 3, "val_set_size": 2}
LIMITED_EXAMPLES, LIMITED_TRAIN = 22, 20


@pytest.fixture(scope="module")
def limited_run(tmp_path_factory):
    need_axolotl()
    return axolotl_harness.train(LIMITED, tmp_path_factory.mktemp("axolotl-limited"),
                                 num_examples=LIMITED_EXAMPLES)


@pytest.fixture(scope="module")
def limited_plugin_run(tmp_path_factory):
    need_axolotl()
    return axolotl_harness.train({**LIMITED, "plugins": [PLUGIN]},
                                 tmp_path_factory.mktemp("axolotl-limited-plugin"),
                                 num_examples=LIMITED_EXAMPLES, env=child_env())


def test_save_total_limit_without_the_plugin_leaves_what_check_predicts(limited_run, backend):
    from ckptsched.integrations.axolotl import plan_from_config

    total = -(-LIMITED_TRAIN * 3 // 3)  # ceil(N * num_epochs / batch_size)
    assert limited_run.max_steps == total == 20
    assert limited_run.log_steps == list(range(1, total + 1))
    schedules = schedules_from_config(LIMITED, num_examples=LIMITED_TRAIN)
    assert schedules.axolotl_save.total_steps == total
    interval = math.ceil(total * (1.0 / (2 * 3)))
    saved = schedules.axolotl_save.steps.tolist()
    assert saved == sorted({*range(interval, total + 1, interval), total}) == [4, 8, 12, 16, 20]
    keep = plan_from_config(LIMITED, num_examples=LIMITED_TRAIN).keep.keep_last
    assert keep == 3 and limited_run.checkpoint_steps == saved[-keep:] == [12, 16, 20]
    assert schedules.axolotl_eval.strategy == "no" and not schedules.axolotl_eval.on_start
    assert limited_run.eval_steps == []


def test_save_total_limit_with_the_plugin_leaves_exactly_the_plan_survivors(limited_plugin_run,
                                                                            backend):
    from ckptsched.integrations.axolotl import plan_from_config

    plan = plan_from_config(LIMITED, num_examples=LIMITED_TRAIN)
    assert (plan.run.steps_per_epoch, plan.run.total_steps) == (7, 20)
    # the exact model: save k of epoch e at 7e + ceil(7k/2), and the last step
    exact = sorted({s for s in (7 * e + math.ceil(Fraction(7 * k, 2)) for e in range(3)
                                for k in (1, 2)) if s <= 20} | {20})
    assert plan.save.steps.tolist() == exact == [4, 7, 11, 14, 18, 20]
    assert plan.survivors.tolist() == exact[-3:] == [14, 18, 20]
    assert limited_plugin_run.checkpoint_steps == plan.survivors.tolist()
    assert limited_plugin_run.max_steps == 20 and limited_plugin_run.eval_steps == []
    line, = [line for line in limited_plugin_run.output.splitlines() if "ckptsched: " in line]
    assert "saves at 4, 7, 11, 14, 18, 20 instead of Axolotl's 4, 8, 12, 16, 20" in line
    assert "save_total_limit=3 run as keep_last=3" in line


# ---- the plugin with evaluations, load_best_model_at_end and a small save_total_limit ---------

# A learning rate high enough that the evaluation loss goes up and down: the best checkpoint
# (step 32 on this machine) is not among the last two, so retention has to keep it.
BEST = {**CONFIG, "load_best_model_at_end": True, "save_total_limit": 2, "learning_rate": 0.3,
        "plugins": [PLUGIN]}


@pytest.fixture(scope="module")
def best_plugin_run(tmp_path_factory):
    need_axolotl()
    return axolotl_harness.train(BEST, tmp_path_factory.mktemp("axolotl-best-plugin"),
                                 num_examples=NUM_EXAMPLES, env=child_env())


def test_with_the_plugin_the_best_checkpoint_is_kept_and_loaded(best_plugin_run, backend):
    from ckptsched.integrations.axolotl import plan_from_config

    config = {key: value for key, value in BEST.items() if key != "plugins"}
    schedules = schedules_from_config(config, num_examples=NUM_TRAIN)
    # Axolotl passes load_best_model_at_end: save_steps % eval_steps == 0 (both 1/6)
    assert schedules.axolotl_load_best
    plan = plan_from_config(config, num_examples=NUM_TRAIN, schedules=schedules)
    exact = exact_saves_per_epoch(STEPS_PER_EPOCH, EPOCHS, 3)
    assert plan.load_best_model_at_end and plan.eval.steps.tolist() == exact
    assert best_plugin_run.eval_steps == [0, *exact]
    newest = best_plugin_run.checkpoint_steps[-1]
    state = json.loads((best_plugin_run.output_dir / f"checkpoint-{newest}" /
                        "trainer_state.json").read_text())
    best = Path(state["best_model_checkpoint"]).name
    best_step = int(best.rsplit("-", 1)[1])
    assert best_step in exact
    # retention: keep_last=2 (plan.survivors) and the best checkpoint, nothing else
    assert best_plugin_run.checkpoint_steps == sorted({*plan.survivors.tolist(), best_step})
    assert newest == exact[-1]
    # the best model was loaded at the end: Axolotl's final save holds its weights
    from safetensors.numpy import load_file

    final = load_file(str(best_plugin_run.output_dir / "model.safetensors"))
    kept = load_file(str(best_plugin_run.output_dir / best / "model.safetensors"))
    assert final.keys() == kept.keys()
    assert all((final[name] == kept[name]).all() for name in final)

"""Run many Axolotl configs through Axolotl's own config code and transformers' training loop,
fast, and report the steps each one saved and evaluated at.

Used by test_axolotl_agreement.py, which compares these real steps with what `ckptsched check`
predicts for Axolotl.  Nothing here imports ckptsched: the steps are Axolotl's and
transformers', measured.

For each config (`random_configs`, drawn from a seed), in one child interpreter
(`python axolotl_agreement.py CONFIGS.json RESULTS.json`: Axolotl's Python API must run under
`if __name__ == "__main__":`, and its global state stays out of the test process):
1. `axolotl.cli.config.load_cfg` (validate_config, normalize_config, plugins: the path of
   `axolotl train`), over BASE_CONFIG updated by the config;
2. a generated training set of `num_examples` rows (and an eval set of 2 rows when the config
   has a val_set_size), `calculate_total_num_steps` on it, and `setup_trainer` (Axolotl's
   trainer builder: its TrainingArguments, callbacks and AxolotlTrainer) around a torch model
   of one parameter;
3. `trainer.train()`: transformers' real loop and Axolotl's callbacks.  `save_model` writes
   nothing, so a checkpoint is an empty `checkpoint-N` folder (plus transformers'
   trainer_state.json), and transformers' own rotation (save_total_limit, the best checkpoint
   kept) runs on those folders.
A config that Axolotl's validation or transformers' TrainingArguments refuses is reported as
refused, with the error.  Each result: {"refused": None or "Type: message", "saves": [...],
"evals": [...] (0 for an evaluation before training), "survivors": [...] (checkpoint folders
left at the end), "max_steps": int, "load_best_model_at_end": bool, "best_loaded": bool,
"best": the best checkpoint's step or None}.

Speed (a few hundred configs in minutes): the pydantic config model Axolotl rebuilds for
every config (`merge_input_args`, the same for every config here since the set of plugins
does not change) is built once; the `gc.collect()` of Axolotl at every save and of
accelerate at the start of training (0.2 to 1.7 s each in a process holding torch and
transformers; they only free memory) are skipped; folders are made under /dev/shm when it
exists.
"""
from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import axolotl_harness  # noqa: E402

# Every config starts from this (the harness' tiny run), without its save_total_limit (so
# that Axolotl's default of 4 applies unless a config sets one) and without logging_steps
# (Axolotl's default: every step for short runs).
BASE_CONFIG: dict[str, Any] = {
    key: value for key, value in axolotl_harness.BASE_CONFIG.items()
    if key not in ("save_total_limit", "logging_steps")
}

EVAL_ROWS = 2  # the eval set of a config with val_set_size (Axolotl's split is bypassed)


def random_configs(seed: int, count: int) -> list[dict[str, Any]]:
    """`count` configs drawn from `seed` (the same list for the same arguments, anywhere):
    [{"num_examples": N, "config": {...}}], N the training examples per epoch.

    Runs stay short (at most about 60 optimizer steps) so that hundreds train in minutes;
    about one config in eight is one Axolotl or transformers refuses."""
    rng = random.Random(seed)
    return [_one_config(rng) for _ in range(count)]


def _one_config(rng: random.Random) -> dict[str, Any]:
    mbs = rng.choice((1, 1, 2, 3, 4))
    accum = rng.choice((1, 2, 2, 3, 4))
    num_examples = rng.randint(1, 48)
    epochs: Any = rng.choice((1, 1, 2, 2, 3, 4, 1.5, 2.5, 0.5))
    config: dict[str, Any] = {"micro_batch_size": mbs, "gradient_accumulation_steps": accum,
                              "num_epochs": epochs}
    # saves: saves_per_epoch, save_steps (int or ratio), save_strategy, or nothing
    save_kind = rng.choice(("per_epoch", "per_epoch", "steps", "ratio", "strategy", "none"))
    if save_kind == "per_epoch":
        config["saves_per_epoch"] = rng.randint(1, 6)
    elif save_kind == "steps":
        config["save_steps"] = rng.randint(1, 12)
    elif save_kind == "ratio":
        config["save_steps"] = rng.choice((0.1, 0.125, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.05))
    elif save_kind == "strategy":
        config["save_strategy"] = rng.choice(("epoch", "epoch", "no", "steps", "best"))
        if config["save_strategy"] == "best" and rng.random() < 0.8:  # else refused
            config["metric_for_best_model"] = "loss"
    # evaluations: an eval set or not, and evals_per_epoch / eval_steps / eval_strategy
    config["val_set_size"] = rng.choice((0, 0, EVAL_ROWS, 0.1))
    eval_kind = rng.choice(("per_epoch", "per_epoch", "steps", "ratio", "strategy", "none"))
    if eval_kind == "per_epoch":
        saves = config.get("saves_per_epoch")  # a multiple of them half the time
        config["evals_per_epoch"] = (saves * rng.randint(1, 2) if saves and rng.random() < 0.5
                                     else rng.randint(1, 5))
    elif eval_kind == "steps" and config["val_set_size"]:
        config["eval_steps"] = rng.randint(1, 10)
    elif eval_kind == "ratio" and config["val_set_size"]:
        config["eval_steps"] = rng.choice((0.1, 0.125, 0.25, 0.5, 0.2))
    elif eval_kind == "strategy":
        config["eval_strategy"] = rng.choice(("epoch", "no", "steps"))
    if rng.random() < 0.5:
        config["save_total_limit"] = rng.choice((1, 2, 3, 5, 100))
    if rng.random() < 0.4:
        config["load_best_model_at_end"] = rng.choice((True, True, True, False))
    if rng.random() < 0.2:
        config["save_first_step"] = True
    if rng.random() < 0.25:
        config["eval_on_start"] = rng.choice((True, False))
    if rng.random() < 0.15:
        config["max_steps"] = rng.randint(1, 30)
    # a few configs Axolotl refuses: a strategy that contradicts the steps
    if rng.random() < 0.05 and "save_steps" in config:
        config["save_strategy"] = "epoch"
    if rng.random() < 0.05 and "eval_steps" in config:
        config["eval_strategy"] = "epoch"
    return {"num_examples": num_examples, "config": config}


# ---- the child process ----------------------------------------------------------------------

def run_configs(cases: list[dict[str, Any]], workdir: Path) -> list[dict[str, Any]]:
    """Train every case (see the module docstring) and return one result per case."""
    import gc

    import torch
    from axolotl.utils import config as axolotl_config
    from transformers import AutoTokenizer

    torch.set_num_threads(1)
    model_dir = axolotl_harness.write_tiny_llama(workdir / "tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    # the pydantic model of the config, rebuilt for every config by validate_config
    merged = axolotl_config.merge_input_args()
    axolotl_config.merge_input_args = lambda: merged
    # gc.collect() at each save (Axolotl) and at the start of training (accelerate's
    # clear_device_cache): they only free memory, slowly; garbage is collected here instead,
    # every 20 configs, without scanning the imported modules (gc.freeze)
    import accelerate.utils.memory as accelerate_memory
    import axolotl.core.trainers.base as trainer_base
    trainer_base.gc = accelerate_memory.gc = _NoCollect()
    results = []
    for index, case in enumerate(cases):
        started = time.perf_counter()
        result = _run_one(case, workdir / f"case-{index}", model_dir, tokenizer)
        result["seconds"] = round(time.perf_counter() - started, 3)
        results.append(result)
        if index == 0:
            gc.collect()
            gc.freeze()
        elif index % 20 == 0:
            gc.collect()
    return results


class _NoCollect:
    """Stands for the `gc` module in Axolotl's trainer: collect() does nothing."""

    @staticmethod
    def collect(*_args: Any) -> int:
        return 0


def _run_one(case: dict[str, Any], workdir: Path, model_dir: Path, tokenizer: Any
             ) -> dict[str, Any]:
    import pydantic
    from axolotl.cli.config import load_cfg
    from axolotl.utils.dict import DictDefault
    from axolotl.utils.trainer import calculate_total_num_steps, setup_trainer
    from datasets import Dataset
    from transformers import TrainerCallback

    raw = {**BASE_CONFIG, "base_model": str(model_dir),
           "datasets": [{"path": str(workdir / "unused.jsonl"), "ds_type": "json",
                         "type": "alpaca"}],
           "output_dir": str(workdir / "out"), **case["config"]}
    try:
        cfg = load_cfg(DictDefault(raw))
    except (ValueError, pydantic.ValidationError) as exc:
        return _refused("axolotl", exc)

    def rows(count: int) -> Any:
        return Dataset.from_dict({"input_ids": [[1, 2, 3]] * count,
                                  "attention_mask": [[1, 1, 1]] * count,
                                  "labels": [[1, 2, 3]] * count})

    train_set = rows(case["num_examples"])
    eval_set = rows(EVAL_ROWS) if cfg.val_set_size else None
    total = calculate_total_num_steps(cfg, train_set)
    try:
        trainer = setup_trainer(cfg, train_set, eval_set, one_parameter_model(), tokenizer,
                                None, total)
    except ValueError as exc:  # transformers' TrainingArguments
        return _refused("transformers", exc)

    saves: list[int] = []
    evals: list[int] = []
    best_loaded: list[Any] = []
    save_checkpoint = trainer._save_checkpoint

    def recording_save(model: Any, trial: Any, **kwargs: Any) -> Any:
        saves.append(trainer.state.global_step)
        return save_checkpoint(model, trial, **kwargs)

    class Recorder(TrainerCallback):
        def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            evals.append(state.global_step)

    trainer.save_model = lambda *args, **kwargs: None  # an empty checkpoint folder
    trainer._save_checkpoint = recording_save
    trainer._load_best_model = lambda: best_loaded.append(trainer.state.best_model_checkpoint)
    trainer.add_callback(Recorder())
    trainer.train()
    return {"refused": None, "saves": saves, "evals": evals,
            "survivors": axolotl_harness.checkpoint_steps(Path(cfg.output_dir)),
            "max_steps": trainer.state.max_steps,
            "load_best_model_at_end": bool(trainer.args.load_best_model_at_end),
            "best_loaded": bool(best_loaded),
            "best": trainer.state.best_global_step or None}


def _refused(by: str, exc: BaseException) -> dict[str, Any]:
    message = str(exc).strip().splitlines()
    return {"refused": f"{by}: {type(exc).__name__}: {' '.join(message)[:500]}"}


def one_parameter_model() -> Any:
    """A torch model of one weight whose loss needs no more than a batch's input_ids."""
    import torch

    class OneParameter(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(()))

        def forward(self, input_ids: Any = None, labels: Any = None, **_kwargs: Any) -> Any:
            return {"loss": (self.weight - 1.0) ** 2 + 0.0 * input_ids.float().sum()}

    return OneParameter()


def main(argv: list[str]) -> int:
    cases_file, results_file = argv
    cases = json.loads(Path(cases_file).read_text())
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="ckptsched-agreement-", dir=base) as tmp:
        results = run_configs(cases, Path(tmp))
    Path(results_file).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run the real Axolotl on a tiny local model and report which steps it saved, logged, evaluated.

Nothing is downloaded: the model is a one-layer Llama (hidden size 16) with random weights,
written directly as `config.json` + `model.safetensors` with numpy and `safetensors` (the
tensor names and shapes of transformers' LlamaForCausalLM), and its tokenizer is a word-level
tokenizer built with the `tokenizers` library over a fixed 50-word vocabulary that covers every
word of the alpaca prompt and of the generated examples, saved as `tokenizer.json` plus a
`tokenizer_config.json` that `AutoTokenizer` loads as a `PreTrainedTokenizerFast`.  Building
them takes milliseconds and imports neither torch nor transformers.

Training runs `python -m axolotl.cli.train cfg.yml` in a child interpreter (the same Python as
this one, so the same virtual environment), offline, on the CPU, without telemetry, wandb or
the `accelerate` launcher of `axolotl train`.  Axolotl's Python API has to run under
`if __name__ == "__main__":` (it was seen to hang otherwise), one more reason to always go
through a child process.

Needs the environment of `.ci/install-axolotl.sh`; the integration environment of
`.ci/requirements-integrations.txt` pins other transformers / huggingface-hub releases.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

# Words of the generated examples; with the alpaca template's own words and the special
# tokens they make the whole vocabulary, so no text ever maps to <unk> by accident.
TOPIC_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
ALPACA_WORDS = (
    "Below is an instruction that describes a task , paired with input provides further "
    "context . Write response appropriately completes the request ### Instruction : Input "
    "Response"
).split()
EXTRA_WORDS = ("Repeat", "word", "number", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>")

# A Llama as small as it gets: one layer, two query heads of 8 sharing one key/value head,
# hidden size 16 (3,184 parameters with the 52-token vocabulary).
TINY_LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "max_position_embeddings": 256,
    "tie_word_embeddings": True,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 3,
}

# The config Axolotl gets unless the caller overrides a key: the fastest run that still goes
# through the real dataset pipeline, trainer and checkpoint callbacks.
BASE_CONFIG: dict[str, Any] = {
    "model_type": "LlamaForCausalLM",
    "tokenizer_type": "PreTrainedTokenizerFast",
    "sequence_len": 64,
    "sample_packing": False,
    "pad_to_sequence_len": False,
    "micro_batch_size": 1,
    "gradient_accumulation_steps": 1,
    "num_epochs": 1,
    "learning_rate": 1e-3,
    "optimizer": "adamw_torch",
    "lr_scheduler": "constant",
    "val_set_size": 0,
    "bf16": False,
    "fp16": False,
    "tf32": False,
    "save_safetensors": True,
    "save_only_model": True,
    "save_total_limit": 1000,  # Axolotl's default of 4 deletes the older checkpoints
    "logging_steps": 1,
    "seed": 42,
    "dataset_num_proc": 1,
    "dataloader_num_workers": 0,
    "dataloader_pin_memory": False,
    "gradient_checkpointing": False,
    "flash_attention": False,
    "sdp_attention": False,
    "xformers_attention": False,
    "strict": False,
}

# The child's environment: offline, CPU, quiet, no telemetry, one thread (tiny matrices).
CHILD_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "AXOLOTL_DO_NOT_TRACK": "1",
    "DO_NOT_TRACK": "1",
    "WANDB_DISABLED": "true",
    "WANDB_MODE": "disabled",
    "CUDA_VISIBLE_DEVICES": "",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
    "TQDM_DISABLE": "1",
}


@dataclass(frozen=True)
class AxolotlRun:
    """What one real Axolotl run did, read from its output directory."""

    checkpoint_steps: list[int]          # sorted N of every output_dir/checkpoint-N
    log_steps: list[int]                 # steps of trainer_state.json's loss entries
    eval_steps: list[int]                # steps of its eval_loss entries
    max_steps: Optional[int]             # trainer_state.json's max_steps
    seconds: float                       # wall time of the training child process
    output_dir: Path
    command: list[str] = field(repr=False)
    output: str = field(repr=False)      # the child's stdout and stderr, merged


class AxolotlFailed(RuntimeError):
    """The Axolotl child process exited non-zero or ran out of time; the message ends with
    the last lines of its output."""


def vocabulary() -> list[str]:
    """Every word the tiny tokenizer knows (special tokens excluded), without duplicates."""
    words = [*ALPACA_WORDS, *TOPIC_WORDS, *EXTRA_WORDS]
    return list(dict.fromkeys(words))


def write_tiny_llama(directory: Path, seed: int = 0) -> Path:
    """Write a random one-layer Llama (config.json, model.safetensors) and its word-level
    tokenizer (tokenizer.json, tokenizer_config.json) into `directory`, and return it.

    Built here with numpy, `tokenizers` and `safetensors` (no torch, no download): the tensor
    names and shapes are those of transformers' LlamaForCausalLM with tied embeddings."""
    import numpy as np
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokens = [*SPECIAL_TOKENS, *vocabulary()]
    vocab = {token: index for index, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()  # words, and runs of punctuation
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", vocab["<s>"])])
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 256,
        "unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
        "add_bos_token": True, "add_eos_token": False, "clean_up_tokenization_spaces": False,
    }, indent=2))

    config = {**TINY_LLAMA, "vocab_size": len(tokens), "torch_dtype": "float32"}
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    hidden, inner = config["hidden_size"], config["intermediate_size"]
    head_dim = hidden // config["num_attention_heads"]
    kv_width = head_dim * config["num_key_value_heads"]
    rng = np.random.default_rng(seed)

    def normal(*shape: int) -> "np.ndarray":
        return (0.02 * rng.standard_normal(shape)).astype(np.float32)

    tensors = {"model.embed_tokens.weight": normal(len(tokens), hidden),
               "model.norm.weight": np.ones(hidden, np.float32)}
    for layer in range(config["num_hidden_layers"]):
        prefix = f"model.layers.{layer}."
        tensors.update({
            prefix + "input_layernorm.weight": np.ones(hidden, np.float32),
            prefix + "post_attention_layernorm.weight": np.ones(hidden, np.float32),
            prefix + "self_attn.q_proj.weight": normal(hidden, hidden),
            prefix + "self_attn.k_proj.weight": normal(kv_width, hidden),
            prefix + "self_attn.v_proj.weight": normal(kv_width, hidden),
            prefix + "self_attn.o_proj.weight": normal(hidden, hidden),
            prefix + "mlp.gate_proj.weight": normal(inner, hidden),
            prefix + "mlp.up_proj.weight": normal(inner, hidden),
            prefix + "mlp.down_proj.weight": normal(hidden, inner),
        })
    save_file(tensors, str(directory / "model.safetensors"), metadata={"format": "pt"})
    return directory


def write_alpaca_jsonl(path: Path, num_examples: int) -> Path:
    """Write `num_examples` distinct alpaca-format examples (instruction, input, output), each
    short enough never to be dropped by a sequence_len of 64, and return the path."""
    if num_examples < 1:
        raise ValueError(f"num_examples must be at least 1, got {num_examples!r}")
    lines = []
    for index in range(num_examples):
        digits = " ".join(str(index))  # "12" -> "1 2": distinct, in-vocabulary
        topic = TOPIC_WORDS[index % len(TOPIC_WORDS)]
        lines.append(json.dumps({
            "instruction": f"Repeat the number {digits}",
            "input": topic if index % 2 else "",
            "output": f"{digits} {topic}",
        }))
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_config(path: Path, config: Mapping[str, Any]) -> Path:
    """Write an Axolotl YAML config and return its path."""
    import yaml

    path = Path(path)
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    return path


def train(config: Mapping[str, Any], workdir: Path, *, num_examples: int = 64,
          model_dir: Optional[Path] = None, timeout: float = 900.0,
          launcher: Sequence[str] = ("-m", "axolotl.cli.train"),
          env: Optional[Mapping[str, str]] = None) -> AxolotlRun:
    """Run real Axolotl on `num_examples` generated examples with BASE_CONFIG updated by
    `config` (a key set to None is removed), in `workdir`, and report what it saved.

    `model_dir` is a directory written by `write_tiny_llama` (one is written in `workdir` if
    None).
    `launcher` is what follows the interpreter; `("-m", "axolotl.cli.main", "train",
    "--launcher", "python")` goes through the `axolotl train` command instead (the same
    checkpoints, about 20 s slower: one more interpreter start).
    `env` adds variables to the child's environment (e.g. a PYTHONPATH under which it imports
    the ckptsched being tested, for `plugins:`).
    Raises AxolotlFailed when Axolotl fails or takes longer than `timeout` seconds.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if model_dir is None:
        model_dir = write_tiny_llama(workdir / "tiny-llama")
    data = write_alpaca_jsonl(workdir / "data.jsonl", num_examples)
    output_dir = workdir / "out"
    merged = {
        **BASE_CONFIG,
        "base_model": str(model_dir),
        "datasets": [{"path": str(data), "ds_type": "json", "type": "alpaca"}],
        "dataset_prepared_path": str(workdir / "prepared"),
        "output_dir": str(output_dir),
        **config,
    }
    merged = {key: value for key, value in merged.items() if value is not None}
    cfg_path = write_config(workdir / "cfg.yml", merged)
    command = [sys.executable, *launcher, str(cfg_path)]
    started = time.perf_counter()
    output = _run_child(command, timeout=timeout, cwd=workdir, env=env)
    seconds = time.perf_counter() - started
    return _read_run(output_dir, seconds, command, output)


def checkpoint_steps(output_dir: Path) -> list[int]:
    """The sorted steps N of the `checkpoint-N` directories in `output_dir`."""
    found = (re.fullmatch(r"checkpoint-(\d+)", entry.name) for entry in Path(output_dir).iterdir()
             if entry.is_dir())
    return sorted(int(match.group(1)) for match in found if match)


def _read_run(output_dir: Path, seconds: float, command: list[str], output: str) -> AxolotlRun:
    steps = checkpoint_steps(output_dir) if output_dir.is_dir() else []
    log_steps: list[int] = []
    eval_steps: list[int] = []
    max_steps = None
    if steps:
        state_file = output_dir / f"checkpoint-{steps[-1]}" / "trainer_state.json"
        if state_file.is_file():
            state = json.loads(state_file.read_text())
            max_steps = state.get("max_steps")
            for entry in state.get("log_history", []):
                if "loss" in entry:
                    log_steps.append(int(entry["step"]))
                if "eval_loss" in entry:
                    eval_steps.append(int(entry["step"]))
    return AxolotlRun(steps, log_steps, eval_steps, max_steps, seconds, output_dir, command,
                      output)


def _run_child(command: list[str], *, timeout: float, cwd: Path,
               env: Optional[Mapping[str, str]] = None) -> str:
    """Run `command` with CHILD_ENV and return its merged output; raise AxolotlFailed on a
    non-zero exit or after `timeout` seconds (the child and all its own children, such as
    the processes of accelerate's launcher, are killed then)."""
    env = {**os.environ, **CHILD_ENV, "HF_HOME": str(Path(cwd) / "hf-home"),  # caches stay here
           **(env or {})}
    with subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True) as child:
        try:
            output, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            output, _ = child.communicate()
            raise AxolotlFailed(f"{' '.join(command[1:3])} ran longer than {timeout:.0f} s and "
                                f"was killed; last output:\n{_tail(output)}") from None
    if child.returncode != 0:
        raise AxolotlFailed(f"{' '.join(command[1:3])} exited with {child.returncode}; last "
                            f"output:\n{_tail(output)}")
    return output


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])

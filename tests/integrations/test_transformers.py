"""ScheduleCallback with a real transformers Trainer: a 1-layer GPT-2 built from a config,
tiny in-memory datasets, CPU.  The checkpoint-* folders on disk, the evaluations and the
logs are compared with the schedules."""
from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import pytest

from ckptsched import Run, Schedule, ScheduleWarning
from ckptsched.integrations.axolotl import schedules_from_config


def warned(caught) -> str:
    """The text of the warnings a `pytest.warns` block recorded."""
    return "\n".join(str(w.message) for w in caught)


class Crash(RuntimeError):
    pass


def make_trainer(transformers, torch, out, *, examples, batch=1, accum=1, epochs=1,
                 max_steps=-1, callback=None, crash_at=None, iterable=False, **args):
    """A Trainer on a tiny GPT-2 and `examples` random sequences, recording what it does."""
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=64,
                                     n_positions=16, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config)
    g = torch.Generator().manual_seed(1)
    data = [torch.randint(0, 64, (8,), generator=g) for _ in range(examples)]
    train = [{"input_ids": x, "labels": x} for x in data]
    if iterable:
        items = train

        class Stream(torch.utils.data.IterableDataset):
            def __iter__(self):
                while True:
                    yield from items
        train = Stream()

    class Recorder(transformers.TrainerCallback):
        def __init__(self):
            self.saves, self.evals, self.logs = [], [], []

        def on_save(self, args, state, control, **kwargs):
            self.saves.append(state.global_step)

        def on_evaluate(self, args, state, control, **kwargs):
            self.evals.append(state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if "loss" in logs:
                self.logs.append(state.global_step)

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == crash_at:
                raise Crash(f"crash at step {crash_at}")

    recorder = Recorder()
    targs = transformers.TrainingArguments(
        output_dir=str(out), report_to="none", use_cpu=True, disable_tqdm=True, seed=0,
        per_device_train_batch_size=batch, per_device_eval_batch_size=4,
        gradient_accumulation_steps=accum, num_train_epochs=epochs, max_steps=max_steps,
        learning_rate=1e-3, dataloader_num_workers=0, **args)
    callbacks = ([] if callback is None else [callback]) + [recorder]
    trainer = transformers.Trainer(model=model, args=targs, train_dataset=train,
                                   eval_dataset=[{"input_ids": x, "labels": x} for x in data[:4]],
                                   callbacks=callbacks)
    return trainer, recorder


def checkpoints(out):
    return sorted(int(name.split("-")[1]) for name in os.listdir(out)
                  if name.startswith("checkpoint-"))


def test_saves_evals_logs_on_a_ragged_accumulation(transformers, torch, tmp_path, caplog):
    from ckptsched.integrations.transformers import ScheduleCallback

    # 29 micro-batches per epoch, accumulation 3: 9 full steps and a last one of 2 batches
    callback = ScheduleCallback(save={"saves_per_epoch": 8}, eval={"count": 5},
                                log={"every": 7})
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=29, accum=3, epochs=4,
                                callback=callback, save_only_model=True)
    with caplog.at_level(logging.INFO, logger="ckptsched"):
        trainer.train()
    run = callback.run
    assert (run.steps_per_epoch, run.total_steps) == (10, 40)
    expected = Run(steps_per_epoch=10, epochs=4)
    saves = callback.schedules["save"].steps.tolist()
    assert saves == Schedule(expected, saves_per_epoch=8).steps.tolist()
    assert len(saves) == 32 and {10, 20, 30, 40} <= set(saves)
    assert checkpoints(tmp_path) == saves
    assert rec.saves == saves  # once per step
    assert rec.evals == Schedule(expected, count=5).steps.tolist() == [8, 16, 24, 32, 40]
    assert rec.logs == [7, 14, 21, 28, 35, 40]
    assert "save on 32 steps" in caplog.text and "UNEVEN_TAIL" in caplog.text
    assert (tmp_path / "checkpoint-40" / "ckptsched.json").is_file()


def test_ratio_is_exact(transformers, torch, tmp_path):
    from ckptsched.integrations.transformers import ScheduleCallback

    # transformers' own ratio: ceil(100 * 0.07) = ceil(7.000000000000001) = 8 in float
    callback = ScheduleCallback(save={"ratio": 0.07})
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=16, batch=2,
                                max_steps=100, callback=callback, save_only_model=True)
    trainer.train()
    assert checkpoints(tmp_path) == [*range(7, 99, 7), 100] == rec.saves
    assert [d.code for d in callback.diagnostics].count("HF_MISMATCH") == 1


@pytest.mark.parametrize("final", [True, False])
def test_every_n_with_the_final_step_off_the_grid(transformers, torch, tmp_path, final):
    from ckptsched.integrations.transformers import ScheduleCallback

    callback = ScheduleCallback(save={"every": 4, "final": final})
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=10, epochs=1,
                                callback=callback, save_strategy="steps", save_steps=5,
                                save_only_model=True)
    trainer.train()
    # neither the Trainer's save_steps=5 nor its own save at the end of training remain
    assert checkpoints(tmp_path) == ([4, 8, 10] if final else [4, 8]) == rec.saves


def test_resume_continues_the_schedule(transformers, torch, tmp_path):
    from ckptsched.integrations.transformers import ScheduleCallback

    def run(**kw):
        callback = ScheduleCallback(save={"saves_per_epoch": 3}, eval={"every": 6})
        trainer, rec = make_trainer(transformers, torch, tmp_path, examples=29, accum=3,
                                    epochs=3, callback=callback, **kw)
        return trainer, rec, callback

    schedule = Schedule(Run(steps_per_epoch=10, epochs=3), saves_per_epoch=3).steps.tolist()
    assert 17 in schedule
    trainer, first, _ = run(crash_at=17)  # dies after step 17, before saving it
    with pytest.raises(Crash):
        trainer.train()
    assert checkpoints(tmp_path) == [s for s in schedule if s < 17]
    trainer, second, callback = run()
    trainer.train(resume_from_checkpoint=True)
    assert second.saves == [s for s in schedule if s > 14]  # from the last checkpoint, 14
    assert sorted(first.saves + second.saves) == schedule == checkpoints(tmp_path)
    assert second.evals == [18, 24, 30]
    assert not [d for d in callback.diagnostics if d.code == "RESUME_MISMATCH"]


def test_resume_with_other_rules_is_reported(transformers, torch, tmp_path):
    from ckptsched.integrations.transformers import ScheduleCallback

    trainer, _ = make_trainer(transformers, torch, tmp_path, examples=6, epochs=1,
                              crash_at=5, callback=ScheduleCallback(save={"every": 2}))
    with pytest.raises(Crash):
        trainer.train()
    callback = ScheduleCallback(save={"every": 3})
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=6, epochs=1,
                                callback=callback)
    with pytest.warns(ScheduleWarning) as caught:  # warnings reach users as ScheduleWarning
        trainer.train(resume_from_checkpoint=True)
    assert [d.code for d in callback.diagnostics] == ["RESUME_MISMATCH"]
    assert "every=2" in warned(caught) and rec.saves == [6]


def test_float_epochs_follow_the_trainers_step_count(transformers, torch, tmp_path):
    from ckptsched.integrations.transformers import ScheduleCallback

    # 0.07 epochs of 100 steps: transformers runs ceil(0.07 * 100) = 8 steps in float, not 7
    callback = ScheduleCallback(save={"count": 2})
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=100, epochs=0.07,
                                callback=callback, save_only_model=True)
    trainer.train()
    assert trainer.state.global_step == callback.run.total_steps == 8
    assert rec.saves == [4, 8] == checkpoints(tmp_path)
    (diag,) = [d for d in callback.diagnostics if d.data.get("hf_total_steps") == 8]
    assert diag.code == "HF_MISMATCH" and diag.data["total_steps"] == 7


def test_a_dataset_without_length_uses_max_steps(transformers, torch, tmp_path):
    from ckptsched.integrations.transformers import ScheduleCallback

    callback = ScheduleCallback(save=lambda run: Schedule(run, count=3))
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=5, max_steps=9,
                                iterable=True, callback=callback, save_only_model=True)
    trainer.train()
    assert callback.run == Run(max_steps=9)
    assert rec.saves == [3, 6, 9] == checkpoints(tmp_path)


def test_axolotl_emulation_matches_the_real_trainer(transformers, torch, tmp_path, backend):
    # saves_per_epoch=4 over 2 epochs of 5 steps: Axolotl passes save_steps = 1/8, and
    # transformers saves every ceil(10 * 0.125) = 2 steps: 5 saves, not 8
    cfg = {"num_epochs": 2, "micro_batch_size": 1, "saves_per_epoch": 4,
           "val_set_size": 0.1, "evals_per_epoch": 3}
    plan = schedules_from_config(cfg, num_examples=5)
    assert plan.axolotl_save.setting == 0.125 and plan.axolotl_eval.setting == 1 / 6
    trainer, rec = make_trainer(transformers, torch, tmp_path / "axolotl", examples=5, epochs=2,
                                save_strategy="steps", save_steps=plan.axolotl_save.setting,
                                eval_strategy="steps", eval_steps=plan.axolotl_eval.setting,
                                save_only_model=True)
    trainer.train()
    assert rec.saves == plan.axolotl_save.steps.tolist() == [2, 4, 6, 8, 10]
    assert rec.evals == plan.axolotl_eval.steps.tolist()

    from ckptsched.integrations.transformers import ScheduleCallback

    callback = ScheduleCallback(save=plan.save, eval=plan.eval)
    trainer, rec = make_trainer(transformers, torch, tmp_path / "exact", examples=5, epochs=2,
                                callback=callback, save_only_model=True)
    trainer.train()
    assert rec.saves == plan.save.steps.tolist() == [2, 3, 4, 5, 7, 8, 9, 10]
    assert rec.evals == plan.eval.steps.tolist() == [2, 4, 5, 7, 9, 10]


def fake(**kw):
    args = dict(gradient_accumulation_steps=1, max_steps=-1, num_train_epochs=1,
                per_device_train_batch_size=1, world_size=1, dataloader_drop_last=False,
                save_strategy="steps", output_dir="", load_best_model_at_end=False,
                logging_first_step=False, save_total_limit=None, should_save=True,
                metric_for_best_model=None, greater_is_better=None)
    state = dict(max_steps=10, train_batch_size=1, global_step=0, is_world_process_zero=True,
                 best_model_checkpoint=None, log_history=[])
    a = {k: kw.pop(k) for k in list(kw) if k in args}
    s = {k[6:]: kw.pop(k) for k in list(kw) if k.startswith("state_")}
    return SimpleNamespace(**{**args, **a}), SimpleNamespace(**{**state, **s})


def test_geometry_follows_the_installed_transformers(transformers):
    from ckptsched.integrations import transformers as hf

    assert hf.partial_accumulation("4.51.3") == "drop"
    assert hf.partial_accumulation("4.52.0") == hf.partial_accumulation("5.18.0") == "step"
    assert hf.partial_accumulation() == "step"
    args, state = fake(gradient_accumulation_steps=4, num_train_epochs=2, state_max_steps=6)
    run, diags = hf.trainer_run(args, state, list(range(10)))  # 10 batches: 3 steps per epoch
    assert (run.steps_per_epoch, run.total_steps, diags) == (3, 6, [])


def test_callback_arguments_are_checked(transformers):
    from ckptsched.integrations.transformers import ScheduleCallback

    with pytest.raises(ValueError, match="at least one"):
        ScheduleCallback()
    with pytest.raises(TypeError, match="unknown Schedule argument.*saves_per_epch"):
        ScheduleCallback(save={"saves_per_epch": 8})
    with pytest.raises(TypeError, match="must not hold 'run'"):
        ScheduleCallback(save={"run": None})
    with pytest.raises(TypeError, match="eval= must be"):
        ScheduleCallback(eval=5)
    control = transformers.TrainerControl()
    args, state = fake(save_strategy="best")
    with pytest.raises(ValueError, match="save_strategy='best'"):
        ScheduleCallback(save={"count": 2}).on_train_begin(args, state, control,
                                                           train_dataloader=range(10))
    args, state = fake()
    other = Schedule(Run(max_steps=20), count=2)
    with pytest.raises(ValueError, match="the training run has 10 steps"):
        ScheduleCallback(save=other).on_train_begin(args, state, control,
                                                    train_dataloader=range(10))
    with pytest.raises(TypeError, match="factory returned int"):
        ScheduleCallback(log=lambda run: 3).on_train_begin(args, state, control,
                                                          train_dataloader=range(10))


def test_a_decision_overridden_by_a_later_callback_is_reported(transformers, torch, tmp_path):
    from ckptsched.integrations.transformers import ScheduleCallback

    class Meddler(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                control.should_save = True

    callback = ScheduleCallback(save={"every": 4})
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=8, epochs=1,
                                callback=callback, save_only_model=True)
    trainer.add_callback(Meddler())
    trainer.train()
    assert rec.saves == [3, 4, 8]
    (diag,) = [d for d in callback.diagnostics if d.code == "OVERRIDDEN"]
    assert diag.data == {"kind": "save", "step": 3}


# ---- retention (keep=, save_total_limit, load_best_model_at_end) ------------------------------

def kept_by_model(saves, keep_last, keep_steps):
    """The survivors of keep_last + keep_every, from first principles: the last `keep_last`
    saves, and for each keep step k the first save at or after k."""
    kept = set(saves[-keep_last:])
    for k in keep_steps:
        later = [s for s in saves if s >= k]
        if later:
            kept.add(later[0])
    return sorted(kept)


def test_keep_leaves_the_plans_survivors(transformers, torch, tmp_path):
    from ckptsched import Retention
    from ckptsched.integrations.transformers import ScheduleCallback

    # 29 micro-batches, accumulation 3: epochs of 10 steps (the last of 2 batches), 20 steps
    callback = ScheduleCallback(save={"every": 3},
                                keep=Retention(keep_last=2, keep_every="1ep"))
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=29, accum=3, epochs=2,
                                callback=callback, save_only_model=True)
    trainer.train()
    assert rec.saves == [3, 6, 9, 12, 15, 18, 20]
    expected = kept_by_model(rec.saves, 2, [10, 20])
    assert expected == [12, 18, 20]
    assert checkpoints(tmp_path) == expected == callback.plan.survivors.tolist()
    assert sorted(callback.deleted) == [3, 6, 9, 15]


def test_a_crash_and_resume_leave_the_same_survivors(transformers, torch, tmp_path):
    from ckptsched import Retention
    from ckptsched.integrations.transformers import ScheduleCallback

    def run(out, **kw):
        callback = ScheduleCallback(save={"every": 2},
                                    keep=Retention(keep_last=2, keep_every=5))
        trainer, rec = make_trainer(transformers, torch, out, examples=29, accum=3, epochs=2,
                                    callback=callback, **kw)
        return trainer, rec, callback

    trainer, _, whole = run(tmp_path / "whole")
    trainer.train()
    saves = [*range(2, 21, 2)]
    survivors = kept_by_model(saves, 2, [5, 10, 15, 20])
    assert checkpoints(tmp_path / "whole") == survivors == whole.plan.survivors.tolist()

    trainer, _, first = run(tmp_path / "resumed", crash_at=13)  # dies before saving 14
    with pytest.raises(Crash):
        trainer.train()
    assert checkpoints(tmp_path / "resumed") == kept_by_model(saves[:6], 2, [5, 10])
    assert checkpoints(tmp_path / "resumed") == first.plan.on_disk_after(13).tolist()
    trainer, rec, second = run(tmp_path / "resumed")
    trainer.train(resume_from_checkpoint=True)
    assert rec.saves == [14, 16, 18, 20]
    assert checkpoints(tmp_path / "resumed") == survivors


def test_load_best_model_at_end_saves_keeps_and_loads_the_best(transformers, torch, tmp_path):
    from safetensors.torch import load_file

    from ckptsched import Retention
    from ckptsched.integrations.transformers import ScheduleCallback

    # 12 steps: saves 3, 6, 9, 12 and evaluations 4, 8, 12 meet only at the end.  The "best"
    # is the highest eval loss (greater_is_better=True), in practice an early, unsaved step.
    callback = ScheduleCallback(save={"count": 4}, eval={"count": 3},
                                keep=Retention(keep_last=1))
    trainer, rec = make_trainer(
        transformers, torch, tmp_path, examples=12, epochs=1, callback=callback,
        eval_strategy="steps", save_strategy="steps", eval_steps=5, save_steps=10,
        load_best_model_at_end=True, metric_for_best_model="loss", greater_is_better=True)
    trainer.train()
    assert rec.evals[:3] == [4, 8, 12]
    assert rec.saves == [3, 4, 6, 8, 9, 12]  # every eval step is saved too
    losses = {e["step"]: e["eval_loss"] for e in trainer.state.log_history if "eval_loss" in e}
    best = max(sorted(losses), key=lambda step: (losses[step], -step))
    assert best in (4, 8)  # the named case: without the eval saves it was never on disk
    folder = tmp_path / f"checkpoint-{best}"
    assert trainer.state.best_model_checkpoint == str(folder)
    assert checkpoints(tmp_path) == sorted({best, 12})
    saved = load_file(str(folder / "model.safetensors"))
    model = trainer.model.state_dict()
    assert saved and all(torch.equal(model[name], value) for name, value in saved.items())
    codes = [d.code for d in callback.diagnostics]
    assert "BEST_NOT_SAVED" not in codes
    overridden = {d.data.get("argument") for d in callback.diagnostics if d.code == "OVERRIDDEN"}
    assert overridden == {"eval_strategy", "eval_steps", "save_steps"}  # save_strategy: default


@pytest.mark.parametrize("keep", [None, 3])
def test_save_total_limit_becomes_keep_last(transformers, torch, tmp_path, keep):
    from ckptsched import Retention
    from ckptsched.integrations.transformers import ScheduleCallback

    callback = ScheduleCallback(save={"every": 2},
                                keep=None if keep is None else Retention(keep_last=keep))
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=10, epochs=1,
                                callback=callback, save_only_model=True, save_total_limit=1)
    with pytest.warns(ScheduleWarning) as caught:
        trainer.train()
    assert rec.saves == [2, 4, 6, 8, 10]
    # keep_last=1 from save_total_limit, or keep= (transformers' own rotation would leave 1)
    assert checkpoints(tmp_path) == ([10] if keep is None else [6, 8, 10])
    (diag,) = [d for d in callback.diagnostics if d.code == "OVERRIDDEN"]
    assert diag.data == {"kind": "save", "argument": "save_total_limit", "value": 1}
    if keep is None:
        assert "keep=Retention(keep_last=1)" in diag.message
    else:
        assert "keep= wins" in diag.message
    assert warned(caught).count("save_total_limit=1") == 1
    assert trainer.args.save_total_limit == 1  # given back after the run


def test_overridden_arguments_are_reported_once(transformers, torch, tmp_path):
    from ckptsched.integrations.transformers import ScheduleCallback

    callback = ScheduleCallback(save={"every": 4}, log={"every": 4})
    trainer, rec = make_trainer(transformers, torch, tmp_path, examples=10, epochs=1,
                                callback=callback, save_only_model=True, save_steps=3,
                                logging_steps=3, logging_first_step=True)
    trainer.train()
    assert rec.saves == [4, 8, 10]
    assert rec.logs == [1, 4, 8, 10]  # logging_first_step=True kept as first=True
    found = [(d.data["argument"], d.data["value"]) for d in callback.diagnostics
             if d.code == "OVERRIDDEN"]
    assert found == [("save_steps", 3), ("logging_steps", 3)]


def test_retention_arguments_are_checked(transformers):
    from ckptsched import Retention, Run
    from ckptsched.integrations.transformers import ScheduleCallback

    with pytest.raises(TypeError, match="keep must be a ckptsched.Retention"):
        ScheduleCallback(save={"every": 2}, keep=2)
    with pytest.raises(ValueError, match="keep= .*save= is None"):
        ScheduleCallback(eval={"every": 2}, keep=Retention(keep_last=2))
    with pytest.raises(ValueError, match="bound to a run"):
        ScheduleCallback(save={"every": 2},
                         keep=Retention(keep_last=2).bind(Run(max_steps=10)))
    control = transformers.TrainerControl()
    args, state = fake(load_best_model_at_end=True)
    with pytest.raises(ValueError, match="needs eval= too"):
        ScheduleCallback(save={"count": 2}).on_train_begin(args, state, control,
                                                           train_dataloader=range(10))


def test_only_the_saving_process_deletes(transformers, tmp_path):
    from ckptsched import Retention
    from ckptsched.integrations.transformers import ScheduleCallback

    for step in (2, 4, 6):
        (tmp_path / f"checkpoint-{step}").mkdir()
    control = transformers.TrainerControl()
    for should_save, left in ((False, [2, 4, 6]), (True, [6])):
        args, state = fake(output_dir=str(tmp_path), should_save=should_save,
                           state_global_step=6, state_is_world_process_zero=should_save)
        callback = ScheduleCallback(save={"every": 2}, keep=Retention(keep_last=1),
                                    record=False)
        callback.on_train_begin(args, state, control, train_dataloader=range(10))
        callback.on_save(args, state, control)
        assert checkpoints(tmp_path) == left


def test_the_plans_diagnostics_are_reported(transformers):
    from ckptsched import Retention
    from ckptsched.integrations.transformers import ScheduleCallback

    control = transformers.TrainerControl()
    # keep_best among evaluations 4, 8, 12 of which only 12 is saved (saves 3, 6, 9, 12)
    args, state = fake(metric_for_best_model="loss", greater_is_better=False,
                       state_max_steps=12)
    callback = ScheduleCallback(save={"count": 4}, eval={"count": 3},
                                keep=Retention(keep_last=1, keep_best=1))
    with pytest.warns(ScheduleWarning) as caught:
        callback.on_train_begin(args, state, control, train_dataloader=range(12))
    (diag,) = [d for d in callback.diagnostics if d.code == "BEST_NOT_SAVED"]
    assert diag.data["unsaved_eval_steps"] == [4, 8] and "BEST_NOT_SAVED" in warned(caught)
    assert callback.plan.keep.keep_best == 1
    args, state = fake(state_max_steps=12)
    with pytest.raises(ValueError, match="metric_for_best_model is None"):
        callback.on_train_begin(args, state, control, train_dataloader=range(12))


def test_load_best_with_save_strategy_no_still_records_the_best(transformers):
    from ckptsched.integrations.transformers import ScheduleCallback

    control = transformers.TrainerControl()
    args, state = fake(save_strategy="no", load_best_model_at_end=True,
                       metric_for_best_model="loss", greater_is_better=False, state_max_steps=12)
    callback = ScheduleCallback(save={"count": 4}, eval={"count": 3})
    callback.on_train_begin(args, state, control, train_dataloader=range(12))
    assert callback.schedules["save"].steps.tolist() == [3, 4, 6, 8, 9, 12]
    assert args.save_strategy == "steps"  # transformers records best_model_checkpoint then
    callback.on_train_end(args, state, control)
    assert args.save_strategy == "no"

"""ScheduleCheckpoint with a real Lightning Trainer on CPU: checkpoint files on disk equal
the schedule's optimizer steps under gradient accumulation, and resume continues it."""
from __future__ import annotations

import os

import pytest

from ckptsched import Run, Schedule


class Crash(RuntimeError):
    pass


def fit(lightning, torch, root, callback, *, examples=20, batch=2, crash_at=None,
        ckpt_path=None, log_score=False, score_from=1, **trainer_args):
    torch.manual_seed(0)

    class Tiny(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)
            self.optimizer_steps = []

        def training_step(self, batch, batch_idx):
            x, y = batch
            step = self.global_step + 1  # the optimizer step this batch ends (no accumulation)
            if log_score and step >= score_from:
                self.log("score", score(step))
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def on_train_batch_end(self, outputs, batch, batch_idx):
            if self.trainer.global_step == crash_at:
                raise Crash(f"crash at step {crash_at}")

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = torch.utils.data.TensorDataset(torch.randn(examples, 4), torch.randn(examples, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=batch)
    trainer = lightning.Trainer(
        default_root_dir=str(root), callbacks=[callback], logger=False, accelerator="cpu",
        devices=1, enable_progress_bar=False, enable_model_summary=False, **trainer_args)
    trainer.fit(Tiny(), loader, ckpt_path=ckpt_path)
    return trainer


def saved_steps(directory):
    return sorted(int(name[len("step="):-len(".ckpt")]) for name in os.listdir(directory))


def test_saves_on_optimizer_steps_with_accumulation(lightning, torch, tmp_path):
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    # 10 batches per epoch, accumulate 3: steps after batches 3, 6, 9 and 10 (partial)
    callback = ScheduleCheckpoint({"saves_per_epoch": 3})
    trainer = fit(lightning, torch, tmp_path, callback, max_epochs=3, accumulate_grad_batches=3)
    assert callback.run == Run(steps_per_epoch=4, epochs=3)
    expected = Schedule(Run(steps_per_epoch=4, epochs=3), saves_per_epoch=3).steps.tolist()
    assert expected == [2, 3, 4, 6, 7, 8, 10, 11, 12]
    assert trainer.global_step == 12
    assert saved_steps(tmp_path / "checkpoints") == expected
    assert [int(p.rsplit("=", 1)[1][:-5]) for p in callback.saved] == expected  # once each
    # no default ModelCheckpoint was added next to it
    assert trainer.checkpoint_callbacks == [callback]
    ckpt = torch.load(tmp_path / "checkpoints" / "step=7.ckpt", weights_only=False)
    assert ckpt["global_step"] == 7


def test_max_steps_ends_mid_epoch(lightning, torch, tmp_path):
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    callback = ScheduleCheckpoint({"count": 3}, dirpath=tmp_path / "ck",
                                  filename="e{epoch}-step={step}")
    fit(lightning, torch, tmp_path, callback, max_epochs=5, max_steps=10, accumulate_grad_batches=4)
    assert callback.run.total_steps == 10 and callback.run.steps_per_epoch == 3
    assert sorted(os.listdir(tmp_path / "ck")) == ["e1-step=4.ckpt", "e2-step=7.ckpt",
                                                   "e3-step=10.ckpt"]


@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before the epoch")
def test_resume_continues_the_schedule(lightning, torch, tmp_path):
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    expected = Schedule(Run(steps_per_epoch=4, epochs=3), every=3).steps.tolist()
    assert expected == [3, 6, 9, 12]
    first = ScheduleCheckpoint({"every": 3})
    with pytest.raises(Crash):
        fit(lightning, torch, tmp_path, first, max_epochs=3, accumulate_grad_batches=3,
            crash_at=8)
    assert saved_steps(tmp_path / "checkpoints") == [3, 6]
    second = ScheduleCheckpoint({"every": 3})
    fit(lightning, torch, tmp_path, second, max_epochs=3, accumulate_grad_batches=3,
        ckpt_path=str(tmp_path / "checkpoints" / "step=6.ckpt"))
    assert [int(p.rsplit("=", 1)[1][:-5]) for p in second.saved] == [9, 12]
    assert saved_steps(tmp_path / "checkpoints") == expected
    assert not [d for d in second.diagnostics if d.code == "RESUME_MISMATCH"]


def test_resume_with_another_rule_is_reported(lightning, torch, tmp_path):
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    fit(lightning, torch, tmp_path, ScheduleCheckpoint({"every": 2}), max_epochs=1)
    other = ScheduleCheckpoint({"every": 5})
    fit(lightning, torch, tmp_path, other, max_epochs=2,
        ckpt_path=str(tmp_path / "checkpoints" / "step=10.ckpt"))
    assert [d.code for d in other.diagnostics] == ["RESUME_MISMATCH"]
    assert saved_steps(tmp_path / "checkpoints") == [2, 4, 6, 8, 10, 15, 20]


def test_bad_arguments(lightning):
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    with pytest.raises(TypeError, match="needs a rule"):
        ScheduleCheckpoint(None)
    with pytest.raises(TypeError, match="unknown Schedule argument"):
        ScheduleCheckpoint({"evry": 3})
    with pytest.raises(ValueError, match="filename"):
        ScheduleCheckpoint({"every": 3}, filename="{loss}")
    with pytest.raises(TypeError, match="save_weights_only"):
        ScheduleCheckpoint({"every": 3}, save_weights_only=1)


# ---- retention (keep=, save_top_k / monitor) ------------------------------------------------

def model_survivors(saves, keep_last=None, keep_steps=(), keep_best=None, metrics=None,
                    higher=False):
    """What stays on disk after the last save, replaying the saves one at a time from
    DESIGN.md's policy: the newest, the keep_last most recent, for each keep step k the first
    save at or after k, and the keep_best best by metric among the saves so far (lower is
    better unless `higher`; among equal values the earlier step)."""
    permanent = {min(s for s in saves if s >= k) for k in keep_steps if k <= saves[-1]}
    disk = set()
    for i, step in enumerate(saves):
        disk.add(step)
        seen = saves[:i + 1]
        kept = {step} | (permanent & disk) | set(seen if keep_last is None else seen[-keep_last:])
        if keep_best is not None:
            ranked = sorted((s for s in seen if s in metrics),
                            key=lambda s: (-metrics[s] if higher else metrics[s], s))
            kept |= set(ranked[:keep_best])
        disk &= kept
    return sorted(disk)


def score(step):
    """The metric the scored module logs for the model after optimizer step `step`."""
    return (step * 7 + 3) % 10 / 10


def scored_fit(lightning, torch, root, callback, **kwargs):
    """fit() of a module that logs score(step) as "score" (no accumulation: one batch, one
    optimizer step)."""
    return fit(lightning, torch, root, callback, log_score=True, **kwargs)


def test_keep_leaves_exactly_the_plans_survivors(lightning, torch, tmp_path):
    from ckptsched import Retention
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    # 10 batches, accumulate 3: epochs of 4 steps (the last one partial), 12 steps
    callback = ScheduleCheckpoint({"saves_per_epoch": 3},
                                  keep=Retention(keep_last=2, keep_every="1ep"))
    fit(lightning, torch, tmp_path, callback, max_epochs=3, accumulate_grad_batches=3)
    saves = Schedule(Run(steps_per_epoch=4, epochs=3), saves_per_epoch=3).steps.tolist()
    expected = model_survivors(saves, keep_last=2, keep_steps=[4, 8, 12])
    assert saved_steps(tmp_path / "checkpoints") == expected == callback.plan.survivors.tolist()
    assert sorted(callback.deleted) == sorted(set(saves) - set(expected))
    assert len(callback.saved) == len(saves)  # every scheduled save was written first


@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before the epoch")
def test_a_crash_and_resume_leave_the_plans_survivors(lightning, torch, tmp_path):
    from ckptsched import Retention
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    def callback():
        return ScheduleCheckpoint({"every": 2}, keep=Retention(keep_last=2, keep_every=5))

    first = callback()
    with pytest.raises(Crash):
        fit(lightning, torch, tmp_path, first, max_epochs=3, accumulate_grad_batches=3,
            crash_at=9)
    saves = Schedule(Run(steps_per_epoch=4, epochs=3), every=2).steps.tolist()
    assert saved_steps(tmp_path / "checkpoints") == first.plan.on_disk_after(9).tolist()
    assert saved_steps(tmp_path / "checkpoints") == model_survivors(saves[:4], 2, [5])
    second = callback()
    newest = saved_steps(tmp_path / "checkpoints")[-1]
    fit(lightning, torch, tmp_path, second, max_epochs=3, accumulate_grad_batches=3,
        ckpt_path=str(tmp_path / "checkpoints" / f"step={newest}.ckpt"))
    assert saved_steps(tmp_path / "checkpoints") == second.plan.survivors.tolist()
    assert second.plan.survivors.tolist() == model_survivors(saves, 2, [5, 10])


@pytest.mark.filterwarnings("ignore:You're resuming from a checkpoint that ended before the epoch")
@pytest.mark.parametrize("mode", ["min", "max"])
def test_save_top_k_with_monitor_keeps_the_k_best_and_the_newest(lightning, torch, tmp_path,
                                                                  mode):
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    def callback():
        return ScheduleCheckpoint({"every": 1}, save_top_k=2, monitor="score", mode=mode)

    saves = list(range(1, 11))
    expected = model_survivors(saves, keep_last=1, keep_best=2,
                               metrics={s: score(s) for s in saves}, higher=mode == "max")
    whole = callback()
    scored_fit(lightning, torch, tmp_path / "whole", whole, max_epochs=1)
    assert saved_steps(tmp_path / "whole" / "checkpoints") == expected
    assert whole.plan.keep.keep_best == 2 and whole.plan.keep.keep_last == 1

    # crash at step 6, resume from it: the metrics of the kept checkpoints come back from
    # the callback's state in the checkpoint
    with pytest.raises(Crash):
        scored_fit(lightning, torch, tmp_path / "resumed", callback(), max_epochs=1, crash_at=6)
    left = saved_steps(tmp_path / "resumed" / "checkpoints")
    assert left == model_survivors(saves[:6], keep_last=1, keep_best=2,
                                   metrics={s: score(s) for s in saves}, higher=mode == "max")
    scored_fit(lightning, torch, tmp_path / "resumed", callback(), max_epochs=1,
               ckpt_path=str(tmp_path / "resumed" / "checkpoints" / "step=6.ckpt"))
    assert saved_steps(tmp_path / "resumed" / "checkpoints") == expected


@pytest.mark.parametrize("save_top_k, left", [(1, [10]), (-1, list(range(1, 11)))])
def test_save_top_k_without_monitor(lightning, torch, tmp_path, save_top_k, left):
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    callback = ScheduleCheckpoint({"every": 1}, save_top_k=save_top_k)
    fit(lightning, torch, tmp_path, callback, max_epochs=1)
    assert saved_steps(tmp_path / "checkpoints") == left == callback.plan.survivors.tolist()


def test_a_monitor_logged_late_ranks_only_the_later_checkpoints(lightning, torch, tmp_path):
    """A checkpoint saved before its metric is logged is no keep_best candidate."""
    from ckptsched import Retention
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    callback = ScheduleCheckpoint({"every": 1}, keep=Retention(keep_last=1, keep_best=1),
                                  monitor="score")
    scored_fit(lightning, torch, tmp_path, callback, max_epochs=1, score_from=5)
    saves = list(range(1, 11))
    metrics = {s: score(s) for s in saves if s >= 5}
    assert saved_steps(tmp_path / "checkpoints") == model_survivors(
        saves, keep_last=1, keep_best=1, metrics=metrics)


def test_filename_pattern_reads_the_step_back():
    from ckptsched.integrations.lightning import filename_pattern

    pattern = filename_pattern("e{epoch}-s{step:05d}")
    assert pattern.fullmatch("e1-s00012.ckpt").group("step") == "00012"
    assert pattern.fullmatch("e1-s12.ckpt").group("step") == "12"
    assert pattern.fullmatch("e1-s12.ckpt.tmp") is None
    assert pattern.fullmatch("last.ckpt") is None
    assert filename_pattern("{step}.x").fullmatch("7.x.ckpt").group("step") == "7"
    assert filename_pattern("{step}.x").fullmatch("7ax.ckpt") is None  # "." is literal


def test_bad_retention_arguments(lightning):
    from ckptsched import Retention, Run
    from ckptsched.integrations.lightning import ScheduleCheckpoint

    rule = {"every": 2}
    cases = [
        (dict(keep=2), TypeError, "keep must be a ckptsched.Retention or None, got 2"),
        (dict(keep=Retention(keep_last=1).bind(Run(max_steps=9))), ValueError, "bound to a run"),
        (dict(save_last=True), ValueError, "save_last=True is not supported.*drop save_last"),
        (dict(save_top_k=0), ValueError, "save_top_k=0 would keep no checkpoint"),
        (dict(save_top_k=3), ValueError, r"save_top_k=3 without monitor=.*keep_last=3\)"),
        (dict(save_top_k=-2), ValueError, "save_top_k=-2 must be -1"),
        (dict(save_top_k=True), TypeError, "save_top_k must be an int"),
        (dict(save_top_k=2.0, monitor="m"), TypeError, "save_top_k must be an int"),
        (dict(save_top_k=2, monitor="m", keep=Retention(keep_last=1)), ValueError,
         "pass one of them"),
        (dict(monitor="val_loss"), ValueError, "monitor='val_loss' ranks checkpoints"),
        (dict(monitor="val_loss", keep=Retention(keep_last=2)), ValueError, "nothing keeps"),
        (dict(keep=Retention(keep_best=1)), ValueError, "pass monitor="),
        (dict(save_top_k=1, monitor="m", mode="best"), ValueError, "mode='best'"),
        (dict(save_top_k=1, monitor=3), TypeError, "monitor must be the name"),
        (dict(keep=Retention(keep_last=1), filename="e{epoch}"), ValueError, "has no {step}"),
        (dict(keep=Retention(keep_last=1), filename="run/{step}"), ValueError, "holds a folder"),
        (dict(keep=Retention(keep_last=1), filename="e{epoch}{step}"), ValueError,
         "two fields side by side"),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            ScheduleCheckpoint(rule, **kwargs)
    ScheduleCheckpoint(rule, filename="e{epoch}")  # no {step} is fine without retention
    ScheduleCheckpoint(rule, filename="{epoch}{step}")  # and so are touching fields

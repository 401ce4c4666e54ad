"""ScheduleCheckpoint with a real Lightning Trainer on CPU: checkpoint files on disk equal
the schedule's optimizer steps under gradient accumulation, and resume continues it."""
from __future__ import annotations

import os

import pytest

from ckptsched import Run, Schedule


class Crash(RuntimeError):
    pass


def fit(lightning, torch, root, callback, *, examples=20, batch=2, crash_at=None,
        ckpt_path=None, **trainer_args):
    torch.manual_seed(0)

    class Tiny(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)
            self.optimizer_steps = []

        def training_step(self, batch, batch_idx):
            x, y = batch
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

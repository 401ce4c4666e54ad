"""The cases named in the issue, on both backends.  Every expected value comes from the
issue text / docs/semantics.md, not from running the code."""
import math

import pytest

from ckptsched import Run, Schedule


def by_code(sched, code):
    found = [d for d in sched.diagnostics if d.code == code]
    assert len(found) == 1, (code, sched.diagnostics)
    return found[0]


def test_217_steps_per_epoch_4_epochs_8_saves_per_epoch(backend):
    sched = Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=8)
    assert len(sched) == 32 and sched.steps.size == 32
    for epoch_end in (217, 434, 651, 868):
        assert epoch_end in sched and sched.should_save(epoch_end)
    # 8 evenly spaced saves in each epoch: e*217 + ceil(j*217/8)
    assert sched.steps[:8].tolist() == [28, 55, 82, 109, 136, 163, 190, 217]
    assert sched.last == 868
    hf = by_code(sched, "HF_MISMATCH")
    assert hf.severity == "info"
    assert hf.data["hf_count"] == 31          # Axolotl / transformers: 31 saves, not 32
    assert hf.data["count"] == 32
    assert "31" in hf.message and "32" in hf.message


def test_6_saves_per_100_step_epoch(backend):
    sched = Schedule(Run(steps_per_epoch=100, epochs=1), saves_per_epoch=6)
    assert sched.steps.tolist() == [17, 34, 50, 67, 84, 100]


def test_ratio_0_07_of_100_steps_is_interval_7(backend):
    sched = Schedule(Run(max_steps=100), ratio=0.07)
    assert sched.steps.tolist() == list(range(7, 99, 7)) + [100]
    assert sched.steps.tolist()[-2:] == [98, 100]
    hf = by_code(sched, "HF_MISMATCH")
    assert hf.data["hf_interval"] == 8 and hf.data["interval"] == 7
    assert hf.severity == "info"


def test_4_saves_per_10_step_epoch(backend):
    sched = Schedule(Run(steps_per_epoch=10, epochs=1), saves_per_epoch=4)
    assert sched.steps.tolist() == [3, 5, 8, 10]


def test_every_1000_on_800_steps_keeps_only_the_final_save(backend):
    sched = Schedule(Run(max_steps=800), every=1000)
    assert sched.steps.tolist() == [800]
    d = by_code(sched, "OUT_OF_RANGE")
    assert d.severity == "warning"
    assert "1000" in d.message and "800" in d.message


def test_2_3_epochs_of_10_steps_one_save_per_epoch(backend):
    run = Run(steps_per_epoch=10, epochs=2.3)
    assert run.total_steps == 23 and run.num_epochs == 3
    assert Schedule(run, saves_per_epoch=1).steps.tolist() == [10, 20, 23]


def test_from_dataset_1736_examples_grad_accum_8(backend):
    run = Run.from_dataset(num_examples=1736, micro_batch_size=1, grad_accum=8, world_size=1,
                           epochs=4)
    assert run.steps_per_epoch == 217 and run.total_steps == 868


def test_the_float_pitfalls_of_the_issue(backend):
    # the frameworks' float arithmetic that the issue quotes ...
    assert math.ceil(100 * 0.07) == 8
    assert int(100 * 0.57) == 56
    # ... and ckptsched's exact answers
    assert Schedule(Run(max_steps=100), ratio=0.07).next_after(0) == 7
    sched = Schedule(Run(max_steps=100), ratio=0.57)
    assert sched.steps.tolist() == [57, 100]


@pytest.mark.parametrize("k", [1, 2, 3, 7, 8, 16])
def test_saves_per_epoch_always_hits_every_epoch_end(backend, k):
    sched = Schedule(Run(steps_per_epoch=217, epochs=4), saves_per_epoch=k)
    assert all(sched.should_save(e * 217) for e in range(1, 5))
    assert len(sched) == 4 * k


# ---- the examples of docs/semantics.md ("at=[...]", "every in samples / tokens / epochs")

def test_at_drops_zero_and_steps_past_the_run(backend):
    sched = Schedule(Run(max_steps=100), at=[0, 5, 50, 150], final=False)
    assert sched.steps.tolist() == [5, 50]
    assert by_code(sched, "OUT_OF_RANGE").data["dropped"] == [0, 150]


def test_every_2ep_of_5_epochs_of_30_steps(backend):
    assert Schedule(Run(steps_per_epoch=30, epochs=5), every="2ep").steps.tolist() == [60, 120, 150]


def test_every_100sp_with_24_samples_per_step(backend):
    sched = Schedule(Run(max_steps=20, samples_per_step=24), every="100sp")
    assert sched.steps.tolist() == [5, 9, 13, 17, 20]


def test_every_1e4tok_with_3000_tokens_per_step(backend):
    sched = Schedule(Run(max_steps=20, tokens_per_step=3000), every="1e4tok")
    assert sched.steps.tolist() == [4, 7, 10, 14, 17, 20]

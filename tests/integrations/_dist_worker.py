"""One rank of the torch.distributed (gloo) Tracker test: run by test_distributed.py.

    python _dist_worker.py RANK WORLD_SIZE STORE_FILE OUT_JSON

Each rank runs the same loop with a clock of its own (skewed: another offset and rate),
its own per-rank token counts (summed over ranks before the Tracker sees them), a
request_save() on rank 1 only, and a SIGTERM to rank 1 only.  It records every decision,
and what a Tracker deciding alone on this rank's clock would have done.

Then both ranks train a tiny DistributedDataParallel model with two retaining Trackers
(keep_last + keep_every "1ep"; keep_last + keep_best by the all-reduced loss): rank 0
writes each checkpoint into a folder shared by the ranks, every rank calls to_delete()
after the save is complete (a barrier), and the delete callback removes files -- on rank 0
only, which the record of its calls shows.
"""
import json
import os
import random
import signal
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from ckptsched import Retention, Run, Schedule, Tracker

STEPS, REQUEST_AT, SIGTERM_AT = 100, 37, 71
# the retention phase: its run, save rule and the two policies (read by test_distributed.py)
RETENTION_RUN = dict(steps_per_epoch=10, epochs=3)
RETENTION_SAVE = dict(every=4)
KEEP_EVERY_EPOCH = dict(keep_last=2, keep_every="1ep")
KEEP_BEST = dict(keep_last=1, keep_best=2)


def main():
    rank, world, store, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    ticks = [0]
    offset, rate = (0.0, 1.0) if rank == 0 else (1000.0, 2.7)  # skewed clocks

    def clock():
        return offset + rate * ticks[0]

    schedule = Schedule(Run(steps_per_epoch=25, epochs=4), saves_per_epoch=1)
    tracker = Tracker(schedule, every="150000tok", every_seconds=10, clock=clock,
                      handle_sigterm=True)  # sync: torch.distributed, found by itself
    alone = Tracker(every_seconds=10, clock=clock, sync=False, rank=0)  # this rank's clock only
    rng = random.Random(1234 + rank)
    decisions, alone_decisions, global_tokens = [], [], []
    try:
        for step in range(1, STEPS + 1):
            ticks[0] = step
            local = torch.tensor([rng.randrange(500, 4000)], dtype=torch.int64)  # packing
            dist.all_reduce(local)  # the global tokens of this step
            tokens = int(local.item())
            global_tokens.append(tokens)
            if rank == 1 and step == REQUEST_AT:
                tracker.request_save()
            if rank == 1 and step == SIGTERM_AT:
                os.kill(os.getpid(), signal.SIGTERM)
            d = tracker.update(step, tokens=tokens)
            decisions.append([step, d.save, d.stop, list(d.reasons)])
            alone_decisions.append(bool(alone.update(step)))
            if d.stop:
                break
    finally:
        tracker.close()
    restored = signal.getsignal(signal.SIGTERM) != tracker._on_sigterm
    retention = train_with_retention(rank, Path(out).parent)
    with open(out, "w") as f:
        json.dump({"rank": rank, "decisions": decisions, "alone": alone_decisions,
                   "tokens": global_tokens, "sigterm_handler_restored": restored,
                   "retention": retention}, f)
    dist.barrier()
    dist.destroy_process_group()


def train_with_retention(rank, shared):
    """A DDP training loop whose checkpoints two Trackers retain; returns what each rank saw:
    per policy, the to_delete() results by save step and the delete calls of this rank;
    and the agreed metric of each save."""
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    data = torch.Generator().manual_seed(100 + rank)  # each rank its own shard
    schedule = Schedule(Run(**RETENTION_RUN), **RETENTION_SAVE)
    folders = {name: shared / name for name in ("epochs", "best")}
    calls = {name: [] for name in folders}

    def deleter(name):
        def delete(step):
            calls[name].append(step)
            (folders[name] / f"step-{step}.pt").unlink(missing_ok=True)
        return delete

    trackers = {"epochs": Tracker(schedule, keep=Retention(**KEEP_EVERY_EPOCH),
                                  delete=deleter("epochs")),
                "best": Tracker(schedule, keep=Retention(**KEEP_BEST), delete=deleter("best"))}
    if rank == 0:
        for folder in folders.values():
            folder.mkdir()
    results = {name: [] for name in folders}
    metrics = {}
    for step in range(1, schedule.run.total_steps + 1):
        x = torch.randn(8, 4, generator=data)
        loss = torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        agreed = loss.detach().clone()
        dist.all_reduce(agreed)  # the same metric on every rank
        decisions = {name: t.update(step) for name, t in trackers.items()}
        assert len({bool(d) for d in decisions.values()}) == 1  # one schedule
        if not decisions["epochs"]:
            continue
        metrics[step] = float(agreed) / dist.get_world_size()
        if rank == 0:  # the one process that writes checkpoints
            for name, t in trackers.items():
                torch.save({"model": model.module.state_dict(), "tracker": t.state_dict()},
                           folders[name] / f"step-{step}.pt")
        dist.barrier()  # the save is complete everywhere: now retention
        results["epochs"].append([step, trackers["epochs"].to_delete().tolist()])
        results["best"].append([step, trackers["best"].to_delete(metric=metrics[step]).tolist()])
        dist.barrier()
    return {"to_delete": results, "delete_calls": calls, "metrics": metrics,
            "on_disk": {name: list(t.on_disk) for name, t in trackers.items()}}


if __name__ == "__main__":
    main()

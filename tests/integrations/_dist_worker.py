"""One rank of the torch.distributed (gloo) Tracker test: run by test_distributed.py.

    python _dist_worker.py RANK WORLD_SIZE STORE_FILE OUT_JSON

Each rank runs the same loop with a clock of its own (skewed: another offset and rate),
its own per-rank token counts (summed over ranks before the Tracker sees them), a
request_save() on rank 1 only, and a SIGTERM to rank 1 only.  It records every decision,
and what a Tracker deciding alone on this rank's clock would have done.
"""
import json
import os
import random
import signal
import sys

import torch
import torch.distributed as dist

from ckptsched import Run, Schedule, Tracker

STEPS, REQUEST_AT, SIGTERM_AT = 100, 37, 71


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
    with open(out, "w") as f:
        json.dump({"rank": rank, "decisions": decisions, "alone": alone_decisions,
                   "tokens": global_tokens, "sigterm_handler_restored": restored}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""A plain PyTorch training loop whose checkpoints come from ckptsched.

    python examples/plain_loop.py --out /tmp/ckpt-demo                 # train
    python examples/plain_loop.py --out /tmp/ckpt-demo --preempt-at 20 # SIGTERM at step 20
    python examples/plain_loop.py --out /tmp/ckpt-demo --resume        # continue from the last save
    python examples/plain_loop.py --out /tmp/ckpt-demo --keep-last 2   # delete old checkpoints

What it shows:
- `Run.from_dataset` gives the run's exact geometry (optimizer steps per epoch under gradient
  accumulation, the last accumulation of an epoch partial), and `Schedule` the steps known in
  advance: 4 saves per epoch, 3 evaluations over the run.  The loop asks
  `eval_schedule.should_save(step)`; it never computes a step itself, it only counts them.
- `Tracker` adds what only the running loop knows: packed sequences make the tokens of a step
  vary, so "a save every N tokens" is decided as the tokens come in; a wall-clock rule; and
  SIGTERM (pre-emption), which saves and stops.  Its `state_dict()` goes into each checkpoint,
  so a resumed run continues the same decisions.  Under torchrun the decisions are agreed
  across ranks (through torch.distributed), with no change here.
- `--keep-last N` adds retention: `Tracker(keep=Retention(keep_last=N, keep_every="1ep"))`
  keeps the N most recent checkpoints and the first one at or after each epoch end, and
  `tracker.to_delete()` after each save deletes the others (on rank 0 only, under torchrun).

Needs torch and ckptsched (`pip install .`, or PYTHONPATH=. in a checkout); runs on CPU in
a few seconds.
"""
from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import torch
from torch import nn

from ckptsched import Retention, Run, Schedule, Tracker

VOCAB, LENGTH = 64, 16


def packed_dataset(examples: int, seed: int = 0):
    """Sequences of random real lengths (as packing leaves them), padded to LENGTH."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (examples, LENGTH), generator=g)
    lengths = torch.randint(2, LENGTH + 1, (examples,), generator=g)
    return torch.utils.data.TensorDataset(ids, lengths)


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16)
        self.head = nn.Linear(16, VOCAB)

    def forward(self, ids, lengths):
        """Next-token loss over the real tokens, and how many tokens that was."""
        logits = self.head(self.embed(ids[:, :-1]))
        mask = torch.arange(LENGTH - 1)[None, :] < (lengths[:, None] - 1)
        loss = nn.functional.cross_entropy(logits[mask], ids[:, 1:][mask], reduction="sum")
        return loss, int(lengths.sum())


@torch.no_grad()
def evaluate(model, data, examples: int = 16):
    loss, tokens = model(*data[:examples])
    return loss.item() / tokens


def save(out: Path, step, model, optimizer, tracker):
    path = out / f"step-{step}.pt"
    tmp = path.with_suffix(".tmp")
    torch.save({"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "tracker": tracker.state_dict()}, tmp)
    os.replace(tmp, path)  # a checkpoint is either complete or absent
    return path


def delete(out: Path, step: int) -> None:
    """Remove the checkpoint of `step` (it may be gone already, after a resume)."""
    (out / f"step-{step}.pt").unlink(missing_ok=True)
    print(f"deleted step-{step}.pt")


def last_checkpoint(out: Path):
    found = sorted(out.glob("step-*.pt"), key=lambda p: int(p.stem.split("-")[1]))
    return found[-1] if found else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder")
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--accum", type=int, default=3, help="gradient accumulation steps")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--every-tokens", default="1000tok", help="a save every N tokens")
    parser.add_argument("--every-seconds", type=float, default=600.0)
    parser.add_argument("--resume", action="store_true", help="continue from the last save")
    parser.add_argument("--keep-last", type=int, default=None,
                        help="keep the N most recent checkpoints and one per epoch end; "
                             "delete the others (default: keep all)")
    parser.add_argument("--preempt-at", type=int, default=None,
                        help="send SIGTERM to this process after this step (a demo)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    data = packed_dataset(args.examples)
    loader = torch.utils.data.DataLoader(data, batch_size=args.micro_batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    run = Run.from_dataset(args.examples, args.micro_batch, args.accum, epochs=args.epochs)
    save_schedule = Schedule(run, saves_per_epoch=4)
    eval_schedule = Schedule(run, count=3)
    print(f"{run!r}: {run.steps_per_epoch} optimizer steps per epoch, {run.total_steps} in all")
    print(f"saves on schedule at {save_schedule.steps.tolist()}, evaluations at "
          f"{eval_schedule.steps.tolist()}, plus every {args.every_tokens} and "
          f"{args.every_seconds:g} s")

    model = TinyLM()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    keep = None
    if args.keep_last is not None:
        keep = Retention(keep_last=args.keep_last, keep_every="1ep")
    tracker = Tracker(save_schedule, every=args.every_tokens, every_seconds=args.every_seconds,
                      handle_sigterm=True, keep=keep,
                      delete=None if keep is None else lambda step: delete(args.out, step))
    done = 0
    if args.resume and (path := last_checkpoint(args.out)) is not None:
        state = torch.load(path, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        tracker.load_state_dict(state["tracker"])
        if keep is not None:
            tracker.to_delete()  # deletions a pre-emption may have cut short
        done = state["step"]
        print(f"resumed from {path.name}")

    step, saved = 0, []
    with tracker:  # on leaving: warns if the last step was not saved, restores SIGTERM
        for epoch in range(args.epochs):
            loader.generator.manual_seed(epoch)  # the same order on every run: resumable
            batches = len(loader)
            tokens = 0
            for i, (ids, lengths) in enumerate(loader):
                last_of_step = (i + 1) % args.accum == 0 or i + 1 == batches
                if step >= done:  # (batches of steps done before a resume are only replayed)
                    loss, n = model(ids, lengths)
                    (loss / max(n, 1)).backward()
                    tokens += n
                if not last_of_step:
                    continue
                step += 1  # one more optimizer step: the only step arithmetic here, a count
                if step <= done:
                    continue
                optimizer.step()
                optimizer.zero_grad()
                decision = tracker.update(step, tokens=tokens)
                tokens = 0
                if eval_schedule.should_save(step):
                    print(f"step {step}: evaluation loss {evaluate(model, data):.3f}")
                if decision:
                    saved.append(save(args.out, step, model, optimizer, tracker).name)
                    print(f"step {step}: saved ({', '.join(decision.reasons)})")
                    if keep is not None:  # the save is complete: retention may delete
                        tracker.to_delete()
                if decision.stop:
                    print(f"pre-empted: saved step {step}; continue with --resume")
                    return 0
                if step == args.preempt_at:
                    os.kill(os.getpid(), signal.SIGTERM)  # as a cluster scheduler would
    if step != run.total_steps:  # the loop and the Run must agree on the geometry
        raise RuntimeError(f"the loop made {step} optimizer steps, "
                           f"the Run expects {run.total_steps}")
    print(f"done: {run.total_steps} steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

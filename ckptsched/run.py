"""`Run`: the geometry of one training run (steps per epoch, epochs, total steps)."""
from __future__ import annotations

from . import _backend
from ._numbers import to_bool, to_int, to_rational

PARTIAL_ACCUMULATION = ("step", "drop")


def _total_steps(steps_per_epoch, epochs, given):
    try:
        return _backend.impl.total_steps(steps_per_epoch, epochs.numerator, epochs.denominator)
    except OverflowError:
        raise OverflowError(
            f"epochs={given!r} * steps_per_epoch={steps_per_epoch!r} is more than 2**63 - 1 "
            "steps (the int64 range); pass max_steps or fewer epochs") from None


def _rebuild(kwargs):
    return Run(**kwargs)


class Run:
    """The geometry of a training run, validated and exact.

    Give `max_steps`, or `steps_per_epoch` and `epochs` (a positive int or exact rational;
    a float such as 2.3 means the simplest rational that rounds to it, 23/10).
    T = ceil(epochs * steps_per_epoch) unless `max_steps` is given, which then wins.
    `samples_per_step` / `tokens_per_step` let schedules count in samples or tokens.
    Runs are immutable, hashable and picklable.
    """

    __slots__ = ("steps_per_epoch", "epochs", "max_steps", "total_steps",
                 "samples_per_step", "tokens_per_step", "_given")

    def __init__(self, steps_per_epoch=None, epochs=None, *, max_steps=None,
                 samples_per_step=None, tokens_per_step=None):
        given = {k: v for k, v in (("steps_per_epoch", steps_per_epoch), ("epochs", epochs),
                                   ("max_steps", max_steps),
                                   ("samples_per_step", samples_per_step),
                                   ("tokens_per_step", tokens_per_step)) if v is not None}
        spe = None if steps_per_epoch is None else to_int(steps_per_epoch, "steps_per_epoch")
        ep = None if epochs is None else to_rational(epochs, "epochs")
        ms = None if max_steps is None else to_int(max_steps, "max_steps")
        if ms is None and (spe is None or ep is None):
            raise ValueError("Run needs max_steps, or both steps_per_epoch and epochs "
                             f"(got steps_per_epoch={steps_per_epoch!r}, epochs={epochs!r})")
        total = ms if ms is not None else _total_steps(spe, ep, epochs)
        sps = None if samples_per_step is None else to_rational(samples_per_step, "samples_per_step")
        tps = None if tokens_per_step is None else to_rational(tokens_per_step, "tokens_per_step")
        for name, value in (("steps_per_epoch", spe), ("epochs", ep), ("max_steps", ms),
                            ("total_steps", total), ("samples_per_step", sps),
                            ("tokens_per_step", tps), ("_given", given)):
            object.__setattr__(self, name, value)

    @classmethod
    def from_dataset(cls, num_examples, micro_batch_size, grad_accum=1, world_size=1, *,
                     epochs=None, max_steps=None, drop_last=False, partial_accumulation="step",
                     tokens_per_step=None):
        """The run of a (distributed) dataloader, with steps per epoch as docs/semantics.md defines.

        partial_accumulation="step": a trailing partial gradient accumulation still makes an
        optimizer step (transformers >= 4.52); "drop": it is dropped (transformers <= 4.51).
        samples_per_step is set to micro_batch_size * grad_accum * world_size.
        """
        n = to_int(num_examples, "num_examples")
        b = to_int(micro_batch_size, "micro_batch_size")
        g = to_int(grad_accum, "grad_accum")
        w = to_int(world_size, "world_size")
        drop = to_bool(drop_last, "drop_last")
        if partial_accumulation not in PARTIAL_ACCUMULATION:
            raise ValueError(f"partial_accumulation must be 'step' or 'drop', got {partial_accumulation!r}")
        step_partial = partial_accumulation == "step"
        steps = _backend.impl.steps_per_epoch(n, b, g, w, drop, step_partial)
        if steps == 0:
            batches = _backend.impl.steps_per_epoch(n, b, 1, w, drop, True)
            raise ValueError(
                f"num_examples={n}, micro_batch_size={b}, grad_accum={g}, world_size={w}, "
                f"drop_last={drop}, partial_accumulation={partial_accumulation!r} give 0 optimizer "
                f"steps per epoch ({batches} micro-batches per rank, fewer than grad_accum={g}); "
                "lower micro_batch_size or grad_accum, or use partial_accumulation='step'")
        samples = to_int(b * g * w, "micro_batch_size * grad_accum * world_size")
        return cls(steps, epochs, max_steps=max_steps, samples_per_step=samples,
                   tokens_per_step=tokens_per_step)

    @property
    def num_epochs(self):
        """Epochs the run touches, counting a final partial one (None without steps_per_epoch)."""
        if self.steps_per_epoch is None:
            return None
        return _backend.impl.locate(self.total_steps, self.steps_per_epoch)[0]

    def locate(self, step):
        """(1-based epoch, 1-based step within it) of `step` (needs steps_per_epoch)."""
        if self.steps_per_epoch is None:
            raise ValueError("locate needs a Run with steps_per_epoch")
        step = to_int(step, "step")
        return _backend.impl.locate(step, self.steps_per_epoch)

    def __setattr__(self, name, value):
        raise AttributeError("Run is immutable; build a new one")

    def __delattr__(self, name):
        raise AttributeError("Run is immutable; build a new one")

    def _key(self):
        return (self.steps_per_epoch, self.epochs, self.max_steps, self.total_steps,
                self.samples_per_step, self.tokens_per_step)

    def __eq__(self, other):
        return isinstance(other, Run) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __reduce__(self):
        return (_rebuild, (dict(self._given),))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"Run({args})"


"""`Run`: the geometry of one training run (steps per epoch, epochs, total steps)."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Dict, Tuple, Union

import numpy as np

from . import _backend
from ._numbers import show, to_bool, to_int, to_rational

PARTIAL_ACCUMULATION = ("step", "drop")

#: An integer argument: a Python int or a numpy integer (never a bool or a float).
IntLike = Union[int, "np.integer[Any]"]
#: What an exact rational argument (epochs, samples_per_step, tokens_per_step) may be given
#: as: an int or numpy integer, a Fraction, a Decimal, or a float (its simplest rational,
#: 2.3 -> 23/10; numpy float32 / float16 in their own precision).
RationalLike = Union[int, Fraction, Decimal, float, "np.integer[Any]", "np.floating[Any]"]


def _total_steps(steps_per_epoch: int, epochs: Fraction, given: object) -> int:
    try:
        return _backend.impl.total_steps(steps_per_epoch, epochs.numerator, epochs.denominator)
    except OverflowError:
        raise OverflowError(
            f"epochs={show(given)} * steps_per_epoch={steps_per_epoch!r} is more than 2**63 - 1 "
            "steps (the int64 range); pass max_steps or fewer epochs") from None


def _rebuild(kwargs: dict[str, Any]) -> Run:
    return Run(**kwargs)


class Run:
    """The geometry of a training run, validated and exact.

    Give `max_steps`, or `steps_per_epoch` and `epochs` (a positive int or exact rational;
    a float such as 2.3 means the simplest rational that rounds to it, 23/10).
    T = ceil(epochs * steps_per_epoch) unless `max_steps` is given, which then wins.
    `samples_per_step` / `tokens_per_step` let schedules count in samples or tokens.
    Runs are immutable, hashable and picklable.
    """

    __slots__ = ("_steps_per_epoch", "_epochs", "_max_steps", "_total_steps",
                 "_samples_per_step", "_tokens_per_step", "_given")
    # Declared for type checkers; set once in __init__ (the instance refuses setattr).
    _steps_per_epoch: int | None
    _epochs: Fraction | None
    _max_steps: int | None
    _total_steps: int
    _samples_per_step: Fraction | None
    _tokens_per_step: Fraction | None
    _given: Dict[str, Any]

    def __init__(self, steps_per_epoch: IntLike | None = None, epochs: RationalLike | None = None,
                 *, max_steps: IntLike | None = None, samples_per_step: RationalLike | None = None,
                 tokens_per_step: RationalLike | None = None) -> None:
        given = {k: v for k, v in (("steps_per_epoch", steps_per_epoch), ("epochs", epochs),
                                   ("max_steps", max_steps),
                                   ("samples_per_step", samples_per_step),
                                   ("tokens_per_step", tokens_per_step)) if v is not None}
        spe = None if steps_per_epoch is None else to_int(steps_per_epoch, "steps_per_epoch")
        ep = None if epochs is None else to_rational(epochs, "epochs")
        ms = None if max_steps is None else to_int(max_steps, "max_steps")
        if ms is not None:
            total = ms
        elif spe is not None and ep is not None:
            total = _total_steps(spe, ep, epochs)
        else:
            raise ValueError("Run needs max_steps, or both steps_per_epoch and epochs "
                             f"(got steps_per_epoch={show(steps_per_epoch)}, epochs={show(epochs)})")
        sps = None if samples_per_step is None else to_rational(samples_per_step, "samples_per_step")
        tps = None if tokens_per_step is None else to_rational(tokens_per_step, "tokens_per_step")
        for name, value in (("_steps_per_epoch", spe), ("_epochs", ep), ("_max_steps", ms),
                            ("_total_steps", total), ("_samples_per_step", sps),
                            ("_tokens_per_step", tps), ("_given", given)):
            object.__setattr__(self, name, value)

    # ---- the geometry (read-only) ----------------------------------------------------

    @property
    def steps_per_epoch(self) -> int | None:
        """Optimizer steps per epoch (S), or None for a run given by max_steps alone."""
        return self._steps_per_epoch

    @property
    def epochs(self) -> Fraction | None:
        """The epochs as given, exact (a float as its simplest rational), or None."""
        return self._epochs

    @property
    def max_steps(self) -> int | None:
        """max_steps as given, or None."""
        return self._max_steps

    @property
    def total_steps(self) -> int:
        """T: max_steps when given, else ceil(epochs * steps_per_epoch)."""
        return self._total_steps

    @property
    def samples_per_step(self) -> Fraction | None:
        """Samples per optimizer step (for every="...sp"), exact, or None."""
        return self._samples_per_step

    @property
    def tokens_per_step(self) -> Fraction | None:
        """Tokens per optimizer step (for every="...tok"), exact, or None."""
        return self._tokens_per_step

    @classmethod
    def from_dataset(cls, num_examples: IntLike, micro_batch_size: IntLike,
                     grad_accum: IntLike = 1, world_size: IntLike = 1, *,
                     epochs: RationalLike | None = None, max_steps: IntLike | None = None,
                     drop_last: bool = False, partial_accumulation: str = "step",
                     tokens_per_step: RationalLike | None = None) -> Run:
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
            raise ValueError("partial_accumulation must be 'step' or 'drop', "
                             f"got {show(partial_accumulation)}")
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
    def num_epochs(self) -> int | None:
        """Epochs the run touches, counting a final partial one (None without steps_per_epoch)."""
        if self.steps_per_epoch is None:
            return None
        return _backend.impl.locate(self.total_steps, self.steps_per_epoch)[0]

    def locate(self, step: IntLike) -> Tuple[int, int]:
        """(1-based epoch, 1-based step within it) of `step` (needs steps_per_epoch)."""
        if self.steps_per_epoch is None:
            raise ValueError("locate needs a Run with steps_per_epoch")
        step = to_int(step, "step")
        return _backend.impl.locate(step, self.steps_per_epoch)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Run is immutable; build a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Run is immutable; build a new one")

    def _key(self) -> tuple[object, ...]:
        return (self.steps_per_epoch, self.epochs, self.max_steps, self.total_steps,
                self.samples_per_step, self.tokens_per_step)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (_rebuild, (dict(self._given),))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"Run({args})"


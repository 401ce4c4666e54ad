"""A user's sweep script, type-checked with `mypy --strict` (tests/test_typing.py): the
whole sweep API as a user would call it, with the types a user would expect."""
from __future__ import annotations

from fractions import Fraction
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

import ckptsched
from ckptsched import SweepResult, sweep
from ckptsched.sweeps import FLAGS, SweepSummary


def plan_disk(steps_per_epoch: npt.NDArray[np.int64]) -> Tuple[int, Optional[int]]:
    res: SweepResult = sweep(steps_per_epoch=steps_per_epoch, epochs=3,
                             saves_per_epoch=[8, 4, None], checkpoint_bytes=14 * 2**30,
                             counts_only=True)
    counts: npt.NDArray[np.int64] = res.counts
    assert len(counts) == len(res)
    return res.total, res.total_bytes


def inspect() -> List[int]:
    res = ckptsched.sweep(max_steps=np.array([100, 250, 1000]), every=[10, 7, 300],
                          count=None, ratio=[0.25, Fraction(1, 3), None],
                          final=np.array([True, False, True]), min_interval=0)
    run_1: npt.NDArray[np.int64] = res[1]
    runs: Iterator[npt.NDArray[np.int64]] = iter(res)
    first: List[int] = [int(steps[0]) for steps in runs if len(steps)]
    flagged: npt.NDArray[np.intp] = res.runs_with("UNEVEN_TAIL", "HF_MISMATCH")
    codes: Tuple[str, ...] = res.codes(0)
    summary: SweepSummary = res.summary()
    per_code: Dict[str, int] = summary["runs_per_code"]
    if res.steps is not None and res.offsets is not None:
        assert res.steps[res.offsets[1]:res.offsets[2]].tolist() == run_1.tolist()
    bits: int = FLAGS["NO_SAVES"] | int(res.flags[0])
    print(res, codes, per_code, bits, res.backend, flagged.tolist())
    return first


def peak_disk() -> Tuple[Optional[int], int]:
    res = sweep(num_examples=np.array([10_000, 50_000]), micro_batch_size=8, grad_accum=[4, 2],
                world_size=2, drop_last=[False, True], partial_accumulation=["step", "drop"],
                epochs=3, every=["1ep", "0.5ep"], keep_last=[2, None],
                checkpoint_bytes=14 * 2**30, counts_only=True)
    peak: npt.NDArray[np.int64] = res.peak
    survivors: npt.NDArray[np.int64] = res.survivors
    peak_bytes: Optional[npt.NDArray[np.int64]] = res.peak_bytes
    summary: SweepSummary = res.summary()
    most: Optional[int] = summary["max_peak_bytes"]
    tokens = sweep(max_steps=1000, tokens_per_step=4096, every="1e6tok")
    print(peak.tolist(), survivors.tolist(), peak_bytes, summary["max_peak"],
          summary["total_survivors"], tokens.counts)
    return most, int(res.peak.max())


if __name__ == "__main__":
    print(plan_disk(np.array([217, 400, 31], dtype=np.int64)), inspect(), peak_disk())

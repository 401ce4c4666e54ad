"""The benchmark suite behind `ckptsched bench` and benchmarks/run.py: the C backend against the pure-Python reference and numpy baselines.

Everything runs in this one process: backends are switched with `_backend.use`, cases that
are compared are timed round-robin (so they share the machine's conditions), and the
report gives medians and ratios, never a pass/fail threshold.  Time is the CPU time of
this thread (`time.thread_time`): other load on the machine does not count, page faults
and the kernel's zeroing of fresh memory do.  The suite is described in benchmarks/README.md.

Cases (sizes for the full run; --quick shrinks them for a smoke run):
  decision     per-step should_save: C, reference, and transformers' `step % interval == 0`
  schedule     Schedule(...).steps of 10^6 steps: C vs reference
  large        Schedule(...).steps of 10^7 steps: C vs reference
  sweep_fill   sweep() of 10^5 ragged runs (steps included): C, reference, the best numpy
               formulation, and np.arange of as many int64 values (the bandwidth ceiling)
  sweep_counts sweep(counts_only=True) of 10^7 runs vs a numpy elementwise add over them
  memory       tracemalloc peak of the C sweep against its outputs plus inputs
"""
from __future__ import annotations

import math
import platform
import statistics
import time
import tracemalloc

import numpy as np

from . import _backend
from .run import Run
from .schedule import Schedule
from .sweeps import sweep

clock = time.thread_time


def run_suite(cases: list[str], quick: bool, repeat: int) -> dict:
    """Run the named cases (keys of CASES) in this process and return the report: a dict
    with the environment and, per case, its medians and ratios (see print_report)."""
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise ValueError(f"unknown benchmark case(s) {', '.join(unknown)}; the cases are "
                         f"{', '.join(CASES)}")
    if "c" not in _backend.available() or "c" not in _backend.available("sweep"):
        raise ValueError("the C backend is not built: `python3 setup.py build_ext --inplace` "
                         "(the benchmark compares it with the reference)")
    report = {"quick": bool(quick), "repeat": repeat, "timer": "time.thread_time",
              "python": platform.python_version(), "numpy": np.__version__,
              "machine": platform.machine(), "cases": {}}
    for name in cases:
        report["cases"][name] = CASES[name](quick, repeat)
    return report


# ---- timing ----------------------------------------------------------------------------

def _time_once(fn) -> float:
    t0 = clock()
    fn()
    return clock() - t0


def _medians(fns: dict, repeat: int, reps: dict | None = None) -> dict:
    """Median seconds per call of each function, sampled round-robin; `reps` gives the
    number of samples of a slow function (default `repeat`)."""
    samples = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm up: imports, caches, first-touch of inputs
    for i in range(repeat):
        for name, fn in fns.items():
            if i < (reps or {}).get(name, repeat):
                samples[name].append(_time_once(fn))
    return {name: statistics.median(s) for name, s in samples.items()}


def _ratio(slow: float, fast: float) -> float:
    return slow / fast if fast > 0 else math.inf


# ---- cases -----------------------------------------------------------------------------

def case_decision(quick: bool, repeat: int) -> dict:
    """Per-step decision cost: should_save on each backend, and the float test transformers
    runs every step (global_step % interval == 0, interval = ceil(T * ratio))."""
    n = 20_000 if quick else 200_000
    run_ = Run(steps_per_epoch=n // 10, epochs=10)
    scheds = {}
    for name in ("c", "python"):
        with _backend.use(name):
            scheds[name] = Schedule(run_, ratio=0.07)
    interval = math.ceil(run_.total_steps * 0.07)

    def hf_should_save(step):
        return step % interval == 0

    steps = range(1, n + 1)

    def loop(fn):
        def go():
            for s in steps:
                fn(s)
        return go

    med = _medians({"c": loop(scheds["c"].should_save),
                    "python": loop(scheds["python"].should_save),
                    "transformers_float": loop(hf_should_save)}, repeat)
    per_call = {k: v / n for k, v in med.items()}
    return {"calls": n, "ns_per_call": {k: v * 1e9 for k, v in per_call.items()},
            "ratios": {"python_over_c": _ratio(per_call["python"], per_call["c"]),
                       "c_over_transformers_float": _ratio(per_call["c"],
                                                           per_call["transformers_float"])},
            "target": "python_over_c >= 2"}


def _schedule_case(n_steps: int, repeat: int, ref_repeat: int) -> dict:
    run_ = Run(max_steps=3 * n_steps)

    def build(name):
        def go():
            with _backend.use(name):
                steps = Schedule(run_, count=n_steps).steps
            assert len(steps) == n_steps
        return go

    med = _medians({"c": build("c"), "python": build("python")}, repeat,
                   reps={"python": ref_repeat})
    return {"steps": n_steps, "seconds": med,
            "ratios": {"python_over_c": _ratio(med["python"], med["c"])}}


def case_schedule(quick: bool, repeat: int) -> dict:
    """Building a schedule of 10^6 steps (count=10^6 over 3*10^6 steps) and its array."""
    out = _schedule_case(10_000 if quick else 1_000_000, repeat, repeat if quick else 3)
    out["target"] = "python_over_c >= 50"
    return out


def case_large(quick: bool, repeat: int) -> dict:
    """One large schedule: 10^7 steps, C vs reference (the reference is sampled once)."""
    return _schedule_case(100_000 if quick else 10_000_000, repeat, 1 if not quick else repeat)


def sweep_workload(n_runs: int, seed: int = 0) -> dict:
    """A hyper-parameter sweep: steps per epoch from 100 to 20000, 1 to 4 epochs, 1 to 64
    saves per epoch, final=True: about 80 checkpoints per run, ragged."""
    rng = np.random.default_rng(seed)
    return dict(steps_per_epoch=rng.integers(100, 20_000, n_runs),
                epochs=rng.integers(1, 5, n_runs), saves_per_epoch=rng.integers(1, 65, n_runs))


def numpy_sweep(S, E, k, exact_ints=True):
    """The same sweep in numpy (integer epochs, saves_per_epoch <= steps_per_epoch, final):
    CSR offsets, then each run's j-th step ceil(j*S/k) for j = 1..count, then T where the
    rule does not end on it.  exact_ints=False divides in float64, which is exact for these
    sizes (j*S < 2**53 and a non-integer j*S/k is at least 1/64 from an integer)."""
    T = S * E
    has_T = (T * k) % S < k
    counts = np.minimum(T, (T * k) // S) + ~has_T
    offsets = np.zeros(len(S) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    j = np.ones(int(offsets[-1]), dtype=np.int64)
    j[offsets[1:-1]] -= counts[:-1]  # restart numbering at each run
    np.cumsum(j, out=j)
    j *= np.repeat(S, counts)
    if exact_ints:
        kk = np.repeat(k, counts)
        j += kk
        j -= 1
        j //= kk
        steps = j
    else:  # (j*S) / k, both exact in float64, correctly rounded: its ceil is exact here
        x = j.astype(np.float64)
        del j
        x /= np.repeat(k.astype(np.float64), counts)
        np.ceil(x, out=x)
        steps = x.astype(np.int64)
    tails = offsets[1:][~has_T] - 1
    steps[tails] = T[~has_T]
    return counts, offsets, steps


def case_sweep_fill(quick: bool, repeat: int) -> dict:
    """sweep() with steps: C, reference, numpy, and np.arange of as many values."""
    n_runs = 2_000 if quick else 100_000
    work = sweep_workload(n_runs)
    S, E, k = work["steps_per_epoch"], work["epochs"], work["saves_per_epoch"]
    with _backend.use("c"):
        res = sweep(**work)
    total = res.total
    for exact in (True, False):  # the numpy formulations must compute the same sweep
        counts, offsets, steps = numpy_sweep(S, E, k, exact)
        assert np.array_equal(counts, res.counts) and np.array_equal(offsets, res.offsets)
        assert np.array_equal(steps, res.steps)

    def on(name):
        def go():
            with _backend.use(name):
                sweep(**work)
        return go

    med = _medians({"c": on("c"), "python": on("python"),
                    "numpy_int": lambda: numpy_sweep(S, E, k, True),
                    "numpy_float": lambda: numpy_sweep(S, E, k, False),
                    "np_arange": lambda: np.arange(total, dtype=np.int64)},
                   repeat, reps={"python": repeat if quick else 1})
    best_numpy = min(med["numpy_int"], med["numpy_float"])
    return {"runs": n_runs, "checkpoints": total, "seconds": med,
            "ns_per_checkpoint": {k_: v / total * 1e9 for k_, v in med.items()},
            "ratios": {"c_vs_arange_ceiling": _ratio(med["np_arange"], med["c"]),
                       "best_numpy_over_c": _ratio(best_numpy, med["c"]),
                       "python_over_c": _ratio(med["python"], med["c"])},
            "target": "c_vs_arange_ceiling >= 0.5, best_numpy_over_c >= 3, python_over_c >= 100"}


def case_sweep_counts(quick: bool, repeat: int) -> dict:
    """sweep(counts_only=True) of 10^7 runs vs a numpy elementwise add over as many."""
    n_runs = 100_000 if quick else 10_000_000
    rng = np.random.default_rng(1)
    S = rng.integers(100, 20_000, n_runs)
    k = rng.integers(1, 65, n_runs)

    def c_counts():
        with _backend.use("c"):
            sweep(steps_per_epoch=S, epochs=3, saves_per_epoch=k, counts_only=True)

    med = _medians({"c": c_counts, "numpy_add": lambda: S + k}, repeat)
    return {"runs": n_runs, "seconds": med,
            "ns_per_run": {k_: v / n_runs * 1e9 for k_, v in med.items()},
            "ratios": {"c_over_numpy_add": _ratio(med["c"], med["numpy_add"])},
            "target": "10^7 runs well under a second"}


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def case_memory(quick: bool, repeat: int) -> dict:
    """Peak traced memory of a C sweep (numpy reports its buffers to tracemalloc), against
    the bytes of its outputs plus its inputs."""
    n_runs = 2_000 if quick else 100_000
    work = sweep_workload(n_runs, seed=2)
    inputs = sum(a.nbytes for a in work.values())
    out = {}
    with _backend.use("c"):
        for mode, counts_only in (("fill", False), ("counts_only", True)):
            res = sweep(**work, counts_only=counts_only)
            outputs = sum(a.nbytes for a in (res.counts, res.offsets, res.steps, res.flags,
                                             res.bytes) if a is not None)
            del res
            peak = _peak(lambda: sweep(**work, counts_only=counts_only))
            out[mode] = {"peak_bytes": peak, "output_bytes": outputs, "input_bytes": inputs,
                         "peak_plus_inputs_over_outputs_plus_inputs":
                             (peak + inputs) / (outputs + inputs)}
    out["target"] = "peak_plus_inputs_over_outputs_plus_inputs <= 1.2"
    return out


CASES = {"decision": case_decision, "schedule": case_schedule, "large": case_large,
         "sweep_fill": case_sweep_fill, "sweep_counts": case_sweep_counts, "memory": case_memory}


# ---- report ------------------------------------------------------------------------------

def _fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.3f} us"
    return f"{seconds * 1e9:.1f} ns"


def print_report(report: dict) -> None:
    """Print a report of run_suite as a readable table."""
    print(f"ckptsched bench ({'quick' if report['quick'] else 'full'}; medians of "
          f"{report['repeat']}, CPU time of this thread; Python {report['python']}, "
          f"numpy {report['numpy']}, {report['machine']})")
    for name, case in report["cases"].items():
        print(f"\n{name}:")
        if "ns_per_call" in case:
            for k, v in case["ns_per_call"].items():
                print(f"  {k:<22} {v:10.1f} ns/call")
        elif "seconds" in case:
            size = {k: case[k] for k in ("steps", "runs", "checkpoints") if k in case}
            print("  " + ", ".join(f"{k}={v}" for k, v in size.items()))
            for k, v in case["seconds"].items():
                print(f"  {k:<22} {_fmt(v):>12}")
        else:
            for mode, m in case.items():
                if isinstance(m, dict):
                    print(f"  {mode:<12} peak {m['peak_bytes'] / 2**20:8.1f} MiB, outputs "
                          f"{m['output_bytes'] / 2**20:8.1f} MiB, inputs "
                          f"{m['input_bytes'] / 2**20:6.1f} MiB: (peak+in)/(out+in) = "
                          f"{m['peak_plus_inputs_over_outputs_plus_inputs']:.3f}")
        for k, v in case.get("ratios", {}).items():
            print(f"  ratio {k:<28} {v:10.2f}x")
        if "target" in case:
            print(f"  (aim: {case['target']})")

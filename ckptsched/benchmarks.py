"""The benchmark suite behind `ckptsched bench` and benchmarks/run.py: the C backend against
the pure-Python reference and what ckptsched replaces (the `%` test, transformers'
DefaultFlowCallback, numpy formulations, np.arange).

Everything runs in this one process: backends are switched with `_backend.use`, cases that
are compared are timed round-robin (so they share the machine's conditions), and the
report gives medians and ratios.  Every case states its aims (issue 10's table, and the
earlier aims of the suite) and whether this run met them; nothing fails on a missed aim.
Time is the CPU time of this thread (`time.thread_time`): other load on the machine does
not count, page faults and the kernel's zeroing of fresh memory do.  The suite is
described in benchmarks/README.md.

Cases (sizes for the full run; --quick shrinks them for a smoke run):
  decision     per-step Schedule.should_save (saves_per_epoch rule): C, reference, and a
               Python function `step % n == 0`
  callback     ScheduleCallback.on_step_end (save + eval + log) vs transformers'
               DefaultFlowCallback.on_step_end; skipped when transformers is not installed
  schedule     Schedule(...).steps of 10^6 steps: C vs reference and np.arange
  large        Schedule(...).steps of 10^7 steps: C vs reference and np.arange
  sweep_fill   sweep() of 10^5 ragged runs (steps included): C, reference, the best numpy
               formulation, and np.arange of as many int64 values (the bandwidth ceiling)
  uniform_K    (K = 2, 8, 16, 64, 256) sweep() of runs that all save K times (steps per
               epoch drawn per run, one epoch) vs the numpy broadcast ceil(j*S/K) and np.arange
  sweep_counts sweep(counts_only=True) of 10^7 runs vs a numpy elementwise add over them
  memory       tracemalloc peak of the C sweep against its outputs plus inputs
"""
from __future__ import annotations

import functools
import logging
import math
import platform
import tempfile
import statistics
import time
import tracemalloc
import warnings
from typing import Any, Callable

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
    report: dict[str, Any] = {"quick": bool(quick), "repeat": repeat, "timer": "time.thread_time",
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
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm up: imports, caches, first-touch of inputs
    for i in range(repeat):
        for name, fn in fns.items():
            if i < (reps or {}).get(name, repeat):
                samples[name].append(_time_once(fn))
    return {name: statistics.median(s) for name, s in samples.items()}


def _ratio(slow: float, fast: float) -> float:
    return slow / fast if fast > 0 else math.inf


def _aims(ratios: dict, *wanted: tuple) -> list:
    """Each aim (ratio name, "<=" or ">=", bound, where the aim comes from) checked against
    this run's ratios: a list of dicts with the aim's text, the value and whether it was met."""
    out = []
    for name, op, bound, source in wanted:
        value = ratios[name]
        met = value <= bound if op == "<=" else value >= bound
        out.append({"ratio": name, "aim": f"{name} {op} {bound:g}", "source": source,
                    "value": value, "met": bool(met)})
    return out


ISSUE = "issue 10"
SUITE = "suite"  # an aim of this suite from before issue 10


# ---- cases -----------------------------------------------------------------------------

def case_decision(quick: bool, repeat: int) -> dict:
    """Per-step decision cost: should_save of a saves_per_epoch schedule on each backend, and
    the test it replaces, a Python function `step % n == 0` (as transformers' save_steps)."""
    n = 20_000 if quick else 200_000
    per_epoch, saves = n // 10, 8
    run_ = Run(steps_per_epoch=per_epoch, epochs=10)
    scheds = {}
    for name in ("c", "python"):
        with _backend.use(name):
            scheds[name] = Schedule(run_, saves_per_epoch=saves)
    interval = per_epoch // saves

    def modulo_test(step):
        return step % interval == 0

    steps = range(1, n + 1)

    def loop(fn):
        def go():
            for s in steps:
                fn(s)
        return go

    med = _medians({"c": loop(scheds["c"].should_save),
                    "python": loop(scheds["python"].should_save),
                    "modulo_function": loop(modulo_test)}, repeat)
    per_call = {k: v / n for k, v in med.items()}
    ratios = {"c_over_modulo_function": _ratio(per_call["c"], per_call["modulo_function"]),
              "python_over_c": _ratio(per_call["python"], per_call["c"])}
    return {"calls": n, "ns_per_call": {k: v * 1e9 for k, v in per_call.items()},
            "ratios": ratios,
            "aims": _aims(ratios, ("c_over_modulo_function", "<=", 1.0, ISSUE),
                          ("python_over_c", ">=", 2, SUITE))}


def case_callback(quick: bool, repeat: int) -> dict:
    """ScheduleCallback.on_step_end (save + eval + log schedules) against transformers'
    DefaultFlowCallback.on_step_end (save, eval and log steps), per training step."""
    try:
        import transformers  # type: ignore  # noqa: F401
    except ImportError:
        return {"skipped": "transformers not installed"}
    try:
        return _callback_timings(quick, repeat)
    except Exception as exc:  # a broken transformers install must not fail the suite
        return {"skipped": f"transformers could not run the callbacks ({type(exc).__name__}: "
                           f"{exc})"}


def _callback_timings(quick: bool, repeat: int) -> dict:
    from transformers import TrainerControl, TrainerState, TrainingArguments  # type: ignore
    from transformers.trainer_callback import DefaultFlowCallback  # type: ignore

    from .integrations.transformers import ScheduleCallback

    n = 5_000 if quick else 50_000  # steps per timing sample
    per_epoch, epochs = n, repeat + 1  # every sample (and the warm-up) is one epoch further
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # OVERRIDDEN: the arguments below are overridden
        logger = logging.getLogger("ckptsched")
        level, logger.level = logger.level, logging.ERROR
        try:
            args = TrainingArguments(
                output_dir=out, report_to="none", use_cpu=True, num_train_epochs=epochs,
                save_strategy="steps", save_steps=per_epoch // 8,
                eval_strategy="steps", eval_steps=per_epoch // 10,
                logging_strategy="steps", logging_steps=10)
            callbacks = {"schedule_callback": ScheduleCallback(
                             save={"saves_per_epoch": 8}, eval={"count": 10 * epochs},
                             log={"every": 10}),
                         "default_flow": DefaultFlowCallback()}
            states = {}
            for name, callback in callbacks.items():
                state = TrainerState(max_steps=per_epoch * epochs, global_step=0)
                state.logging_steps, state.eval_steps, state.save_steps = (
                    args.logging_steps, args.eval_steps, args.save_steps)
                callback.on_train_begin(args, state, TrainerControl(),
                                        train_dataloader=range(per_epoch))
                states[name] = state
        finally:
            logger.level = level

    def train(name):
        callback, state, control = callbacks[name], states[name], TrainerControl()

        def go():  # one epoch further; the Trainer's loop sets global_step, then asks
            first = state.global_step + 1
            for step in range(first, first + n):
                state.global_step = step
                callback.on_step_end(args, state, control)
        return go

    med = _medians({name: train(name) for name in callbacks}, repeat)
    per_step = {k: v / n for k, v in med.items()}
    ratios = {"callback_over_default_flow": _ratio(per_step["schedule_callback"],
                                                   per_step["default_flow"])}
    return {"steps": n, "transformers": transformers_version(),
            "ns_per_call": {k: v * 1e9 for k, v in per_step.items()}, "ratios": ratios,
            "aims": _aims(ratios, ("callback_over_default_flow", "<=", 1.0, ISSUE))}


def transformers_version() -> str:
    import transformers  # type: ignore
    return str(transformers.__version__)


def _schedule_case(n_steps: int, repeat: int, ref_repeat: int) -> dict:
    """Schedule(Run(max_steps=3*n), count=n).steps on each backend, and np.arange(n)."""
    run_ = Run(max_steps=3 * n_steps)

    def build(name):
        def go():
            with _backend.use(name):
                steps = Schedule(run_, count=n_steps).steps
            assert len(steps) == n_steps
        return go

    med = _medians({"c": build("c"), "python": build("python"),
                    "np_arange": lambda: np.arange(n_steps, dtype=np.int64)}, repeat,
                   reps={"python": ref_repeat})
    ratios = {"c_over_np_arange": _ratio(med["c"], med["np_arange"]),
              "python_over_c": _ratio(med["python"], med["c"])}
    return {"steps": n_steps, "seconds": med, "ratios": ratios}


def case_schedule(quick: bool, repeat: int) -> dict:
    """Building a schedule of 10^6 steps (count=10^6 over 3*10^6 steps) and its array."""
    out = _schedule_case(10_000 if quick else 1_000_000, repeat, repeat if quick else 3)
    out["aims"] = _aims(out["ratios"], ("c_over_np_arange", "<=", 1.2, ISSUE),
                        ("python_over_c", ">=", 50, SUITE))
    return out


def case_large(quick: bool, repeat: int) -> dict:
    """One large schedule: 10^7 steps, C vs np.arange and the reference (sampled once)."""
    out = _schedule_case(100_000 if quick else 10_000_000, repeat, 1 if not quick else repeat)
    out["aims"] = _aims(out["ratios"], ("c_over_np_arange", "<=", 1.2, ISSUE))
    return out


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
        assert res.offsets is not None and res.steps is not None  # a fill, not counts_only
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
    ratios = {"np_arange_over_c": _ratio(med["np_arange"], med["c"]),
              "best_numpy_over_c": _ratio(best_numpy, med["c"]),
              "python_over_c": _ratio(med["python"], med["c"])}
    return {"runs": n_runs, "checkpoints": total, "seconds": med,
            "ns_per_checkpoint": {k_: v / total * 1e9 for k_, v in med.items()},
            "ratios": ratios,
            "aims": _aims(ratios, ("best_numpy_over_c", ">=", 3, ISSUE),
                          ("np_arange_over_c", ">=", 0.5, ISSUE),
                          ("python_over_c", ">=", 100, SUITE))}


#: The steps per epoch of the runs of the uniform sweeps: drawn per run (seeded) from this
#: range, so that the runs differ as in a real sweep (every run still saves K times: K <= S).
UNIFORM_STEPS_PER_EPOCH = (10_000, 20_000)
UNIFORM_SAVES = (2, 8, 16, 64, 256)


def numpy_uniform_sweep(S, saves: int):
    """The numpy broadcast formulation of one-epoch runs saving `saves` times each: counts,
    offsets and the steps ceil(j*S/saves), j = 1..saves, in exact integer operations."""
    j = np.arange(1, saves + 1, dtype=np.int64)
    steps = S[:, None] * j
    steps += saves - 1
    steps //= saves
    counts = np.full(len(S), saves, dtype=np.int64)
    offsets = np.arange(0, saves * len(S) + 1, saves, dtype=np.int64)
    return counts, offsets, steps.reshape(-1)


def case_uniform(saves: int, quick: bool, repeat: int, checkpoints: int | None = None) -> dict:
    """sweep() of runs that all save `saves` times (steps per epoch drawn per run from
    UNIFORM_STEPS_PER_EPOCH, one epoch, as many runs as make about `checkpoints`
    checkpoints: by default 4 M, 10^5 when quick) vs the numpy broadcast and np.arange."""
    if checkpoints is None:
        checkpoints = 100_000 if quick else 4_000_000
    n_runs = max(1, checkpoints // saves)
    S = np.random.default_rng(saves).integers(*UNIFORM_STEPS_PER_EPOCH, n_runs, dtype=np.int64)
    with _backend.use("c"):
        res = sweep(S, 1, saves_per_epoch=saves)
    counts, offsets, steps = numpy_uniform_sweep(S, saves)  # must compute the same sweep
    assert res.offsets is not None and res.steps is not None
    assert np.array_equal(counts, res.counts) and np.array_equal(offsets, res.offsets)
    assert np.array_equal(steps, res.steps)
    total = res.total

    def c_sweep():
        with _backend.use("c"):
            sweep(S, 1, saves_per_epoch=saves)

    med = _medians({"c": c_sweep, "numpy_broadcast": lambda: numpy_uniform_sweep(S, saves),
                    "np_arange": lambda: np.arange(total, dtype=np.int64)}, repeat)
    ratios = {"numpy_broadcast_over_c": _ratio(med["numpy_broadcast"], med["c"]),
              "np_arange_over_c": _ratio(med["np_arange"], med["c"])}
    wanted = [("numpy_broadcast_over_c", ">=", 1.0, ISSUE)]
    if saves >= 8:
        wanted.append(("np_arange_over_c", ">=", 0.5, ISSUE))
    return {"runs": n_runs, "checkpoints": total, "seconds": med,
            "ns_per_checkpoint": {k: v / total * 1e9 for k, v in med.items()},
            "ratios": ratios, "aims": _aims(ratios, *wanted)}


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
    ratios = {"c_over_numpy_add": _ratio(med["c"], med["numpy_add"])}
    return {"runs": n_runs, "seconds": med,
            "ns_per_run": {k_: v / n_runs * 1e9 for k_, v in med.items()},
            "ratios": ratios, "aims": _aims(ratios, ("c_over_numpy_add", "<=", 5, ISSUE))}


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
    out: dict = {}
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
    out["ratios"] = {f"{mode}_peak": out[mode]["peak_plus_inputs_over_outputs_plus_inputs"]
                     for mode in ("fill", "counts_only")}
    out["aims"] = _aims(out["ratios"], ("fill_peak", "<=", 1.2, SUITE),
                        ("counts_only_peak", "<=", 1.2, SUITE))
    return out


CASES: dict[str, Callable[[bool, int], dict]] = {"decision": case_decision, "callback": case_callback, "schedule": case_schedule,
         "large": case_large, "sweep_fill": case_sweep_fill,
         **{f"uniform_{k}": functools.partial(case_uniform, k) for k in UNIFORM_SAVES},
         "sweep_counts": case_sweep_counts, "memory": case_memory}


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
    """Print a report of run_suite as a readable table: per case its timings, its ratios,
    and each aim with "met" or "NOT met" for this run."""
    print(f"ckptsched bench ({'quick' if report['quick'] else 'full'}; medians of "
          f"{report['repeat']}, CPU time of this thread; Python {report['python']}, "
          f"numpy {report['numpy']}, {report['machine']})")
    if report["quick"]:
        print("quick sizes: fixed costs dominate, so the verdicts below are a smoke check; "
              "the aims are meant for the full sizes")
    for name, case in report["cases"].items():
        print(f"\n{name}:")
        if "skipped" in case:
            print(f"  skipped: {case['skipped']}")
            continue
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
                if isinstance(m, dict) and "peak_bytes" in m:
                    print(f"  {mode:<12} peak {m['peak_bytes'] / 2**20:8.1f} MiB, outputs "
                          f"{m['output_bytes'] / 2**20:8.1f} MiB, inputs "
                          f"{m['input_bytes'] / 2**20:6.1f} MiB")
        for k, v in case.get("ratios", {}).items():
            print(f"  ratio {k:<28} {v:10.2f}x")
        for aim in case.get("aims", []):
            verdict = "met" if aim["met"] else "NOT met"
            print(f"  aim   {aim['aim']:<36} ({aim['source']}): {verdict}")
    missed = [f"{name}: {aim['aim']}" for name, case in report["cases"].items()
              for aim in case.get("aims", []) if not aim["met"]]
    print(f"\n{'every aim met' if not missed else 'aims NOT met: ' + '; '.join(missed)}")

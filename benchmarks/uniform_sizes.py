"""The uniform sweeps of `ckptsched bench` (uniform_K) at other sizes than its 4 M
checkpoints: how np.arange / C and the numpy broadcast / C move with the size of the
output, against the machine's caches.

    python3 benchmarks/uniform_sizes.py                       # K = 8, 64; 0.25 M .. 16 M
    python3 benchmarks/uniform_sizes.py --saves 8 --sizes 1e6,4e6 --repeat 15

Same timing as the suite (medians of round-robin samples, CPU time of this thread); it
prints a table and sets no aim.  benchmarks/README.md ("Which ratios depend on shape")
quotes a run of it.
"""
import argparse
import sys

from ckptsched.benchmarks import UNIFORM_STEPS_PER_EPOCH, case_uniform


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", default="8,64",
                        help="saves per run, comma-separated (default 8,64)")
    parser.add_argument("--sizes", default="2.5e5,1e6,4e6,1.6e7",
                        help="checkpoints per sweep, comma-separated (default 2.5e5,1e6,4e6,1.6e7)")
    parser.add_argument("--repeat", type=int, default=15, help="samples per variant (default 15)")
    args = parser.parse_args()
    try:
        saves = [int(k) for k in args.saves.split(",")]
        sizes = [int(float(n)) for n in args.sizes.split(",")]
    except ValueError as exc:
        parser.error(f"--saves and --sizes take comma-separated numbers: {exc}")
    if any(k < 1 for k in saves) or any(n < 1 for n in sizes) or args.repeat < 1:
        parser.error("--saves, --sizes and --repeat must be at least 1")
    most = UNIFORM_STEPS_PER_EPOCH[0]  # every run must save K times: K <= its steps per epoch
    if any(k > most for k in saves):
        parser.error(f"--saves must be at most {most} (the fewest steps per epoch of a run)")
    print(f"{'saves':>5} {'checkpoints':>12} {'runs':>9} {'C':>10} {'np.arange / C':>14} "
          f"{'numpy broadcast / C':>20}")
    for k in saves:
        for n in sizes:
            case = case_uniform(k, False, args.repeat, checkpoints=n)
            ratios = case["ratios"]
            print(f"{k:>5} {case['checkpoints']:>12} {case['runs']:>9} "
                  f"{case['seconds']['c'] * 1e3:>7.3f} ms {ratios['np_arange_over_c']:>13.2f}x "
                  f"{ratios['numpy_broadcast_over_c']:>19.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(run())

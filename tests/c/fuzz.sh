#!/usr/bin/env bash
# Fuzz the C code of src_c/ under ASan + UBSan with two targets, one after the other:
#   fuzz_ckpt   tests/c/fuzz_ckpt.c, the core (src_c/ckpt.c), corpus tests/c/fuzz_corpus/
#   fuzz_sweep  tests/c/fuzz_sweep.c, the sweep kernels (src_c/ckpt_sweep.c + ckpt.c): fast
#               paths against the general path; corpus tests/c/fuzz_sweep_corpus/
#
#   bash tests/c/fuzz.sh --ci            what CI runs: for each target libFuzzer,
#                                        deterministic (-seed=1, -runs=its CI runs, about
#                                        a minute each), over a temporary copy of its
#                                        committed corpus; then the gcc driver on the
#                                        portable arithmetic
#   bash tests/c/fuzz.sh --seconds N     a long developer run (N seconds per target); new
#                                        interesting inputs go to kept temporary corpora
#                                        whose paths are printed at the end
#   bash tests/c/fuzz.sh --driver [N]    no libFuzzer: gcc + sanitizers over each corpus
#                                        and N (default 20000) pseudo-random inputs
#
# Env: CKPT_FUZZ_CFLAGS adds compiler flags, e.g. -DCKPT_NO_INT128 to fuzz the portable
# arithmetic of ckpt_arith.h instead of the __int128 one.  CKPT_FUZZ_TARGETS picks the
# targets (default "fuzz_ckpt fuzz_sweep"), e.g. CKPT_FUZZ_TARGETS=fuzz_sweep.
#
# libFuzzer needs clang (Debian: the `clang` package brings libclang-rt-*-dev with
# libclang_rt.fuzzer).  When clang is missing and we run as root, it is installed
# with apt-get; when libFuzzer still cannot be built, the gcc driver runs instead
# and says so loudly.  Exit status is non-zero on any finding; the failing input is
# kept and printed (hex) so it can be replayed with `fuzz_driver FILE`.
set -euo pipefail

# Each target: its name (tests/c/NAME.c), its corpus directory, its -max_len, its
# deterministic runs in --ci, and the sources of src_c/ it links.
#   fuzz_ckpt:  about 60 s of CPU on the idle 2-core machine (0.75 ms per run); it decodes
#               at most a few hundred bytes
#   fuzz_sweep: about 60 s too (2.3 ms per run: each run is a sweep of up to 300 rows, both
#               passes, twice); it decodes at most 394 bytes
# shellcheck disable=SC2206
targets=(${CKPT_FUZZ_TARGETS:-fuzz_ckpt fuzz_sweep})
declare -A corpus_of=([fuzz_ckpt]=fuzz_corpus [fuzz_sweep]=fuzz_sweep_corpus)
declare -A max_len_of=([fuzz_ckpt]=512 [fuzz_sweep]=400)
declare -A ci_runs_of=([fuzz_ckpt]=75000 [fuzz_sweep]=25000)
declare -A sources_of=([fuzz_ckpt]="ckpt.c" [fuzz_sweep]="ckpt.c ckpt_sweep.c")

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."

mode="${1:---ci}"
case "$mode" in
    --ci) ;;
    --seconds) seconds="${2:?--seconds needs a number}" ;;
    --driver) n_random="${2:-20000}" ;;
    *) echo "usage: $0 --ci | --seconds N | --driver [N]" >&2; exit 2 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/ckpt-fuzz.XXXXXX")"
keep_work=0
cleanup() { if [ "$keep_work" = 0 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
cflags=(-std=c11 -Wall -Wextra -g -O1 -I "$root/src_c")
# shellcheck disable=SC2206
extra_cflags=(${CKPT_FUZZ_CFLAGS:-})
cflags+=(${extra_cflags[@]+"${extra_cflags[@]}"})

# The sources of target $1: its test file, then its files of src_c/.
sources() {
    local f
    echo "$here/$1.c"
    for f in ${sources_of[$1]}; do echo "$root/src_c/$f"; done
}

ensure_clang() {
    command -v clang >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "fuzz.sh: clang is missing; installing it with apt-get" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang; } >&2 ||
            echo "fuzz.sh: apt-get install clang failed" >&2
    fi
    command -v clang >/dev/null 2>&1
}

# Build target $1 with libFuzzer into $work/$1.
build_libfuzzer() {
    ensure_clang || return 1
    # shellcheck disable=SC2046
    clang "${cflags[@]}" -fsanitize=fuzzer "${sanitize[@]}" $(sources "$1") -lm -o "$work/$1" \
        2>"$work/$1.build.log" || { cat "$work/$1.build.log" >&2; return 1; }
}

# Show and keep the input(s) libFuzzer saved for a finding of target $1.
report_finding() {
    keep_work=1
    echo "fuzz.sh: FINDING -- $1 reported a violation or a crash (see above)." >&2
    for f in "$work/$1.artifacts"/*; do
        [ -e "$f" ] || continue
        echo "fuzz.sh: input $f (hex):" >&2
        od -An -tx1 -v "$f" >&2
    done
    echo "fuzz.sh: replay: build tests/c/fuzz_driver.c with tests/c/$1.c and run it on the file;" \
         "then add a regression test to tests/c/test_ckpt.c or tests/c/test_sweep.c" >&2
}

# The gcc driver of target $1 over its corpus and $2 pseudo-random inputs.
run_driver() {
    local name="$1" n="$2"
    # shellcheck disable=SC2046
    ${CC:-gcc} "${cflags[@]}" "${sanitize[@]}" $(sources "$name") "$here/fuzz_driver.c" -lm \
        -o "$work/$name.driver"
    "$work/$name.driver" -n "$n" "$here/${corpus_of[$name]}" 2>"$work/$name.driver.log" || {
        tail -n 40 "$work/$name.driver.log" >&2
        keep_work=1
        echo "fuzz.sh: FINDING in the gcc driver run of $name (log: $work/$name.driver.log)" >&2
        return 1
    }
}

if [ "$mode" = --driver ]; then
    for name in "${targets[@]}"; do run_driver "$name" "$n_random"; done
    exit
fi

for name in "${targets[@]}"; do
    build_libfuzzer "$name" && continue
    echo "################################################################" >&2
    echo "fuzz.sh: WARNING: clang/libFuzzer unavailable: NOT coverage-guided." >&2
    echo "fuzz.sh: falling back to the gcc driver (corpus + pseudo-random inputs)." >&2
    echo "################################################################" >&2
    for fallback in "${targets[@]}"; do run_driver "$fallback" 60000; done
    exit
done

# libFuzzer on target $1 with the extra flags $2...; its corpus grows in $work/$1.corpus.
run_libfuzzer() {
    local name="$1"
    shift
    mkdir -p "$work/$name.corpus" "$work/$name.artifacts"
    cp "$here/${corpus_of[$name]}"/* "$work/$name.corpus/" 2>/dev/null || true
    "$work/$name" "$@" -max_len="${max_len_of[$name]}" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/$name.artifacts/" "$work/$name.corpus" \
        >"$work/$name.log" 2>&1
}

if [ "$mode" = --ci ]; then
    for name in "${targets[@]}"; do
        runs="${ci_runs_of[$name]}"
        echo "fuzz.sh: $name: libFuzzer, -seed=1 -runs=$runs over a copy of" \
             "$(ls "$here/${corpus_of[$name]}" | wc -l) corpus files"
        run_libfuzzer "$name" -seed=1 -runs="$runs" ||
            { tail -n 40 "$work/$name.log" >&2; report_finding "$name"; exit 1; }
        grep -E "^(stat::|Done)" "$work/$name.log" || tail -n 3 "$work/$name.log"
    done
    # the portable arithmetic (CKPT_NO_INT128) too, cheaply: each corpus and a few
    # thousand pseudo-random inputs through the gcc driver
    cflags+=(-DCKPT_NO_INT128)
    for name in "${targets[@]}"; do
        echo "fuzz.sh: $name: gcc driver with -DCKPT_NO_INT128 over the corpus and 5000" \
             "pseudo-random inputs"
        run_driver "$name" 5000
    done
    echo "fuzz.sh: no finding"
else
    keep_work=1
    status=0
    for name in "${targets[@]}"; do
        echo "fuzz.sh: $name: libFuzzer for ${seconds}s; the growing corpus is $work/$name.corpus"
        # value profiles guide the search through comparisons (hi >= c, quot > INT64_MAX, ...)
        run_libfuzzer "$name" -max_total_time="$seconds" -use_value_profile=1 || status=$?
        grep -E "^(stat::|Done)" "$work/$name.log" || true
        if [ "$status" != 0 ]; then
            tail -n 40 "$work/$name.log" >&2
            report_finding "$name"
            exit 1
        fi
    done
    echo "fuzz.sh: no finding.  Logs: $work/*.log"
    echo "fuzz.sh: to keep the inputs that add coverage (then keep the corpora small):"
    for name in "${targets[@]}"; do
        echo "  $work/$name -merge=1 $here/${corpus_of[$name]} $work/$name.corpus" \
             "  # $(ls "$work/$name.corpus" | wc -l) files"
    done
fi

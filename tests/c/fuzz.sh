#!/usr/bin/env bash
# Fuzz the C core (src_c/ckpt.c) with tests/c/fuzz_ckpt.c under ASan + UBSan.
#
#   bash tests/c/fuzz.sh --ci            what CI runs: libFuzzer, deterministic
#                                        (-seed=1, -runs=$CI_RUNS, about a minute),
#                                        over a temporary copy of the committed corpus;
#                                        then the gcc driver on the portable arithmetic
#   bash tests/c/fuzz.sh --seconds N     a long developer run (N seconds); new
#                                        interesting inputs go to a kept temporary
#                                        corpus whose path is printed at the end
#   bash tests/c/fuzz.sh --driver [N]    no libFuzzer: gcc + sanitizers over the
#                                        corpus and N (default 20000) pseudo-random inputs
#
# Env: CKPT_FUZZ_CFLAGS adds compiler flags, e.g. -DCKPT_NO_INT128 to fuzz the portable
# arithmetic of ckpt_arith.h instead of the __int128 one.
#
# libFuzzer needs clang (Debian: the `clang` package brings libclang-rt-*-dev with
# libclang_rt.fuzzer).  When clang is missing and we run as root, it is installed
# with apt-get; when libFuzzer still cannot be built, the gcc driver runs instead
# and says so loudly.  Exit status is non-zero on any finding; the failing input is
# kept and printed (hex) so it can be replayed with `fuzz_driver FILE`.
set -euo pipefail

CI_RUNS=75000   # about 60 s of CPU on the idle 2-core machine (0.75 ms per run)
MAX_LEN=512     # the target decodes at most a few hundred bytes

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
corpus="$here/fuzz_corpus"

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
sources=("$here/fuzz_ckpt.c" "$root/src_c/ckpt.c")

ensure_clang() {
    command -v clang >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "fuzz.sh: clang is missing; installing it with apt-get" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang; } >&2 ||
            echo "fuzz.sh: apt-get install clang failed" >&2
    fi
    command -v clang >/dev/null 2>&1
}

build_libfuzzer() {
    ensure_clang || return 1
    clang "${cflags[@]}" -fsanitize=fuzzer "${sanitize[@]}" "${sources[@]}" -o "$work/fuzz_ckpt" \
        2>"$work/build.log" || { cat "$work/build.log" >&2; return 1; }
}

# Show and keep the input(s) libFuzzer saved for a finding.
report_finding() {
    keep_work=1
    echo "fuzz.sh: FINDING -- the fuzz target reported a violation or a crash (see above)." >&2
    for f in "$work"/artifacts/*; do
        [ -e "$f" ] || continue
        echo "fuzz.sh: input $f (hex):" >&2
        od -An -tx1 -v "$f" >&2
    done
    echo "fuzz.sh: replay: build tests/c/fuzz_driver.c with the target and run it on the file;" \
         "then add a regression test to tests/c/test_ckpt.c" >&2
}

run_driver() {
    local n="$1"
    ${CC:-gcc} "${cflags[@]}" "${sanitize[@]}" "${sources[@]}" "$here/fuzz_driver.c" \
        -o "$work/fuzz_driver"
    "$work/fuzz_driver" -n "$n" "$corpus" 2>"$work/driver.log" || {
        tail -n 20 "$work/driver.log" >&2
        keep_work=1
        echo "fuzz.sh: FINDING in the gcc driver run (log: $work/driver.log)" >&2
        return 1
    }
}

if [ "$mode" = --driver ]; then
    run_driver "$n_random"
    exit
fi

if ! build_libfuzzer; then
    echo "################################################################" >&2
    echo "fuzz.sh: WARNING: clang/libFuzzer unavailable: NOT coverage-guided." >&2
    echo "fuzz.sh: falling back to the gcc driver (corpus + pseudo-random inputs)." >&2
    echo "################################################################" >&2
    run_driver 60000
    exit
fi

mkdir -p "$work/corpus" "$work/artifacts"
cp "$corpus"/* "$work/corpus/" 2>/dev/null || true
common=(-max_len="$MAX_LEN" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$work/artifacts/")

if [ "$mode" = --ci ]; then
    echo "fuzz.sh: libFuzzer, -seed=1 -runs=$CI_RUNS over a copy of $(ls "$corpus" | wc -l) corpus files"
    "$work/fuzz_ckpt" -seed=1 -runs="$CI_RUNS" "${common[@]}" "$work/corpus" \
        >"$work/fuzz.log" 2>&1 || { tail -n 40 "$work/fuzz.log" >&2; report_finding; exit 1; }
    grep -E "^(stat::|Done)" "$work/fuzz.log" || tail -n 3 "$work/fuzz.log"
    # the portable arithmetic (CKPT_NO_INT128) too, cheaply: the corpus and a few
    # thousand pseudo-random inputs through the gcc driver
    echo "fuzz.sh: gcc driver with -DCKPT_NO_INT128 over the corpus and 5000 pseudo-random inputs"
    cflags+=(-DCKPT_NO_INT128)
    run_driver 5000
    echo "fuzz.sh: no finding"
else
    keep_work=1
    echo "fuzz.sh: libFuzzer for ${seconds}s; the growing corpus is $work/corpus"
    status=0
    # value profiles guide the search through comparisons (hi >= c, quot > INT64_MAX, ...)
    "$work/fuzz_ckpt" -max_total_time="$seconds" -use_value_profile=1 "${common[@]}" "$work/corpus" \
        >"$work/fuzz.log" 2>&1 || status=$?
    grep -E "^(stat::|Done)" "$work/fuzz.log" || true
    if [ "$status" != 0 ]; then
        tail -n 40 "$work/fuzz.log" >&2
        report_finding
        exit 1
    fi
    echo "fuzz.sh: no finding.  Corpus: $work/corpus ($(ls "$work/corpus" | wc -l) files), log: $work/fuzz.log"
    echo "fuzz.sh: to keep the inputs that add coverage (then keep the corpus small):"
    echo "  $work/fuzz_ckpt -merge=1 $corpus $work/corpus"
fi

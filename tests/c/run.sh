#!/usr/bin/env bash
# Build and run the standalone C tests of src_c/ under ASan + UBSan, twice: as setup.py
# builds the library (the default arithmetic: __int128 and overflow builtins; -O3, so the
# vectorized loops; the kernels' AVX2 clones where the processor has AVX2), then with
# -DCKPT_NO_INT128 -DCKPT_NO_CLONES at -O1 (portable C11, one version of each kernel).
# Usage (from anywhere): bash tests/c/run.sh      Env: CC (default gcc)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."   # the repo root

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cflags=(-std=c11 -Wall -Wextra -Wconversion -Werror -g
        -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
        -I src_c)

status=0
for arith in default portable; do
    defines=()
    # the default pass with the optimization of setup.py's build (its vectorized loops), the
    # portable one at -O1
    opt=(-O3 -fno-trapping-math)
    [ "$arith" = portable ] && defines=(-DCKPT_NO_INT128 -DCKPT_NO_CLONES) opt=(-O1)
    # each test program: its own sources after the test file
    for spec in "test_ckpt:src_c/ckpt.c" "test_sweep:src_c/ckpt.c src_c/ckpt_sweep.c"; do
        name="${spec%%:*}"
        # shellcheck disable=SC2086
        ${CC:-gcc} "${cflags[@]}" "${opt[@]}" ${defines[@]+"${defines[@]}"} "tests/c/$name.c" ${spec#*:} -lm \
            -o "$tmp/$name-$arith"
        echo "== $name ($arith arithmetic, ${opt[*]}${defines[0]:+, ${defines[*]}})"
        "$tmp/$name-$arith" || status=$?
    done
done
exit "$status"

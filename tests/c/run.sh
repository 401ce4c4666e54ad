#!/usr/bin/env bash
# Build and run the standalone C test of src_c/ under ASan + UBSan.
# Usage (from anywhere): bash tests/c/run.sh      Env: CC (default gcc)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."   # the repo root

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

${CC:-gcc} -std=c11 -Wall -Wextra -Wconversion -Werror -g -O1 \
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
    -I src_c \
    tests/c/test_ckpt.c src_c/ckpt.c \
    -o "$tmp/test_ckpt"

status=0
"$tmp/test_ckpt" || status=$?
exit "$status"

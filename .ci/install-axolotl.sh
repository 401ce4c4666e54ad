#!/usr/bin/env bash
# Install the environment of the real-Axolotl tests into VENV_DIR (created if missing):
#   bash .ci/install-axolotl.sh VENV_DIR
#   CKPTSCHED_REQUIRE_AXOLOTL=1 VENV_DIR/bin/python -Im pytest -q tests/integrations/test_axolotl_*.py
# Axolotl 0.21.0 declares Python >= 3.12 and 57 requirements, and a plain
# `pip install --ignore-requires-python axolotl==0.21.0` fails on 3.11 (its resolver picks a numpy
# source release that needs 3.12).  So: the pinned packages of .ci/requirements-axolotl.txt
# (torch==2.13.0 among them, the local CPU wheel), then the axolotl wheel downloaded for 3.12 and
# axolotl-contribs-lgpl/-mit, all three without their declared dependencies (Axolotl's files run
# on 3.11), then ckptsched, built from a copy of this checkout: .ci/run installs this environment
# in the background while its main suite builds the same checkout in place.
# Nothing is read from or written to pip's cache (a fresh machine has none), and nothing is
# byte-compiled ahead (Python compiles the few modules the tests import when they import them).
# Idempotent: a second run reinstalls only ckptsched.  pip's output goes to
# VENV_DIR/install-axolotl.log; on a failure its tail is printed and the exit status is 1.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash $0 VENV_DIR" >&2
    exit 2
fi
venv="$1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
axolotl_version="0.21.0"
contribs=(axolotl-contribs-lgpl==0.0.7 axolotl-contribs-mit==0.0.6)
started=$SECONDS

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
venv="$(cd "$venv" && pwd)"
python="$venv/bin/python"
log="$venv/install-axolotl.log"
: >"$log"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Run pip quietly into the log; on failure show the end of the log and stop.
pip_logged() {
    if ! "$python" -m pip --disable-pip-version-check --no-cache-dir "$@" >>"$log" 2>&1; then
        echo "pip $* failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
}

step() { echo "== [$((SECONDS - started)) s] $*"; }

step "the packages of .ci/requirements-axolotl.txt into $venv ($("$python" --version))"
# pip reports axolotl's declared requirements that it does not install as "conflicts": expected.
pip_logged install --no-compile -r "$repo/.ci/requirements-axolotl.txt"

if [ "$("$python" -c 'import importlib.metadata as m; print(m.version("axolotl"))' 2>/dev/null)" \
        = "$axolotl_version" ]; then
    step "axolotl $axolotl_version is already installed"
else
    step "axolotl $axolotl_version (the wheel for Python 3.12) and ${contribs[*]}, without dependencies"
    pip_logged download --no-deps --python-version 3.12 --only-binary=:all: \
        --dest "$scratch" "axolotl==$axolotl_version"
    pip_logged install --no-compile --no-deps --ignore-requires-python \
        "$scratch"/axolotl-*.whl "${contribs[@]}"
fi

step "ckptsched from a copy of $repo"
source_copy="$scratch/ckptsched"
mkdir "$source_copy"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # the checkout's files, committed or not, without what .gitignore lists (build/, *.so, .venv*)
    git -C "$repo" ls-files -z --cached --others --exclude-standard \
        | (cd "$repo" && tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null) \
        | tar -C "$source_copy" -xf -
else
    cp -R "$repo/." "$source_copy"
fi
pip_logged install --no-compile "$source_copy"

step "import check"
(cd "$venv" && "$python" -c 'import axolotl.cli.train, ckptsched, pytest, hypothesis, yaml')

size="$(du -sh "$venv" | cut -f1)"
echo "== axolotl environment ready in $((SECONDS - started)) s: $venv ($size)"

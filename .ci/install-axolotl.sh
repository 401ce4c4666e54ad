#!/usr/bin/env bash
# Install the environment of the real-Axolotl tests into VENV_DIR (created if missing):
#   bash .ci/install-axolotl.sh VENV_DIR
#   CKPTSCHED_REQUIRE_AXOLOTL=1 VENV_DIR/bin/python -Im pytest -q tests/integrations/test_axolotl_real.py
# Axolotl 0.21.0 declares Python >= 3.12 and ~60 requirements, and a plain
# `pip install --ignore-requires-python axolotl==0.21.0` fails on 3.11 (its resolver picks a numpy
# source release that needs 3.12).  So, in this order: torch==2.13.0 (pinned: an unpinned torch
# pulls a multi-GB CUDA build; 2.13.0 is a local CPU wheel), the axolotl wheel downloaded for
# 3.12 and installed without its dependencies (all its files run on 3.11), the pinned subset of
# .ci/requirements-axolotl.txt, axolotl-contribs-lgpl/-mit without dependencies, then ckptsched
# from this repository.  Idempotent: a second run reinstalls only ckptsched.  pip's output goes
# to VENV_DIR/install-axolotl.log (its tail is printed on failure).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash $0 VENV_DIR" >&2
    exit 2
fi
venv="$1"
repo="$(cd "$(dirname "$0")/.." && pwd)"
axolotl_version="0.21.0"
started=$SECONDS

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
venv="$(cd "$venv" && pwd)"
python="$venv/bin/python"
log="$venv/install-axolotl.log"
: >"$log"

# Run pip quietly into the log; on failure show the end of the log and stop.
pip_logged() {
    if ! "$python" -m pip --disable-pip-version-check "$@" >>"$log" 2>&1; then
        echo "pip $* failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
}

step() { echo "== [$((SECONDS - started)) s] $*"; }

step "torch==2.13.0 into $venv ($("$python" --version))"
pip_logged install torch==2.13.0

if [ "$("$python" -c 'import importlib.metadata as m; print(m.version("axolotl"))' 2>/dev/null)" \
        = "$axolotl_version" ]; then
    step "axolotl $axolotl_version is already installed"
else
    step "axolotl $axolotl_version: the wheel for Python 3.12, without its dependencies"
    wheels="$(mktemp -d)"
    trap 'rm -rf "$wheels"' EXIT
    pip_logged download --no-deps --python-version 3.12 --only-binary=:all: \
        --dest "$wheels" "axolotl==$axolotl_version"
    pip_logged install --no-deps --ignore-requires-python "$wheels"/axolotl-*.whl
fi

step "the packages of .ci/requirements-axolotl.txt"
# pip reports the declared requirements of axolotl it does not install as "conflicts": expected.
pip_logged install -r "$repo/.ci/requirements-axolotl.txt"
pip_logged install --no-deps axolotl-contribs-lgpl==0.0.7 axolotl-contribs-mit==0.0.6

step "ckptsched from $repo"
pip_logged install "$repo"

step "import check"
(cd "$venv" && "$python" -c 'import axolotl.cli.train, ckptsched, pytest, hypothesis, yaml')

size="$(du -sh "$venv" | cut -f1)"
echo "== axolotl environment ready in $((SECONDS - started)) s: $venv ($size)"

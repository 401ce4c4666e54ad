"""Shared fixtures of the integration tests (a package-less directory).

Framework packages come through fixtures (`torch`, `transformers`, `lightning`, `yaml`):
without CKPTSCHED_REQUIRE_INTEGRATIONS a missing package skips the test; with
CKPTSCHED_REQUIRE_INTEGRATIONS=1 (CI) it fails it, and so does any other skip in this
directory, so that CI can never pass by skipping these tests (except the "c" backend's skip
under CKPTSCHED_NO_EXTENSIONS=1).  The `backend` fixture (each test once per backend) is the
one of tests/conftest.py.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REQUIRED = os.environ.get("CKPTSCHED_REQUIRE_INTEGRATIONS", "").strip() == "1"

# Known third-party deprecation noise under pytest's filterwarnings=error, by message.
THIRD_PARTY_WARNINGS = (
    r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning",
)


# The test files named test_axolotl_<what>.py (test_axolotl_real.py, ...) train real Axolotl and
# need its own environment (.ci/install-axolotl.sh: Axolotl's pins clash with
# .ci/requirements-integrations.txt; .ci/run runs them there).  Elsewhere they are not collected
# unless named on the command line or CKPTSCHED_REQUIRE_AXOLOTL=1, which makes a missing axolotl
# fail them.  test_axolotl.py (the emulation, no Axolotl needed) is not one of them.
AXOLOTL_ENVIRONMENT_TESTS = "test_axolotl_*.py"
collect_ignore_glob = [] if (importlib.util.find_spec("axolotl")
                             or os.environ.get("CKPTSCHED_REQUIRE_AXOLOTL", "").strip() == "1") \
    else [AXOLOTL_ENVIRONMENT_TESTS]


def need(name: str):
    """Import `name`; skip when missing, or fail when CKPTSCHED_REQUIRE_INTEGRATIONS=1."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if not REQUIRED:
            pytest.skip(f"{name} is not available ({exc}); install the packages of "
                        ".ci/requirements-integrations.txt to run this test")
        pytest.fail(f"{name} is required (CKPTSCHED_REQUIRE_INTEGRATIONS=1) but cannot be "
                    f"imported: {exc}; install .ci/requirements-integrations.txt", pytrace=False)


@pytest.fixture
def torch():
    torch = need("torch")
    torch.set_num_threads(1)  # tiny models: threads only add overhead on a shared machine
    return torch


@pytest.fixture
def transformers(torch):
    need("accelerate")  # the Trainer needs it
    return need("transformers")


@pytest.fixture
def lightning(torch):
    return need("lightning.pytorch")


@pytest.fixture
def yaml():
    return need("yaml")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            for spec in THIRD_PARTY_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if (REQUIRED and report.skipped and not hasattr(report, "wasxfail")
            and HERE in Path(str(item.fspath)).resolve().parents
            and "CKPTSCHED_NO_EXTENSIONS" not in str(report.longrepr)):
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} was skipped, but CKPTSCHED_REQUIRE_INTEGRATIONS=1 "
                           f"forbids skips here: {report.longrepr}")
    return report

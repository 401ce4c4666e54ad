"""The typed public API, checked the way a user meets it: `mypy --strict` over scripts that
import ckptsched.

- every `tests/typing/user_*.py` must pass with no error (they use the public API and pin
  its types with `assert_type`, so an attribute mypy cannot see, or an `Any` where a
  precise type belongs, fails);
- every `tests/typing/misuse_*.py` must fail, and mypy's output for it must contain the
  substring its first line gives as `# expect: <substring>`.

One mypy run checks all the scripts (a fresh cache in a temporary directory), against the
package this pytest imports: the installed one (`python -Im pytest` after `pip install .`)
or the in-tree checkout.  mypy runs in a temporary directory (so the checkout in the
working directory cannot shadow an installed package), finds an installed package through
the interpreter's site-packages and its `py.typed`, and an in-tree one through MYPYPATH.
As for any installed library, errors inside ckptsched itself are not the user's and are not
reported; the test checks from mypy's log which files it analysed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ckptsched

TYPING_DIR = Path(__file__).resolve().parent / "typing"
USER_SCRIPTS = sorted(TYPING_DIR.glob("user_*.py"))
MISUSE_SCRIPTS = sorted(TYPING_DIR.glob("misuse_*.py"))
PACKAGE_DIR = Path(ckptsched.__file__).resolve().parent

# The user's view of an installed library: its own errors are not reported (mypy silences
# errors in site-packages anyway; this does the same for an in-tree package on MYPYPATH).
MYPY_CONFIG = """\
[mypy]
[mypy-ckptsched.*]
ignore_errors = True
"""
# "path:line: error: message" / "path:line: note: message"
MYPY_LINE = re.compile(r"^(?P<path>.+?\.py):\d+(?::\d+)?: (?P<kind>error|note): (?P<text>.*)$")
# mypy -v: which file it read for the package (parsed, or found fresh in the cache)
MYPY_PACKAGE_FILE = re.compile(
    r"(?:Parsing (?P<parsed>\S+) \(ckptsched\)|Metadata fresh for ckptsched: file (?P<cached>\S+))")


def expected_substring(script: Path) -> str:
    first = script.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"#\s*expect:\s*(.+?)\s*", first)
    assert match, f"{script.name}: the first line must be '# expect: <substring of mypy's output>'"
    return match.group(1)


def _found_by_the_interpreter(workdir: Path, env: dict[str, str]) -> bool:
    """Whether this interpreter, started in `workdir` with `env` (as mypy starts it to learn
    its search path), imports the very package this pytest imported."""
    probe = subprocess.run(
        [sys.executable, "-c", "import ckptsched, os; print(os.path.realpath(ckptsched.__file__))"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    return probe.returncode == 0 and Path(probe.stdout.strip()).parent == PACKAGE_DIR


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, list[str]]:
    """mypy's report lines by script (resolved path), from one `mypy --strict` run."""
    pytest.importorskip("mypy", reason="mypy is in requirements-test.txt")
    assert (PACKAGE_DIR / "py.typed").is_file(), f"{PACKAGE_DIR} ships no py.typed marker"
    workdir = tmp_path_factory.mktemp("mypy")
    config = workdir / "mypy.ini"
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYPY")}
    if not _found_by_the_interpreter(workdir, env):
        env["MYPYPATH"] = str(PACKAGE_DIR.parent)  # an in-tree (or otherwise unlisted) package
    scripts = USER_SCRIPTS + MISUSE_SCRIPTS
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--verbose", "--config-file", str(config),
         "--cache-dir", str(workdir / "cache"), "--no-color-output", "--no-error-summary",
         "--show-absolute-path", *map(str, scripts)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode in (0, 1), f"mypy failed to run:\n{result.stdout}\n{result.stderr[-3000:]}"

    analysed = {Path(m.group("parsed") or m.group("cached")).resolve()
                for m in MYPY_PACKAGE_FILE.finditer(result.stderr)}
    assert analysed, "mypy's log does not say where it found ckptsched"
    assert {p.parent for p in analysed} == {PACKAGE_DIR}, (
        f"mypy analysed {sorted(map(str, analysed))}, but pytest imports {PACKAGE_DIR}")

    by_script: dict[Path, list[str]] = {Path(s): [] for s in scripts}
    for line in result.stdout.splitlines():
        match = MYPY_LINE.match(line)
        if match:
            by_script.setdefault(Path(match.group("path")).resolve(), []).append(line)
    stray = {p: lines for p, lines in by_script.items() if p not in set(scripts)}
    assert not stray, f"mypy reported on files other than the scripts: {stray}"
    return by_script


def test_there_are_scripts_to_check() -> None:
    assert any(p.name == "user_core.py" for p in USER_SCRIPTS)
    assert len(MISUSE_SCRIPTS) >= 2
    for script in MISUSE_SCRIPTS:
        expected_substring(script)


@pytest.mark.parametrize("script", USER_SCRIPTS, ids=[p.name for p in USER_SCRIPTS])
def test_user_script_type_checks(mypy_output: dict[Path, list[str]], script: Path) -> None:
    lines = mypy_output[script]
    assert not lines, f"mypy --strict rejects {script.name}:\n" + "\n".join(lines)


@pytest.mark.parametrize("script", MISUSE_SCRIPTS, ids=[p.name for p in MISUSE_SCRIPTS])
def test_misuse_script_is_rejected(mypy_output: dict[Path, list[str]], script: Path) -> None:
    lines = mypy_output[script]
    errors = [line for line in lines if ": error: " in line]
    assert errors, f"mypy --strict accepts {script.name}, which it must reject"
    expected = expected_substring(script)
    assert any(expected in line for line in lines), (
        f"{script.name}: no mypy message contains {expected!r}:\n" + "\n".join(lines))


# The package's own check: its code, not its users'.  The optional frameworks are skipped
# (treated as Any) so that the result is the same whether or not they are installed.
PACKAGE_MYPY_CONFIG = """\
[mypy]
[mypy-transformers.*,lightning.*,pytorch_lightning.*,torch.*,yaml.*,axolotl.*,matplotlib.*]
ignore_missing_imports = True
follow_imports = skip
"""


def test_the_package_itself_type_checks(tmp_path: Path) -> None:
    """mypy over ckptsched's own modules reports no error (the annotations inside the package
    agree with each other: both twins' engines, the CLI, the integrations).  It checks a copy
    of the sources (.py, .pyi), since mypy silences errors of an installed package."""
    pytest.importorskip("mypy", reason="mypy is in requirements-test.txt")
    shutil.copytree(PACKAGE_DIR, tmp_path / "ckptsched",
                    ignore=lambda folder, names: [n for n in names if not (
                        n.endswith((".py", ".pyi", ".typed")) or (Path(folder) / n).is_dir())])
    config = tmp_path / "mypy.ini"
    config.write_text(PACKAGE_MYPY_CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYPY")}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir",
         str(tmp_path / "cache"), "--no-color-output", "-p", "ckptsched"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert "Success" in result.stdout and result.returncode == 0, f"mypy rejects the package:\n{result.stdout}{result.stderr[-2000:]}"

"""Find the Python of the training scripts' container runtime, tools/sagemaker-sklearn/.

SageMaker's scikit-learn 1.2-1 image runs training/*.py on Python 3.9. tools/sagemaker-sklearn/ is a locked copy
of that runtime (scikit-learn 1.2.1, numpy, scipy, boto3) that the tests run the scripts in; `make setup` builds
it with the interpreter this module finds (stdlib only: make runs it with the system Python):

    python3 -m tooling.container_runtime [--python python3.9]   # the interpreter's path; else one line, exit 1

`--python` (make's CONTAINER_PYTHON) is tried first. A pyenv shim on PATH exits without running when its version
is not selected, so the highest installed pyenv 3.9.x is tried next. A candidate counts only when it runs and
reports Python 3.9.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parents[1] / "tools" / "sagemaker-sklearn"
RUNTIME_PYTHON = RUNTIME_DIR / ".venv" / "bin" / "python"  # what `make setup` syncs
VERSION = (3, 9)  # the Python of sagemaker-scikit-learn:1.2-1-cpu-py3
DEFAULT_COMMAND = "python3.9"
_REPORT = "import sys; print(sys.executable); print(*sys.version_info[:2])"


def find_interpreter(
    command: str = DEFAULT_COMMAND, version: tuple[int, int] = VERSION, pyenv_root: Path | None = None
) -> Path | None:
    """The path of a Python `version` interpreter: `command` (a name on PATH or a path) if it runs as that
    version, else the highest `<pyenv_root>/versions/X.Y.N` (default: `pyenv root`, when pyenv is installed);
    None when there is none."""
    candidates = [shutil.which(command) or command]
    root = pyenv_root if pyenv_root is not None else _pyenv_root()
    if root is not None:
        pattern = re.compile(rf"{version[0]}\.{version[1]}\.(\d+)")
        installed = [(int(m.group(1)), d) for d in (root / "versions").glob("*") if (m := pattern.fullmatch(d.name))]
        candidates += [str(d / "bin" / f"python{version[0]}.{version[1]}") for _, d in sorted(installed, reverse=True)]
    for candidate in candidates:
        found = _runs_as(candidate, version)
        if found is not None:
            return found
    return None


def _runs_as(candidate: str, version: tuple[int, int]) -> Path | None:
    try:
        result = subprocess.run([candidate, "-c", _REPORT], capture_output=True, text=True, timeout=60, check=False)
    except OSError:  # not there, not executable
        return None
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 2 or lines[1].split() != [str(part) for part in version]:
        return None
    return Path(lines[0])


def _pyenv_root() -> Path | None:
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    result = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=60, check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def missing_message(command: str = DEFAULT_COMMAND) -> str:
    """The one line `make setup` prints and the tests skip with when there is no Python 3.9."""
    wanted = ".".join(map(str, VERSION))
    return (
        f"{command} (Python {wanted}) not found: tools/sagemaker-sklearn/ (SageMaker's scikit-learn image runtime) "
        f"not synced, tests/training skip their Python {wanted} runs; install Python {wanted} or set CONTAINER_PYTHON"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the path of the container runtime's Python (3.9).")
    parser.add_argument("--python", default=DEFAULT_COMMAND, help="interpreter to try first (default python3.9)")
    args = parser.parse_args(argv)
    found = find_interpreter(args.python)
    if found is None:
        print(f"make setup: note: {missing_message(args.python)}", file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Helpers for the training tests: churn CSVs from sample_data, a separable variant, and running the scripts."""

from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from sample_data import COLUMNS, generate_rows
from tooling import container_runtime

TRAINING_DIR = Path(__file__).resolve().parents[2] / "training"
LABEL = "churned"


def churn_rows(n: int, seed: int = 1) -> list[list[str]]:
    """n clean churn rows as the processor writes them (same header, values as generated)."""
    return [list(row.fields) for row in generate_rows(n, seed=seed)]


def separable_rows(n: int, seed: int = 1) -> list[list[str]]:
    """Churn rows whose label is exactly `support_calls >= 2`: a linear model can rank them perfectly."""
    rows = churn_rows(n, seed)
    calls = COLUMNS.index("support_calls")
    for row in rows:
        row[-1] = "true" if int(row[calls]) >= 2 else "false"
    return rows


def write_csv(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = COLUMNS) -> Path:
    """A CSV with `header`; gzip (deterministic, as the processor writes) when the name ends in .gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = (lambda p: gzip.open(p, "wt", encoding="utf-8", newline="")) if path.name.endswith(".gz") else None
    with opener(path) if opener else path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def files_under(root: Path) -> list[str]:
    """Every file under `root` (relative, sorted), temporary ones included: what a failed run left behind."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def container_python() -> Path:
    """tools/sagemaker-sklearn/.venv/bin/python: the SageMaker scikit-learn image's runtime (Python 3.9).
    Skips the test when no Python 3.9 is installed (make setup then cannot build it); fails when one is but the
    runtime was not synced."""
    if not container_runtime.RUNTIME_PYTHON.exists():
        if container_runtime.find_interpreter() is None:
            pytest.skip(container_runtime.missing_message())
        pytest.fail(f"{container_runtime.RUNTIME_PYTHON} is missing though Python 3.9 is installed: run `make setup`")
    return container_runtime.RUNTIME_PYTHON


RUNTIMES = ("project", "sagemaker-sklearn")  # the project's Python; the container's (tools/sagemaker-sklearn/)


@pytest.fixture
def script_python(request: pytest.FixtureRequest) -> str:
    """The interpreter run_script uses: the project's (default), or with `indirect` parametrization over RUNTIMES
    the container runtime's."""
    runtime = getattr(request, "param", "project")
    assert runtime in RUNTIMES, runtime
    return sys.executable if runtime == "project" else str(container_python())


@pytest.fixture
def run_script(script_python: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """run_script("prepare", *args, env={...}, cwd=..., code=...) runs <code>/<name>.py (default training/) as
    SageMaker does: `python3 <path>` from another directory, without the repo on PYTHONPATH, so only sibling
    imports can work."""

    def run(
        name: str, *args: str, env: dict[str, str] | None = None, cwd: Path, code: Path = TRAINING_DIR
    ) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SM_CHANNEL_TRAIN", "SM_MODEL_DIR")}
        return subprocess.run(
            [script_python, str(code / f"{name}.py"), *args],
            cwd=cwd,
            env={**environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run

"""checkov over every synthesized stack of every environment: zero failed checks."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Synthesized

REPO = Path(__file__).resolve().parents[2]
CHECKOV = REPO / "tools" / "checkov" / ".venv" / "bin" / "checkov"


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_checkov_finds_no_failed_checks(synthesized: Callable[[str], Synthesized], env: str) -> None:
    assert CHECKOV.exists(), "checkov is missing; run `make setup`"
    stacks_dir = synthesized(env).outdir / "stacks"
    result = subprocess.run(
        [str(CHECKOV), "--config-file", str(REPO / ".checkov.yaml"), "-d", str(stacks_dir), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for r in reports for c in r["results"]["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    passed = sum(r["summary"]["passed"] for r in reports)
    assert passed >= 50, f"only {passed} checks ran; checkov did not scan the stacks"

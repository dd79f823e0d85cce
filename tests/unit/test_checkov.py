"""checkov over every synthesized stack of every environment: zero failed checks, every stack scanned."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized

REPO = Path(__file__).resolve().parents[2]
CHECKOV = REPO / "tools" / "checkov" / ".venv" / "bin" / "checkov"


def checkov_reports(directory: Path, tmp_path: Path, framework: str | None = None) -> list[dict[str, Any]]:
    """checkov's JSON reports for `directory`, run with the project's `.checkov.yaml` (its skips) but `quiet` off,
    so the reports also list the passed checks and show what was scanned; `framework` overrides the config's."""
    assert CHECKOV.exists(), "checkov is missing; run `make setup`"
    project_config = (REPO / ".checkov.yaml").read_text()
    assert "\nquiet: true\n" in project_config
    config = tmp_path / "checkov.yaml"
    config.write_text(project_config.replace("\nquiet: true\n", "\nquiet: false\n"))
    command = [str(CHECKOV), "--config-file", str(config), "-d", str(directory), "-o", "json"]
    if framework is not None:
        command[3:3] = ["--framework", framework]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


def failed_checks(reports: list[dict[str, Any]]) -> list[str]:
    """`<check id> <resource> (<file>)` for every failed check."""
    return [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for r in reports for c in r["results"]["failed_checks"]
    ]


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_checkov_finds_no_failed_checks(synthesized: Callable[[str], Synthesized], env: str, tmp_path: Path) -> None:
    stacks_dir = synthesized(env).outdir / "stacks"
    reports = checkov_reports(stacks_dir, tmp_path)
    failed = failed_checks(reports)
    assert failed == [], "\n".join(failed)
    # Every stack of the environment was scanned (a new stack cannot slip past unchecked).
    scanned = {c["file_path"].strip("/").split("/")[0] for r in reports for c in r["results"]["passed_checks"]}
    assert scanned == set(synthesized(env).stacks)


def test_checkov_finds_no_failed_checks_in_the_workflows(tmp_path: Path) -> None:
    """The same config's skips, its framework (terraform_json) overridden on the command line."""
    workflows = REPO / ".github" / "workflows"
    reports = checkov_reports(workflows, tmp_path, framework="github_actions")
    assert [r["check_type"] for r in reports] == ["github_actions"]
    failed = failed_checks(reports)
    assert failed == [], "\n".join(failed)
    scanned = {c["file_path"].strip("/") for r in reports for c in r["results"]["passed_checks"]}
    assert scanned == {path.name for path in workflows.glob("*.yml")}

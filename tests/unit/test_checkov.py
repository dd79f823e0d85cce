"""checkov over every synthesized stack of every environment: zero failed checks, every stack scanned."""

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
def test_checkov_finds_no_failed_checks(synthesized: Callable[[str], Synthesized], env: str, tmp_path: Path) -> None:
    assert CHECKOV.exists(), "checkov is missing; run `make setup`"
    stacks_dir = synthesized(env).outdir / "stacks"
    # The project's config with `quiet` off: the report must list passed checks to show what was scanned.
    project_config = (REPO / ".checkov.yaml").read_text()
    assert "\nquiet: true\n" in project_config
    config = tmp_path / "checkov.yaml"
    config.write_text(project_config.replace("\nquiet: true\n", "\nquiet: false\n"))
    result = subprocess.run(
        [str(CHECKOV), "--config-file", str(config), "-d", str(stacks_dir), "-o", "json"],
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
    # Every stack of the environment was scanned (a new stack cannot slip past unchecked).
    scanned = {c["file_path"].strip("/").split("/")[0] for r in reports for c in r["results"]["passed_checks"]}
    assert scanned == set(synthesized(env).stacks)


def test_checkov_finds_no_failed_checks_in_the_workflows(tmp_path: Path) -> None:
    """The same config's skips, its framework (terraform_json) overridden on the command line."""
    assert CHECKOV.exists(), "checkov is missing; run `make setup`"
    config = tmp_path / "checkov.yaml"
    config.write_text((REPO / ".checkov.yaml").read_text().replace("\nquiet: true\n", "\nquiet: false\n"))
    workflows = REPO / ".github" / "workflows"
    result = subprocess.run(
        [
            str(CHECKOV),
            "--config-file",
            str(config),
            "--framework",
            "github_actions",
            "-d",
            str(workflows),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r["check_type"] for r in reports] == ["github_actions"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for r in reports for c in r["results"]["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    scanned = {c["file_path"].strip("/") for r in reports for c in r["results"]["passed_checks"]}
    assert scanned == {path.name for path in workflows.glob("*.yml")}

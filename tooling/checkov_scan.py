"""checkov over synthesized stacks or workflows, with the project's `.checkov.yaml` (its skips and their reasons).

    scan(directory, framework=None) -> CheckovResult     passed/failed/skipped checks, what was scanned

checkov lives in its own locked environment (tools/checkov/.venv, `make setup`): its pins conflict with the
project's. The project config is `quiet` (only failures print); a scan here turns that off, so the JSON report
also lists the passed checks and therefore which files were scanned. The tests (tests/unit/test_checkov.py),
`make lint` (the workflows) and the plan report (tooling/plan_report.py) all scan through here.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKOV = REPO_ROOT / "tools" / "checkov" / ".venv" / "bin" / "checkov"
CONFIG = REPO_ROOT / ".checkov.yaml"


class CheckovError(RuntimeError):
    """checkov is missing or did not produce a report."""


@dataclass(frozen=True)
class Finding:
    check_id: str
    name: str
    resource: str
    file_path: str

    def line(self) -> str:
        return f"{self.check_id} {self.resource} ({self.file_path.strip('/')}): {self.name}"


@dataclass(frozen=True)
class CheckovResult:
    passed: int
    skipped: int
    failed: tuple[Finding, ...]
    passed_checks: tuple[Finding, ...]
    scanned_files: frozenset[str]  # paths relative to the scanned directory
    frameworks: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        """`412 passed, 0 failed, 9 skipped (.checkov.yaml)`."""
        return f"{self.passed} passed, {len(self.failed)} failed, {self.skipped} skipped (.checkov.yaml)"


def configured_skips(config: Path = CONFIG) -> tuple[str, ...]:
    """The check ids `.checkov.yaml` lists under `skip-check` (each with its reason in a comment above it)."""
    return tuple(re.findall(r"(?m)^\s+- (CKV\w+)\s*$", config.read_text(encoding="utf-8")))


def scan(directory: Path, framework: str | None = None, *, checkov: Path = CHECKOV) -> CheckovResult:
    """Run checkov on `directory` with the project config; `framework` overrides the config's (terraform_json)."""
    if not checkov.exists():
        raise CheckovError(f"checkov is missing at {checkov.relative_to(REPO_ROOT)}: run `make setup`")
    project_config = CONFIG.read_text(encoding="utf-8")
    if "\nquiet: true\n" not in project_config:
        raise CheckovError(".checkov.yaml no longer holds `quiet: true`, which a scan here turns off")
    with tempfile.TemporaryDirectory(prefix="checkov-") as temporary:
        config = Path(temporary) / "checkov.yaml"
        config.write_text(project_config.replace("\nquiet: true\n", "\nquiet: false\n"), encoding="utf-8")
        command = [str(checkov), "--config-file", str(config), "-d", str(directory), "-o", "json"]
        if framework is not None:
            command[3:3] = ["--framework", framework]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
        raise CheckovError(f"checkov gave no JSON report for {directory} (exit {result.returncode}):\n{tail}") from exc
    return _result(document if isinstance(document, list) else [document])


def _result(reports: list[dict[str, Any]]) -> CheckovResult:
    # checkov answers a directory with nothing to scan with a summary and no `results`.
    results = [report["results"] for report in reports if "results" in report]

    def findings(kind: str) -> tuple[Finding, ...]:
        return tuple(
            Finding(check["check_id"], check.get("check_name", ""), check["resource"], check["file_path"])
            for checks in results
            for check in checks[kind]
        )

    passed = findings("passed_checks")
    return CheckovResult(
        passed=len(passed),
        skipped=sum(len(checks["skipped_checks"]) for checks in results),
        failed=findings("failed_checks"),
        passed_checks=passed,
        scanned_files=frozenset(
            check["file_path"].strip("/")
            for checks in results
            for check in (*checks["passed_checks"], *checks["failed_checks"])
        ),
        frameworks=tuple(report["check_type"] for report in reports if "check_type" in report),
    )

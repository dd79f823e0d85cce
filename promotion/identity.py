"""Who promotes, from which run and which commit: GitHub Actions' variables in a workflow, git and the shell
otherwise."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def approver(environ: Mapping[str, str] | None = None) -> str:
    """The workflow's dispatcher (GITHUB_ACTOR), else git's user.email, else $USER."""
    environ = os.environ if environ is None else environ
    if environ.get("GITHUB_ACTOR"):
        return environ["GITHUB_ACTOR"]
    email = _git("config", "user.email")
    return email or environ.get("USER") or "unknown"


def run_url(environ: Mapping[str, str] | None = None) -> str:
    """This workflow run's URL in GitHub Actions, else "local"."""
    environ = os.environ if environ is None else environ
    server, repository, run_id = (
        environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repository and run_id:
        return f"{server}/{repository}/actions/runs/{run_id}"
    return "local"


def git_sha(environ: Mapping[str, str] | None = None) -> str:
    """The commit being run: GITHUB_SHA in a workflow, else `git rev-parse HEAD` (RuntimeError outside a clone)."""
    environ = os.environ if environ is None else environ
    if environ.get("GITHUB_SHA"):
        return environ["GITHUB_SHA"]
    sha = _git("rev-parse", "HEAD")
    if not sha:
        raise RuntimeError(
            "cannot tell which commit is running (`git rev-parse HEAD` failed): promote from a git clone"
        )
    return sha


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git(*args: str) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""

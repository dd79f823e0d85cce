"""`python -m promotion.record_commit`: after the promotion workflow applied a promotion, put its record on main.

    python -m promotion.record_commit --model M --version V [--record platform_config/promotions/prod.json]
                                      [--no-push]

1. Reviewers: the reviewers of the GitHub environment `production` who approved this workflow run
   (GET {GITHUB_API_URL}/repos/{GITHUB_REPOSITORY}/actions/runs/{GITHUB_RUN_ID}/approvals, with GITHUB_TOKEN),
   set as `reviewed_by` on M's newest entry, which must be about version V. None approved refuses: the manual
   approval the workflow relies on is then not configured (README: Promoting a model).
2. Commit and push (unless --no-push): the record file alone, as github-actions[bot], with the model, version,
   reason and run URL in the message, pushed to main. A push rejected because main moved is retried after
   `git pull --rebase`; a record that is already on main is success (re-running does nothing).

The workflow runs it twice: with --no-push before the apply (no reviewer, no apply) and without it after the
verify. `reviewed_by` is audit only: it never reaches Terraform, so setting it after the plan changes nothing
the plan applies.

The token reaches git as an `http.<server>/.extraheader` setting in the environment of each git command
(GIT_CONFIG_COUNT), never in .git/config (checkout keeps `persist-credentials: false`) nor in an argument list
that other processes can read. Exit 0 on success, 1 with one line `record_commit: error: ...` otherwise.
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from promotion import record as records
from promotion.record import Entry, PromotionRecord, RecordError

GITHUB_ENVIRONMENT = "production"  # the workflow's `environment:` whose required reviewers release the apply
BRANCH = "main"
REMOTE = "origin"
PUSH_ATTEMPTS = 4
BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"  # GitHub's id for the Actions bot
DEFAULT_RECORD = Path("platform_config") / "promotions" / "prod.json"
API_TIMEOUT_SECONDS = 30
GIT_TIMEOUT_SECONDS = 120
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
# What git prints when a push is refused because the branch moved on (and only then is a rebase worth trying).
_MOVED_ON = ("[rejected]", "non-fast-forward", "fetch first", "cannot lock ref", "incorrect old value")


class ApprovalsError(RuntimeError):
    """The approvals could not be read, or nobody approved; the message is the one line the user sees."""


class GitError(RuntimeError):
    """A git command failed; the message is one line ending with the line of git's output that says why."""


# -- who approved ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRef:
    """Where this run's approvals are: the API base, `owner/name` and the run id."""

    api_url: str
    repository: str
    run_id: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> RunRef:
        missing = [name for name in ("GITHUB_REPOSITORY", "GITHUB_RUN_ID") if not environ.get(name)]
        if missing:
            raise ApprovalsError(f"{' and '.join(missing)} not set: run this in the promotion workflow")
        return cls(
            environ.get("GITHUB_API_URL") or "https://api.github.com",
            environ["GITHUB_REPOSITORY"],
            environ["GITHUB_RUN_ID"],
        )

    @property
    def approvals_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/repos/{self.repository}/actions/runs/{self.run_id}/approvals"


def fetch_reviewers(
    run: RunRef, token: str, environment: str = GITHUB_ENVIRONMENT, timeout: float = API_TIMEOUT_SECONDS
) -> tuple[str, ...]:
    """The logins that approved `environment` in this run, sorted; ApprovalsError on an API error or none."""
    url = run.approvals_url
    _check_url(url)
    request = urllib.request.Request(
        url,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "promotion-record-commit",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # https (or loopback): _check_url
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise ApprovalsError(f"GET {url}: HTTP {exc.code} {exc.reason}{_api_message(exc)}") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ApprovalsError(f"GET {url}: {reason}") from exc
    try:
        approvals = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ApprovalsError(f"GET {url}: the answer is not JSON ({exc})") from exc
    reviewers = approved_logins(approvals, environment)
    if not reviewers:
        raise ApprovalsError(
            f"no reviewer of the {environment} environment approved run {run.run_id}: give the {environment} "
            "environment required reviewers (README: Promoting a model) before promoting"
        )
    return reviewers


def approved_logins(approvals: Any, environment: str) -> tuple[str, ...]:
    """The logins of the `approved` reviews that name `environment` (the API's review history of a run)."""
    if not isinstance(approvals, list):
        raise ApprovalsError(f"the approvals answer is not a list: {str(approvals)[:200]}")
    logins = set()
    for review in approvals:
        if not isinstance(review, dict) or review.get("state") != "approved":
            continue
        names = {item.get("name") for item in review.get("environments") or () if isinstance(item, dict)}
        login = (review.get("user") or {}).get("login")
        if environment in names and isinstance(login, str) and login:
            logins.add(login)
    return tuple(sorted(logins))


def _check_url(url: str) -> None:
    """The token goes over HTTPS only (plain HTTP to this machine is a test's stub server)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return
    raise ApprovalsError(f"refusing to send the token to {url}: GITHUB_API_URL must be https://")


def _api_message(exc: urllib.error.HTTPError) -> str:
    """`: <message>` from GitHub's JSON error body, if it has one."""
    try:
        message = json.loads(exc.read()).get("message")
    except (OSError, ValueError, AttributeError):
        return ""
    return f": {' '.join(str(message).split())[:200]}" if message else ""


# -- the record -----------------------------------------------------------------------------------------


def with_reviewers(record: PromotionRecord, model: str, version: str, reviewers: Sequence[str]) -> PromotionRecord:
    """`record` with `reviewers` as `reviewed_by` of `model`'s newest entry, which must be about `version`."""
    history = record.history(model)
    if not history:
        raise RecordError(f"{model} has no entry in the {record.environment} record: was the promotion staged?")
    newest = history[-1]
    if newest.version != version:
        raise RecordError(
            f"the newest {model} entry in the {record.environment} record is {newest.action} {newest.version}, "
            f"not {version}"
        )
    models = dict(record.models)
    models[model] = (*history[:-1], replace(newest, reviewed_by=tuple(reviewers)))
    # Read back as a loaded file would be: the record's own checks, reviewed_by's included.
    updated = replace(record, models=models)
    return records.parse(updated.to_json(), record.environment, where=f"{record.environment} record")


def commit_message(environment: str, model: str, entry: Entry) -> str:
    """Subject naming the change, then the reason, reviewers and run (the record's own words)."""
    change = (
        f"promote {model} {entry.version}" if entry.action == "promote" else f"roll {model} back to {entry.version}"
    )
    lines = [f"Promotion record ({environment}): {change}", "", f"Reason: {entry.reason}"]
    if entry.reviewed_by:
        lines.append(f"Reviewed by: {', '.join(entry.reviewed_by)}")
    lines.append(f"Run: {entry.run}")
    return "\n".join(lines) + "\n"


# -- commit and push ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushed:
    committed: bool  # False: the record was already committed (nothing new to record)
    push_attempts: int  # 0: main already had it


def git_environment(token: str | None, server_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """`base` plus the bot's identity, and the token as an extra HTTP header for `server_url` only (the header
    actions/checkout would persist in .git/config, given to each git command instead)."""
    environment = dict(base)
    environment.update(
        GIT_AUTHOR_NAME=BOT_NAME,
        GIT_AUTHOR_EMAIL=BOT_EMAIL,
        GIT_COMMITTER_NAME=BOT_NAME,
        GIT_COMMITTER_EMAIL=BOT_EMAIL,
        GIT_TERMINAL_PROMPT="0",
    )
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        environment.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0=f"http.{server_url.rstrip('/')}/.extraheader",
            GIT_CONFIG_VALUE_0=f"AUTHORIZATION: basic {basic}",
        )
    return environment


def commit_and_push(
    record_file: Path,
    message: str,
    environment: Mapping[str, str],
    *,
    attempts: int = PUSH_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Pushed:
    """Commit `record_file` (alone) and push it to main, rebasing onto main and retrying while a push is
    refused because main moved on; success without a new commit when the record is already committed."""
    git = _Git(record_file.parent, environment)
    path = str(record_file.resolve())
    committed = bool(git.run("status", "--porcelain", "--", path).strip())
    if committed:
        git.run("add", "--", path)
        git.run("commit", "--quiet", "--file", "-", "--", path, stdin=message)
    git.run("fetch", "--quiet", REMOTE, BRANCH)
    if int(git.run("rev-list", "--count", "FETCH_HEAD..HEAD")) == 0:
        return Pushed(committed, 0)
    attempt = 0
    while True:
        attempt += 1
        result = git.attempt("push", REMOTE, f"HEAD:refs/heads/{BRANCH}")
        if result.returncode == 0:
            return Pushed(committed, attempt)
        output = result.stdout + result.stderr
        if not any(marker in output for marker in _MOVED_ON):
            raise GitError(f"git push to {BRANCH} failed: {_why(output)}")
        if attempt >= attempts:
            raise GitError(f"git push to {BRANCH} was still rejected after {attempts} attempts: {_why(output)}")
        sleep(float(attempt))
        rebased = git.attempt("pull", "--rebase", "--quiet", REMOTE, BRANCH)
        if rebased.returncode != 0:
            git.attempt("rebase", "--abort")
            raise GitError(
                f"the record does not rebase onto {BRANCH} (changed there meanwhile?): "
                f"{_why(rebased.stdout + rebased.stderr)}"
            )


class _Git:
    def __init__(self, cwd: Path, environment: Mapping[str, str]) -> None:
        self.cwd = cwd
        self.environment = dict(environment)

    def attempt(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                env=self.environment,
                input=stdin,
                capture_output=True,
                text=True,
                check=False,
                timeout=GIT_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GitError(f"git {args[0]} failed: {exc}") from exc

    def run(self, *args: str, stdin: str | None = None) -> str:
        result = self.attempt(*args, stdin=stdin)
        if result.returncode != 0:
            raise GitError(f"git {args[0]} failed: {_why(result.stdout + result.stderr)}")
        return result.stdout


def _why(output: str) -> str:
    """The line of git's output that says why: GitHub's `remote: error:` lines (a protected branch), else the
    rejected ref, else a fatal/error line, else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    remote = [line.removeprefix("remote:").strip() for line in lines if line.startswith("remote: error:")]
    if remote:
        return " ".join(remote)
    for wanted in (lambda line: "rejected]" in line, lambda line: line.startswith(("fatal:", "error:"))):
        chosen = [line for line in lines if wanted(line)]
        if chosen:
            return chosen[0]
    return lines[-1] if lines else "(no output)"


# -- command line ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m promotion.record_commit", description=__doc__.splitlines()[0])
    root.add_argument("--model", required=True)
    root.add_argument("--version", required=True)
    root.add_argument(
        "--record", type=Path, default=DEFAULT_RECORD, help=f"the environment's record (default {DEFAULT_RECORD})"
    )
    root.add_argument("--no-push", action="store_true", help="set reviewed_by in the record file; commit nothing")
    return root


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    token = environ.get("GITHUB_TOKEN")
    if not token:
        raise ApprovalsError("GITHUB_TOKEN is not set: pass the job's token in the step's env")
    environment_name = args.record.stem  # tracked records are <environment>.json (promotion.record.record_path)
    record = records.load(args.record, environment_name)
    reviewers = fetch_reviewers(RunRef.from_environment(environ), token)
    record = with_reviewers(record, args.model, args.version, reviewers)
    records.save(record, args.record)
    print(f"record_commit: {args.model} {args.version} reviewed by {', '.join(reviewers)}", flush=True)
    if args.no_push:
        return
    entry = record.history(args.model)[-1]
    git_env = git_environment(token, environ.get("GITHUB_SERVER_URL") or "https://github.com", environ)
    pushed = commit_and_push(args.record, commit_message(environment_name, args.model, entry), git_env)
    if pushed.push_attempts:
        print(f"record_commit: pushed {args.record} to {BRANCH} (push attempt {pushed.push_attempts})", flush=True)
    else:
        print(f"record_commit: {BRANCH} already has {args.record}; nothing to push", flush=True)


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args, os.environ if environ is None else environ)
    except (ApprovalsError, GitError, RecordError) as exc:
        print(f"record_commit: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

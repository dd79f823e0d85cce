"""`python -m tooling.drift_issue`: keep ONE GitHub issue per environment that says whether its infrastructure
drifted from the code.

    python -m tooling.drift_issue --environment ENV --status drift|clean|error [--report-file FILE] [--run-url URL]
    python -m tooling.drift_issue --environment ENV --plan-report plan-report-ENV.json [--run-url URL]

`--plan-report` takes what `python -m tooling.plan_report plan` saved and derives both: error when a stack failed
to plan (or the file is missing: the job stopped before planning), drift when a plan has changes, else clean; the
issue holds the rendered report.

drift   open the environment's issue, or update the open one, with the report (title "Infrastructure drift in ENV").
error   the same, titled as a failed check: a plan that fails hides any drift, so it needs a person as well.
clean   close the open issue with a comment saying when and by which run it was found clean; none open: nothing.

The issue is found again by its label `drift` and the hidden line `<!-- ml-platform:drift:ENV -->`
(tooling.github_api); a closed issue stays closed, the next drift opens a new one. `--report-file` (Markdown)
is needed for drift and error. `--run-url` defaults to $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/
$GITHUB_RUN_ID. Needs GITHUB_TOKEN and GITHUB_REPOSITORY (GITHUB_API_URL optional) and the job permission
`issues: write`. Prints one line: what it did and the issue's URL.
Exit 0 on success, 1 on an API error, 2 on bad arguments or environment (message on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from platform_config import ENVIRONMENTS
from tooling.github_api import GitHubClient, GitHubUsageError, IssueResult, read_body, run_command

PROG = "drift_issue"
LABEL = "drift"
STATUSES = ("drift", "clean", "error")
DONE = {"created": "opened issue #{}", "updated": "updated issue #{}", "unchanged": "left issue #{} unchanged"}


def marker(environment: str) -> str:
    """The hidden marker of `environment`'s issue."""
    return f"ml-platform:drift:{environment}"


def issue_title(environment: str, status: str) -> str:
    """drift: "Infrastructure drift in ENV"; error: says that the check's plan failed."""
    if status == "error":
        return f"Infrastructure drift check failed in {environment}: the plan failed"
    return f"Infrastructure drift in {environment}"


def found_by(checked_at: datetime, run_url: str | None) -> str:
    """`the drift check of <UTC time> (<run link>)`: when and where, for the issue and the closing comment."""
    when = f"the drift check of {checked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"{when} ([run]({run_url}))" if run_url else when


def issue_body(environment: str, status: str, report: str, checked_at: datetime, run_url: str | None) -> str:
    """What the issue says above the report: what was found, and what to do."""
    by = found_by(checked_at, run_url)
    if status == "error":
        lead = (
            f"**The drift check of `{environment}` failed**: {by} could not plan, so drift cannot be ruled out "
            "(a broken plan hides drift). Fix what the report below shows; the next clean check closes this issue."
        )
    else:
        lead = (
            f"**`{environment}` differs from the code**: {by} planned changes. Either apply the code, or bring the "
            "change made outside it into the code. The next clean check closes this issue."
        )
    return f"{lead}\n\n{report.rstrip()}\n"


def closing_comment(environment: str, checked_at: datetime, run_url: str | None) -> str:
    """The comment left when the environment is clean again."""
    return f"`{environment}` matches the code again: {found_by(checked_at, run_url)} planned no changes. Closing."


def default_run_url(environ: Mapping[str, str]) -> str | None:
    """This workflow run's page, from the variables Actions sets; None outside Actions."""
    parts = [environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repository, run_id = parts
    return f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"


def summary(environment: str, status: str, result: IssueResult | None) -> str:
    """The one line printed on success."""
    if result is None:
        return f"{PROG}: {environment} is clean and no drift issue is open: nothing to do"
    if result.action == "closed":
        line = f"{PROG}: {environment} is clean: closed issue #{result.number}: {result.html_url}"
        return line + (f" (and {', '.join(result.duplicate_urls)})" if result.duplicate_urls else "")
    line = f"{PROG}: {DONE[result.action].format(result.number)} ({environment}: {status}): {result.html_url}"
    if result.duplicate_urls:
        line += f" (other open issues with the same marker left open: {', '.join(result.duplicate_urls)})"
    return line


def from_plan_report(environment: str, path: Path) -> tuple[str, str]:
    """(status, Markdown report) of a saved plan report; a missing file is an error status, not a usage error:
    the drift job stopped before it could plan, which needs a person as much as drift does."""
    from tooling import plan_markdown
    from tooling.plan_report import EnvironmentReport

    if not path.exists():
        report = EnvironmentReport(
            environment, (), error=f"no plan report ({path.name}): the drift job stopped before planning; see its log"
        )
    else:
        try:
            report = EnvironmentReport.from_json(path.read_text(encoding="utf-8"), str(path))
        except ValueError as exc:
            raise GitHubUsageError(str(exc)) from exc
    if report.environment != environment:
        raise GitHubUsageError(f"{path} is the plan report of {report.environment!r}, not {environment!r}")
    status = "error" if report.failed else ("drift" if report.has_changes else "clean")
    return status, plan_markdown.render([report], title="Drift check", context="")


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog=f"python -m tooling.{PROG}", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", required=True, choices=ENVIRONMENTS)
    parser.add_argument("--status", choices=STATUSES)
    parser.add_argument("--report-file", type=Path, help="the Markdown drift report (needed for drift and error)")
    parser.add_argument("--plan-report", type=Path, help="a plan_report JSON: gives both status and report")
    parser.add_argument("--run-url", help="the run that checked (default: this workflow run's page)")
    args = parser.parse_args(argv)
    if (args.status is None) == (args.plan_report is None):
        parser.error("give either --status (with --report-file) or --plan-report")
    if args.status not in (None, "clean") and args.report_file is None:
        parser.error(f"--status {args.status} needs --report-file")
    run_url = args.run_url or default_run_url(environ)
    checked_at = now()

    def keep_issue() -> str:
        if args.plan_report is not None:
            status, report = from_plan_report(args.environment, args.plan_report)
        else:
            status, report = args.status, None
        client = GitHubClient.from_environment(environ)
        if status == "clean":
            comment = closing_comment(args.environment, checked_at, run_url)
            result = client.close_issue_if_open(marker(args.environment), LABEL, comment)
        else:
            text = report if report is not None else read_body(args.report_file)
            body = issue_body(args.environment, status, text, checked_at, run_url)
            title = issue_title(args.environment, status)
            result = client.upsert_issue(marker(args.environment), title, body, (LABEL,))
        for warning in result.warnings if result else ():
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
        return summary(args.environment, status, result)

    return run_command(PROG, keep_issue)


if __name__ == "__main__":
    sys.exit(main())

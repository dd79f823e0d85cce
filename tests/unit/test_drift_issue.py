"""`python -m tooling.drift_issue` against the stub GitHub (tests/github_stub.py): one issue per environment,
opened on drift, updated (and retitled on a failed plan) while it lasts, closed with a comment when clean."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.github_stub import BOT, REPOSITORY, TOKEN, GitHubStub
from tooling import drift_issue
from tooling.plan_report import EnvironmentReport, ResourceChange, StackReport

RUN_URL = f"https://github.com/{REPOSITORY}/actions/runs/4242"
CHECKED_AT = datetime(2026, 3, 2, 6, 5, tzinfo=UTC)


@pytest.fixture
def environ(github: GitHubStub) -> dict[str, str]:
    return {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
    }


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "drift.md"
    path.write_text("## prod\n\n~ aws_s3_bucket.models: versioning changed\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], environ: dict[str, str], *argv: str) -> tuple[int, str, str]:
    try:
        code = drift_issue.main(list(argv), environ, now=lambda: CHECKED_AT)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def only_issue(github: GitHubStub) -> dict:
    (issue,) = github.issues.values()
    return issue


def test_drift_opens_the_environments_issue_with_the_report_and_the_run(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, environ, "--environment", "prod", "--status", "drift", "--report-file", str(report))
    issue = only_issue(github)
    assert (code, err) == (0, "")
    assert out == f"drift_issue: opened issue #1 (prod: drift): {issue['html_url']}\n"
    assert issue["title"] == "Infrastructure drift in prod"
    assert [label["name"] for label in issue["labels"]] == ["drift"]
    assert issue["body"] == (
        "<!-- ml-platform:drift:prod -->\n"
        f"**`prod` differs from the code**: the drift check of 2026-03-02 06:05 UTC ([run]({RUN_URL})) planned "
        "changes. Either apply the code, or bring the change made outside it into the code. The next clean check "
        "closes this issue.\n\n## prod\n\n~ aws_s3_bucket.models: versioning changed\n"
    )


def test_the_next_runs_update_the_same_issue_and_a_failed_plan_retitles_it(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, environ, "--environment", "prod", "--status", "drift", "--report-file", str(report))
    report.write_text("terraform plan: Error: no valid credential sources\n", encoding="utf-8")
    other_run = "https://github.com/example-org/ml-platform/actions/runs/4343"
    code, out, _ = run(
        capsys,
        environ,
        *("--environment", "prod", "--status", "error", "--report-file", str(report), "--run-url", other_run),
    )
    issue = only_issue(github)
    assert (code, out) == (0, f"drift_issue: updated issue #1 (prod: error): {issue['html_url']}\n")
    assert issue["title"] == "Infrastructure drift check failed in prod: the plan failed"
    assert "could not plan, so drift cannot be ruled out (a broken plan hides drift)" in issue["body"]
    assert other_run in issue["body"] and issue["body"].endswith("no valid credential sources\n")


def test_each_environment_has_its_own_issue_and_pull_requests_are_skipped(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.add_issue("PR", "<!-- ml-platform:drift:dev -->\n", ("drift",), pull_request=True, user=BOT)
    for environment in ("dev", "prod", "dev"):
        run(capsys, environ, "--environment", environment, "--status", "drift", "--report-file", str(report))
    titles = sorted(issue["title"] for issue in github.issues.values() if "pull_request" not in issue)
    assert titles == ["Infrastructure drift in dev", "Infrastructure drift in prod"]


def test_clean_closes_the_open_issue_with_a_comment_saying_when_and_which_run(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, environ, "--environment", "prod", "--status", "drift", "--report-file", str(report))
    code, out, _ = run(capsys, environ, "--environment", "prod", "--status", "clean")
    issue = only_issue(github)
    assert (code, out) == (0, f"drift_issue: prod is clean: closed issue #1: {issue['html_url']}\n")
    assert issue["state"] == "closed"
    assert [comment["body"] for comment in github.comments[1]] == [
        f"`prod` matches the code again: the drift check of 2026-03-02 06:05 UTC ([run]({RUN_URL})) planned no "
        "changes. Closing."
    ]


def test_clean_without_an_open_issue_does_nothing_and_says_so(
    github: GitHubStub, environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, environ, "--environment", "dev", "--status", "clean")
    assert (code, out) == (0, "drift_issue: dev is clean and no drift issue is open: nothing to do\n")
    assert not github.called("POST") and not github.called("PATCH")


def test_drift_after_a_closed_issue_opens_a_new_one(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, environ, "--environment", "prod", "--status", "drift", "--report-file", str(report))
    run(capsys, environ, "--environment", "prod", "--status", "clean")
    code, out, _ = run(capsys, environ, "--environment", "prod", "--status", "drift", "--report-file", str(report))
    assert (code, out) == (0, f"drift_issue: opened issue #2 (prod: drift): {github.issues[2]['html_url']}\n")
    assert github.issues[1]["state"] == "closed"


def test_without_actions_variables_the_body_has_no_run_link(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del environ["GITHUB_RUN_ID"]
    run(capsys, environ, "--environment", "prod", "--status", "drift", "--report-file", str(report))
    assert "the drift check of 2026-03-02 06:05 UTC planned changes" in only_issue(github)["body"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--environment", "prod", "--status", "drift"), "--status drift needs --report-file"),
        (("--environment", "prod"), "give either --status (with --report-file) or --plan-report"),
        (("--environment", "staging", "--status", "clean"), "invalid choice: 'staging'"),
        (("--environment", "prod", "--status", "drifted"), "invalid choice: 'drifted'"),
    ],
)
def test_bad_arguments_exit_2(
    github: GitHubStub,
    environ: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    message: str,
) -> None:
    code, out, err = run(capsys, environ, *argv)
    assert (code, out) == (2, "")
    assert message in err
    assert github.calls == []


def test_an_api_error_exits_1_without_the_token(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.fail_next("POST", f"/repos/{REPOSITORY}/issues", 403, {"message": "Resource not accessible by integration"})
    code, out, err = run(capsys, environ, "--environment", "prod", "--status", "drift", "--report-file", str(report))
    assert (code, out) == (1, "")
    assert err.startswith(
        f"drift_issue: error: POST /repos/{REPOSITORY}/issues: HTTP 403: Resource not accessible by integration. "
    )
    assert "`issues: write`" in err and TOKEN not in err


def plan_report(tmp_path: Path, environment: str, **stack: object) -> Path:
    """A saved `python -m tooling.plan_report plan` report with one stack."""
    report = EnvironmentReport(environment, (StackReport(f"{environment}-artifact-store", **stack),))  # type: ignore[arg-type]
    path = tmp_path / f"plan-report-{environment}.json"
    path.write_text(report.to_json(), encoding="utf-8")
    return path


def test_a_plan_report_with_changes_opens_the_issue_with_the_rendered_report(
    github: GitHubStub, environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = (ResourceChange("aws_s3_bucket_versioning.models", "aws_s3_bucket_versioning", "update"),)
    path = plan_report(tmp_path, "prod", status="planned", changes=changed)
    code, out, _ = run(capsys, environ, "--environment", "prod", "--plan-report", str(path))
    issue = only_issue(github)
    assert (code, out) == (0, f"drift_issue: opened issue #1 (prod: drift): {issue['html_url']}\n")
    assert "## Drift check: `prod`" in issue["body"]
    assert "| `prod-artifact-store` | 0 | 1 | 0 | 0 | changes |" in issue["body"]
    assert "~ aws_s3_bucket_versioning.models (update in place)" in issue["body"]


def test_a_clean_plan_report_closes_and_a_failed_or_missing_one_is_an_error(
    github: GitHubStub, environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = plan_report(tmp_path, "dev", status="error", error="Error: AccessDenied: s3:GetBucketPolicy")
    code, _, _ = run(capsys, environ, "--environment", "dev", "--plan-report", str(failed))
    assert (code, only_issue(github)["title"]) == (0, "Infrastructure drift check failed in dev: the plan failed")
    assert "Error: AccessDenied: s3:GetBucketPolicy" in only_issue(github)["body"]
    code, _, _ = run(capsys, environ, "--environment", "dev", "--plan-report", str(tmp_path / "missing.json"))
    assert (
        code == 0
        and "no plan report (missing.json): the drift job stopped before planning" in only_issue(github)["body"]
    )
    clean = plan_report(tmp_path, "dev", status="planned")
    code, _, _ = run(capsys, environ, "--environment", "dev", "--plan-report", str(clean))
    assert (code, only_issue(github)["state"]) == (0, "closed")


def test_a_plan_report_of_another_environment_is_refused(
    github: GitHubStub, environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, environ, "--environment", "prod", "--plan-report", str(plan_report(tmp_path, "dev", status="planned"))
    )
    assert (code, out) == (2, "")
    assert "is the plan report of 'dev', not 'prod'" in err
    assert github.calls == []

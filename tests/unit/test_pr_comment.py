"""`python -m tooling.pr_comment` against the stub GitHub (tests/github_stub.py): its one output line, the PR number
from --pr or PR_NUMBER, and its exit codes (0 done, 1 API error, 2 bad arguments or environment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.github_stub import REPOSITORY, TOKEN, GitHubStub
from tooling import pr_comment
from tooling.code_layout import REPO_ROOT


@pytest.fixture
def github(github: GitHubStub) -> GitHubStub:
    """The stub GitHub (tests/unit/conftest.py) with one pull request to comment on."""
    github.add_issue("Add the drift check", pull_request=True)
    return github


@pytest.fixture
def environ(github: GitHubStub) -> dict[str, str]:
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github.url}


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "plan.md"
    path.write_text("## Plan\n\ndev: no changes\n", encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], environ: dict[str, str], *argv: str) -> tuple[int, str, str]:
    try:
        code = pr_comment.main(list(argv), environ)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_it_creates_then_updates_the_comment_and_prints_one_line(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created = run(capsys, environ, "--pr", "1", "--marker", "ml-platform:plan", "--body-file", str(report))
    report.write_text("## Plan\n\ndev: 1 to add\n", encoding="utf-8")
    updated = run(capsys, {**environ, "PR_NUMBER": "1"}, "--marker", "ml-platform:plan", "--body-file", str(report))
    unchanged = run(capsys, environ, "--pr", "1", "--marker", "ml-platform:plan", "--body-file", str(report))

    (comment,) = github.comments[1]
    url = comment["html_url"]
    assert created == (0, f"pr_comment: created the comment on #1: {url}\n", "")
    assert updated == (0, f"pr_comment: updated the comment on #1: {url}\n", "")
    assert unchanged == (0, f"pr_comment: left the comment unchanged on #1: {url}\n", "")
    assert comment["body"] == "<!-- ml-platform:plan -->\n## Plan\n\ndev: 1 to add\n"


@pytest.mark.parametrize(
    ("argv", "extra_environ", "message"),
    [
        ((), {}, "no pull request: pass --pr NUMBER or set PR_NUMBER"),
        ((), {"PR_NUMBER": ""}, "no pull request: pass --pr NUMBER or set PR_NUMBER"),
        (("--pr", "12a"), {}, "--pr must be a pull request number, got '12a'"),
        ((), {"PR_NUMBER": "-3"}, "PR_NUMBER must be a pull request number, got '-3'"),
    ],
)
def test_a_missing_or_bad_pull_request_number_exits_2(
    environ: dict[str, str],
    report: Path,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    extra_environ: dict[str, str],
    message: str,
) -> None:
    code, out, err = run(capsys, {**environ, **extra_environ}, *argv, "--marker", "m", "--body-file", str(report))
    assert (code, out) == (2, "")
    assert message in err


def test_an_unreadable_body_file_exits_2_naming_it(
    github: GitHubStub, environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.md"
    code, out, err = run(capsys, environ, "--pr", "1", "--marker", "m", "--body-file", str(missing))
    assert (code, out) == (2, "")
    assert err == f"pr_comment: error: cannot read the report {str(missing)!r}: No such file or directory\n"
    assert github.calls == []


def test_a_missing_token_exits_2_naming_the_variable(
    environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del environ["GITHUB_TOKEN"]
    code, _, err = run(capsys, environ, "--pr", "1", "--marker", "m", "--body-file", str(report))
    assert code == 2
    assert err.startswith("pr_comment: error: GITHUB_TOKEN not set")


def test_a_refused_request_exits_1_with_the_hint_and_without_the_token(
    github: GitHubStub, environ: dict[str, str], report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.fail_next("POST", f"/repos/{REPOSITORY}/issues/1/comments", 403, {"message": "Resource not accessible"})
    code, out, err = run(capsys, environ, "--pr", "1", "--marker", "m", "--body-file", str(report))
    assert (code, out) == (1, "")
    assert err.startswith(
        f"pr_comment: error: POST /repos/{REPOSITORY}/issues/1/comments: HTTP 403: Resource not accessible. "
        "the token may not do this: the job's `permissions:` must grant `pull-requests: write`"
    )
    assert TOKEN not in err


def test_it_runs_as_a_module(github: GitHubStub, environ: dict[str, str], report: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "tooling.pr_comment", "--marker", "ml-platform:plan", "--body-file", str(report)],
        env={**environ, "PR_NUMBER": "1", "PATH": "/usr/bin:/bin"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (finished.returncode, finished.stderr) == (0, "")
    assert finished.stdout == f"pr_comment: created the comment on #1: {github.comments[1][0]['html_url']}\n"

"""promotion.record_commit: the approvals client against a stub GitHub API on 127.0.0.1, and the commit and push
against a bare repository in tmp_path (a shallow clone like actions/checkout's, main moving on meanwhile)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from promotion import record as records
from promotion import record_commit
from promotion.record import Entry, PromotionRecord, Quality, RecordError
from promotion.record_commit import ApprovalsError, GitError, RunRef
from tests.local_http import QuietHandler, serving

RUN_URL = "https://github.com/example-org/ml-platform/actions/runs/4242"


def entry(version: str, reason: str = "better AUC on the March data") -> Entry:
    return Entry(
        action="promote",
        version=version,
        sha256="a" * 64,
        bytes=1234,
        etag='"0123456789abcdef0123456789abcdef"',
        manifest_sha256="b" * 64,
        training_data_uri="s3://mlp-prod-processed/processed/churn/",
        quality=Quality(metric="auc", value=0.81, threshold=0.75),
        approved_by="alice",
        approved_at="2026-11-29T22:30:00Z",
        reason=reason,
        run=RUN_URL,
        git_sha="c" * 40,
    )


def prod_record(*versions: str) -> PromotionRecord:
    record = PromotionRecord("prod")
    for version in versions:
        record = record.with_entry("churn", entry(version))
    return record


# -- a stub of the GitHub API --------------------------------------------------------------------------


@dataclass
class StubApi:
    """Answers GET <path> with `routes[path]` = (status, JSON body); remembers each request's headers (lowercase)."""

    url: str
    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def api() -> Iterator[StubApi]:
    stub = StubApi(url="")

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            stub.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            status, body = stub.routes.get(self.path, (404, {"message": "Not Found"}))
            payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    with serving(Handler) as url:
        stub.url = url
        yield stub


APPROVALS_PATH = "/repos/example-org/ml-platform/actions/runs/4242/approvals"


def review(login: str, state: str = "approved", environment: str = "production") -> dict[str, Any]:
    return {
        "state": state,
        "comment": "looks right",
        "environments": [{"id": 1, "name": environment}],
        "user": {"login": login, "type": "User"},
    }


def run_ref(api: StubApi) -> RunRef:
    return RunRef(api.url, "example-org/ml-platform", "4242")


def test_reviewers_are_the_sorted_logins_that_approved_the_production_environment(api: StubApi) -> None:
    api.routes[APPROVALS_PATH] = (
        200,
        [
            review("carol"),
            review("bob"),
            review("carol"),  # a re-run asks again: one login once
            review("mallory", state="rejected"),
            review("dave", environment="staging"),
        ],
    )
    assert record_commit.fetch_reviewers(run_ref(api), "t0ken") == ("bob", "carol")
    (request,) = api.requests
    assert request["authorization"] == "Bearer t0ken"
    assert request["accept"] == "application/vnd.github+json"
    assert request["x-github-api-version"] == "2022-11-28"


def test_an_api_error_is_one_line_with_the_status_and_github_message(api: StubApi) -> None:
    api.routes[APPROVALS_PATH] = (403, {"message": "Resource not accessible\nby integration"})
    with pytest.raises(ApprovalsError) as raised:
        record_commit.fetch_reviewers(run_ref(api), "t0ken")
    message = str(raised.value)
    assert message == f"GET {api.url}{APPROVALS_PATH}: HTTP 403 Forbidden: Resource not accessible by integration"


def test_an_answer_that_is_not_json_is_an_error(api: StubApi) -> None:
    api.routes[APPROVALS_PATH] = (200, "<html>maintenance</html>")
    with pytest.raises(ApprovalsError, match="the answer is not JSON"):
        record_commit.fetch_reviewers(run_ref(api), "t0ken")


def test_no_approval_refuses_because_the_environment_has_no_required_reviewers(api: StubApi) -> None:
    api.routes[APPROVALS_PATH] = (200, [review("dave", environment="staging")])
    with pytest.raises(ApprovalsError, match="no reviewer of the production environment approved run 4242"):
        record_commit.fetch_reviewers(run_ref(api), "t0ken")


def test_an_unreachable_api_is_one_line() -> None:
    with pytest.raises(ApprovalsError, match=r"^GET http://127\.0\.0\.1:9/repos/.*/approvals: "):
        record_commit.fetch_reviewers(RunRef("http://127.0.0.1:9", "o/r", "1"), "t0ken", timeout=5)


def test_the_token_is_never_sent_over_plain_http_to_another_host() -> None:
    with pytest.raises(ApprovalsError, match=r"refusing to send the token to http://api\.example\.com/"):
        record_commit.fetch_reviewers(RunRef("http://api.example.com", "o/r", "1"), "t0ken")


def test_run_ref_needs_the_workflow_variables_and_defaults_the_api_url() -> None:
    with pytest.raises(ApprovalsError, match="GITHUB_REPOSITORY and GITHUB_RUN_ID not set"):
        RunRef.from_environment({})
    ref = RunRef.from_environment({"GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7"})
    assert ref.approvals_url == "https://api.github.com/repos/o/r/actions/runs/7/approvals"


# -- the record ----------------------------------------------------------------------------------------


def test_reviewers_go_on_the_newest_entry_only() -> None:
    updated = record_commit.with_reviewers(prod_record("1.0.0", "1.1.0"), "churn", "1.1.0", ("bob", "carol"))
    first, newest = updated.history("churn")
    assert first.reviewed_by == ()
    assert newest.reviewed_by == ("bob", "carol")
    assert records.parse(json.loads(updated.dumps()), "prod", where="x").history("churn") == (first, newest)


def test_reviewers_for_another_version_than_the_newest_entry_are_refused() -> None:
    with pytest.raises(RecordError, match=r"newest churn entry in the prod record is promote 1\.1\.0, not 1\.0\.0"):
        record_commit.with_reviewers(prod_record("1.0.0", "1.1.0"), "churn", "1.0.0", ("bob",))
    with pytest.raises(RecordError, match="iris has no entry in the prod record"):
        record_commit.with_reviewers(prod_record("1.0.0"), "iris", "1.0.0", ("bob",))


def test_a_reviewer_login_the_record_cannot_hold_is_refused() -> None:
    with pytest.raises(RecordError, match="reviewed_by must be a list of logins"):
        record_commit.with_reviewers(prod_record("1.0.0"), "churn", "1.0.0", ("bob;rm -rf",))


def test_the_commit_message_names_model_version_reason_reviewers_and_run() -> None:
    newest = record_commit.with_reviewers(prod_record("1.0.0"), "churn", "1.0.0", ("bob",)).history("churn")[-1]
    assert record_commit.commit_message("prod", "churn", newest) == (
        "Promotion record (prod): promote churn 1.0.0\n\n"
        "Reason: better AUC on the March data\n"
        "Reviewed by: bob\n"
        f"Run: {RUN_URL}\n"
    )


def test_the_token_reaches_git_as_an_extra_header_for_the_server_only() -> None:
    environment = record_commit.git_environment("t0ken", "https://github.com/", {"PATH": "/bin"})
    assert environment["GIT_CONFIG_COUNT"] == "1"
    assert environment["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraheader"
    # base64("x-access-token:t0ken"), as actions/checkout writes it
    assert environment["GIT_CONFIG_VALUE_0"] == "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46dDBrZW4="
    assert environment["GIT_COMMITTER_NAME"] == environment["GIT_AUTHOR_NAME"] == "github-actions[bot]"
    assert environment["PATH"] == "/bin"
    assert "GIT_CONFIG_COUNT" not in record_commit.git_environment(None, "https://github.com", {})


# -- commit and push against a bare repository ---------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@dataclass(frozen=True)
class Repos:
    remote: Path  # the bare repository: GitHub
    runner: Path  # the workflow's shallow clone of main
    colleague: Path  # someone else's clone, pushing to main meanwhile

    @property
    def record(self) -> Path:
        return self.runner / "platform_config" / "promotions" / "prod.json"


PERSON = ("-c", "user.name=Alice", "-c", "user.email=alice@example.com")


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "--quiet", str(remote), str(seed))
    records.save(prod_record("1.0.0"), seed / "platform_config" / "promotions" / "prod.json")
    (seed / "README.md").write_text("ml platform\n")
    git(seed, "add", ".")
    git(seed, *PERSON, "commit", "--quiet", "-m", "start")
    git(seed, "push", "--quiet", "origin", "HEAD:main")
    runner, colleague = tmp_path / "runner", tmp_path / "colleague"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--branch", "main", remote.as_uri(), str(runner))
    git(tmp_path, "clone", "--quiet", str(remote), str(colleague))
    return Repos(remote, runner, colleague)


def colleague_pushes(repos: Repos, path: str, text: str) -> None:
    target = repos.colleague / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repos.colleague, "add", path)
    git(repos.colleague, *PERSON, "commit", "--quiet", "-m", f"change {path}")
    git(repos.colleague, "push", "--quiet", "origin", "HEAD:main")


def stage_promotion(repos: Repos) -> str:
    """The record as the workflow has it after the apply: 1.1.0 promoted and reviewed; the commit message."""
    record = record_commit.with_reviewers(prod_record("1.0.0", "1.1.0"), "churn", "1.1.0", ("bob",))
    records.save(record, repos.record)
    return record_commit.commit_message("prod", "churn", record.history("churn")[-1])


def bot_environment() -> dict[str, str]:
    return record_commit.git_environment(None, "https://github.com", os.environ)


def test_a_push_rejected_because_main_moved_is_rebased_and_retried(repos: Repos) -> None:
    message = stage_promotion(repos)
    colleague_pushes(repos, "docs/notes.md", "meanwhile on main\n")
    waits: list[float] = []

    pushed = record_commit.commit_and_push(repos.record, message, bot_environment(), sleep=waits.append)

    assert pushed == record_commit.Pushed(committed=True, push_attempts=2)
    assert waits == [1.0]
    log = git(repos.remote, "log", "--format=%an <%ae>|%s", "main").splitlines()
    assert log[0] == "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|" + (
        "Promotion record (prod): promote churn 1.1.0"
    )
    assert [line.split("|")[1] for line in log[1:]] == ["change docs/notes.md", "start"]
    body = git(repos.remote, "log", "-1", "--format=%B", "main")
    assert "Reason: better AUC on the March data" in body
    assert f"Run: {RUN_URL}" in body
    on_main = json.loads(git(repos.remote, "show", "main:platform_config/promotions/prod.json"))
    assert on_main["models"]["churn"][-1]["reviewed_by"] == ["bob"]
    assert git(repos.remote, "show", "--name-only", "--format=", "main") == "platform_config/promotions/prod.json"


def test_running_again_commits_and_pushes_nothing(repos: Repos) -> None:
    message = stage_promotion(repos)
    first = record_commit.commit_and_push(repos.record, message, bot_environment(), sleep=lambda _: None)
    head = git(repos.remote, "rev-parse", "main")

    again = record_commit.commit_and_push(repos.record, message, bot_environment(), sleep=lambda _: None)

    assert first == record_commit.Pushed(committed=True, push_attempts=1)
    assert again == record_commit.Pushed(committed=False, push_attempts=0)
    assert git(repos.remote, "rev-parse", "main") == head


def test_a_record_changed_on_main_meanwhile_fails_in_one_line_and_leaves_no_rebase(repos: Repos) -> None:
    message = stage_promotion(repos)
    colleague_pushes(repos, "platform_config/promotions/prod.json", prod_record("1.0.0", "1.0.1").dumps())

    with pytest.raises(GitError, match=r"^the record does not rebase onto main \(changed there meanwhile\?\): ") as e:
        record_commit.commit_and_push(repos.record, message, bot_environment(), sleep=lambda _: None)

    assert "\n" not in str(e.value)
    assert not (repos.runner / ".git" / "rebase-merge").exists()
    assert not (repos.runner / ".git" / "rebase-apply").exists()


def test_a_push_refused_for_another_reason_fails_at_once_with_the_server_s_words(repos: Repos) -> None:
    hook = repos.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'error: GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n")
    hook.chmod(0o755)
    message = stage_promotion(repos)
    waits: list[float] = []

    with pytest.raises(GitError) as raised:
        record_commit.commit_and_push(repos.record, message, bot_environment(), sleep=waits.append)

    assert (
        str(raised.value)
        == "git push to main failed: error: GH006: Protected branch update failed for refs/heads/main."
    )
    assert waits == []


# -- the command line ----------------------------------------------------------------------------------


def workflow_environ(api: StubApi, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_API_URL": api.url,
        "GITHUB_REPOSITORY": "example-org/ml-platform",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_TOKEN": "t0ken",
        **extra,
    }


def test_no_push_writes_the_reviewers_into_the_record_file(api: StubApi, tmp_path: Path) -> None:
    api.routes[APPROVALS_PATH] = (200, [review("bob")])
    path = tmp_path / "prod.json"
    records.save(prod_record("1.0.0"), path)

    code = record_commit.main(
        ["--model", "churn", "--version", "1.0.0", "--record", str(path), "--no-push"], workflow_environ(api)
    )

    assert code == 0
    assert records.load(path, "prod").history("churn")[-1].reviewed_by == ("bob",)


def test_the_command_records_and_pushes(api: StubApi, repos: Repos) -> None:
    api.routes[APPROVALS_PATH] = (200, [review("bob")])
    records.save(prod_record("1.0.0", "1.1.0"), repos.record)

    code = record_commit.main(
        ["--model", "churn", "--version", "1.1.0", "--record", str(repos.record)],
        workflow_environ(api, PATH=os.environ["PATH"], HOME=str(repos.runner.parent)),
    )

    assert code == 0
    on_main = json.loads(git(repos.remote, "show", "main:platform_config/promotions/prod.json"))
    assert [item["version"] for item in on_main["models"]["churn"]] == ["1.0.0", "1.1.0"]
    assert on_main["models"]["churn"][-1]["reviewed_by"] == ["bob"]


def test_a_failure_is_exit_1_and_one_line(api: StubApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.routes[APPROVALS_PATH] = (500, {"message": "Server Error"})
    path = tmp_path / "prod.json"
    records.save(prod_record("1.0.0"), path)

    code = record_commit.main(["--model", "churn", "--version", "1.0.0", "--record", str(path)], workflow_environ(api))

    assert code == 1
    assert capsys.readouterr().err == (
        f"record_commit: error: GET {api.url}{APPROVALS_PATH}: HTTP 500 Internal Server Error: Server Error\n"
    )
    assert records.load(path, "prod").history("churn")[-1].reviewed_by == ()


def test_without_a_token_nothing_is_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = record_commit.main(["--model", "churn", "--version", "1.0.0", "--record", str(tmp_path / "prod.json")], {})
    assert code == 1
    assert "GITHUB_TOKEN is not set" in capsys.readouterr().err

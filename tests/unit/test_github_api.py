"""tooling.github_api against a stub GitHub on 127.0.0.1 (tests/github_stub.py): one PR comment kept up to date,
one issue per marker, pagination, retries, and error messages that say what to fix and never show the token."""

from __future__ import annotations

import pytest

from tests.github_stub import BOT, HUMAN, REPOSITORY, TOKEN, GitHubStub
from tooling.github_api import GitHubApiError, GitHubClient, GitHubUsageError

MARKER = "ml-platform:plan"
MARKER_LINE = "<!-- ml-platform:plan -->"
COMMENTS = f"/repos/{REPOSITORY}/issues/7/comments"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(github: GitHubStub, sleeps: list[float]) -> GitHubClient:
    return GitHubClient(TOKEN, REPOSITORY, github.url, sleep=sleeps.append)


def pull_request(github: GitHubStub) -> int:
    """PR #7, as in a repository with six issues before it."""
    for _ in range(6):
        github.add_issue()
    return github.add_issue("Add the drift check", pull_request=True)["number"]


# -- one comment, updated in place ----------------------------------------------------------------------


def test_the_comment_is_created_once_then_updated_in_place_then_left_unchanged(
    github: GitHubStub, client: GitHubClient
) -> None:
    number = pull_request(github)
    first = client.upsert_comment(number, "plan: 1 to add", MARKER)
    second = client.upsert_comment(number, "plan: 2 to add", MARKER)
    third = client.upsert_comment(number, "plan: 2 to add", MARKER)

    assert [first.action, second.action, third.action] == ["created", "updated", "unchanged"]
    assert first.comment_id == second.comment_id == third.comment_id
    (comment,) = github.comments[number]
    assert comment["body"] == f"{MARKER_LINE}\nplan: 2 to add"
    assert third.html_url == comment["html_url"]
    assert len(github.called("POST")) == 1 and len(github.called("PATCH")) == 1


def test_requests_carry_the_token_the_api_version_and_json(github: GitHubStub, client: GitHubClient) -> None:
    client.upsert_comment(pull_request(github), "plan", MARKER)
    post = github.called("POST")[0]
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.headers["accept"] == "application/vnd.github+json"
    assert post.headers["x-github-api-version"] == "2022-11-28"
    assert post.headers["user-agent"].startswith("ml-platform-ci")
    assert post.headers["content-type"] == "application/json"
    assert post.payload == {"body": f"{MARKER_LINE}\nplan"}


def test_the_marker_comment_on_page_three_is_found(github: GitHubStub, client: GitHubClient) -> None:
    number = pull_request(github)
    for index in range(250):
        github.add_comment(number, f"review comment {index}")
    ours = github.add_comment(number, f"{MARKER_LINE}\nold plan", BOT)
    github.add_comment(number, "a later reply")

    result = client.upsert_comment(number, "new plan", MARKER)

    assert (result.action, result.comment_id) == ("updated", ours["id"])
    pages = [call.path for call in github.called("GET") if call.path.startswith(COMMENTS)]
    assert len(pages) == 3 and "page=3" in pages[-1] and all("per_page=100" in page for page in pages)
    assert not github.called("POST")


def test_a_person_quoting_the_marker_is_left_alone(github: GitHubStub, client: GitHubClient) -> None:
    number = pull_request(github)
    quoted = github.add_comment(number, f"{MARKER_LINE}\nwhy does the plan say this?", HUMAN)

    result = client.upsert_comment(number, "plan", MARKER)

    assert result.action == "created" and result.comment_id != quoted["id"]
    assert quoted["body"] == f"{MARKER_LINE}\nwhy does the plan say this?"


def test_with_a_personal_token_only_that_users_comment_is_ours() -> None:
    github = GitHubStub(token_login="ci-user")
    with github.serving():
        number = pull_request(github)
        other_bot = github.add_comment(number, f"{MARKER_LINE}\nsomeone else's bot", BOT)
        ours = github.add_comment(number, f"{MARKER_LINE}\nold", {"login": "ci-user", "type": "User"})
        result = GitHubClient(TOKEN, REPOSITORY, github.url).upsert_comment(number, "new", MARKER)
    assert (result.action, result.comment_id) == ("updated", ours["id"])
    assert other_bot["body"].endswith("someone else's bot")


def test_two_marker_comments_update_the_newest_and_name_the_other(github: GitHubStub, client: GitHubClient) -> None:
    number = pull_request(github)
    older = github.add_comment(number, f"{MARKER_LINE}\nfirst run", BOT)
    newer = github.add_comment(number, f"{MARKER_LINE}\nraced run", BOT)

    result = client.upsert_comment(number, "plan", MARKER)

    assert (result.action, result.comment_id) == ("updated", newer["id"])
    assert result.duplicate_urls == (older["html_url"],)
    assert older["body"].endswith("first run") and len(github.comments[number]) == 2


def test_a_body_over_githubs_limit_is_refused_before_any_request(github: GitHubStub, client: GitHubClient) -> None:
    with pytest.raises(GitHubUsageError) as raised:
        client.upsert_comment(7, "x" * 65_530, MARKER)
    assert str(raised.value) == (
        "the body (with its marker line) is 65,556 characters; GitHub accepts at most 65,536: shorten it"
    )
    assert github.calls == []


@pytest.mark.parametrize("marker", ["", "two\nlines", "ends --", "a > b"])
def test_a_marker_that_cannot_live_in_an_html_comment_is_refused(client: GitHubClient, marker: str) -> None:
    with pytest.raises(GitHubUsageError, match="must be one non-empty line without '--' or '>'"):
        client.upsert_comment(7, "plan", marker)


# -- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
            "POST /repos/example-org/ml-platform/issues/7/comments: HTTP 401: Bad credentials "
            "[https://docs.github.com/rest]. the token is missing, expired or revoked: pass the job's token as "
            "`env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`",
        ),
        (
            403,
            {"message": "Resource not accessible by integration"},
            "POST /repos/example-org/ml-platform/issues/7/comments: HTTP 403: Resource not accessible by "
            "integration. the token may not do this: the job's `permissions:` must grant `pull-requests: write` "
            "(PR comments) or `issues: write` (issues); a pull request from a fork gets a read-only token "
            "whatever they say",
        ),
        (
            422,
            {
                "message": "Validation Failed",
                "errors": [{"resource": "IssueComment", "field": "body", "code": "custom", "message": "body is bad"}],
            },
            "POST /repos/example-org/ml-platform/issues/7/comments: HTTP 422: Validation Failed (body is bad). "
            "GitHub refused the content (validation): e.g. a body over 65,536 characters or a field it does not know",
        ),
    ],
)
def test_an_api_error_names_the_request_the_status_githubs_message_and_what_to_fix(
    github: GitHubStub, client: GitHubClient, status: int, body: dict, expected: str
) -> None:
    number = pull_request(github)
    github.fail_next("POST", COMMENTS, status, body)
    with pytest.raises(GitHubApiError) as raised:
        client.upsert_comment(number, "plan", MARKER)
    assert str(raised.value) == expected
    assert raised.value.status == status
    assert len(github.called("POST")) == 1  # not retried


def test_a_missing_pull_request_is_a_404_that_says_what_to_check(github: GitHubStub, client: GitHubClient) -> None:
    with pytest.raises(GitHubApiError) as raised:
        client.upsert_comment(99, "plan", MARKER)
    assert str(raised.value).startswith(
        "GET /repos/example-org/ml-platform/issues/99/comments?per_page=100: HTTP 404: Not Found "
        "[https://docs.github.com/rest]. the repository, pull request or issue does not exist, or the token cannot "
        "see it: check GITHUB_REPOSITORY, the number"
    )


def test_a_wrong_token_is_refused_and_never_shown(github: GitHubStub) -> None:
    wrong = "ghp_wrongToken42"
    with pytest.raises(GitHubApiError) as raised:
        GitHubClient(wrong, REPOSITORY, github.url).upsert_comment(pull_request(github), "plan", MARKER)
    assert "HTTP 401: Bad credentials" in str(raised.value)
    assert wrong not in str(raised.value) and wrong not in repr(raised.value)


def test_a_github_message_that_echoes_the_token_is_redacted(github: GitHubStub, client: GitHubClient) -> None:
    number = pull_request(github)
    github.fail_next("POST", COMMENTS, 403, {"message": f"token {TOKEN} lacks a scope"})
    with pytest.raises(GitHubApiError) as raised:
        client.upsert_comment(number, "plan", MARKER)
    assert "HTTP 403: token *** lacks a scope" in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(client)


def test_a_gateway_error_is_retried_with_backoff(github: GitHubStub, client: GitHubClient, sleeps: list) -> None:
    number = pull_request(github)
    github.fail_next("GET", COMMENTS, 502)
    assert client.upsert_comment(number, "plan", MARKER).action == "created"
    assert sleeps == [1.0]


def test_a_gateway_error_that_persists_fails_after_four_attempts(
    github: GitHubStub, client: GitHubClient, sleeps: list
) -> None:
    for _ in range(4):
        github.fail_next("GET", COMMENTS, 503, {"message": "Service Unavailable"})
    with pytest.raises(GitHubApiError, match=r"^GET /repos/example-org/ml-platform/issues/7/comments\?per_page=100: "):
        client.upsert_comment(pull_request(github), "plan", MARKER)
    assert sleeps == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_waits_retry_after(
    github: GitHubStub, client: GitHubClient, sleeps: list, status: int
) -> None:
    number = pull_request(github)
    github.fail_next("POST", COMMENTS, status, {"message": "secondary rate limit"}, {"Retry-After": "7"})
    assert client.upsert_comment(number, "plan", MARKER).action == "created"
    assert sleeps == [7.0] and len(github.comments[number]) == 1


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        ({"Retry-After": "600"}, "GitHub's secondary rate limit: wait 600 s, then run the job again"),
        (
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1772431200"},
            "the token's rate limit is used up until 2026-03-02 06:00:00 UTC",
        ),
    ],
)
def test_a_rate_limit_too_long_to_wait_for_fails_at_once_saying_so(
    github: GitHubStub, client: GitHubClient, sleeps: list, headers: dict[str, str], hint: str
) -> None:
    number = pull_request(github)
    github.fail_next("POST", COMMENTS, 429, {"message": "API rate limit exceeded"}, headers)
    with pytest.raises(GitHubApiError) as raised:
        client.upsert_comment(number, "plan", MARKER)
    assert str(raised.value).endswith(f"HTTP 429: API rate limit exceeded. {hint}")
    assert sleeps == []


def test_a_create_that_github_stored_before_the_gateway_failed_is_not_repeated(
    github: GitHubStub, client: GitHubClient, sleeps: list
) -> None:
    number = pull_request(github)
    github.fail_next("POST", COMMENTS, 502, after_handling=True)
    result = client.upsert_comment(number, "plan", MARKER)
    assert result.action == "created"  # found again on the second look
    assert len(github.comments[number]) == 1 and len(github.called("POST")) == 1 and sleeps == [1.0]


def test_a_next_page_link_to_another_host_is_not_followed(github: GitHubStub, client: GitHubClient) -> None:
    number = pull_request(github)
    for index in range(101):
        github.add_comment(number, f"comment {index}")
    github.link_base = "https://elsewhere.example"
    with pytest.raises(GitHubApiError, match="refusing to follow a next-page link to another host"):
        client.upsert_comment(number, "plan", MARKER)


def test_a_redirect_is_followed_on_the_same_host_only(github: GitHubStub, client: GitHubClient) -> None:
    number = pull_request(github)
    github.fail_next("GET", COMMENTS, 301, {}, {"Location": f"{github.url}{COMMENTS}?per_page=100"})
    assert client.upsert_comment(number, "plan", MARKER).action == "created"

    github.fail_next("GET", COMMENTS, 301, {"message": "Moved Permanently"}, {"Location": "https://elsewhere.example/"})
    with pytest.raises(GitHubApiError, match="HTTP 301: Moved Permanently"):
        client.upsert_comment(number, "plan", MARKER)


# -- issues ---------------------------------------------------------------------------------------------

DRIFT = "ml-platform:drift:prod"


def test_an_issue_is_opened_once_then_updated_and_pull_requests_are_skipped(
    github: GitHubStub, client: GitHubClient
) -> None:
    look_alike = github.add_issue("PR", f"<!-- {DRIFT} -->\nold", ("drift",), pull_request=True, user=BOT)
    created = client.upsert_issue(DRIFT, "Infrastructure drift in prod", "report 1", ("drift", "infrastructure"))
    updated = client.upsert_issue(DRIFT, "Infrastructure drift in prod", "report 2", ("drift", "infrastructure"))
    unchanged = client.upsert_issue(DRIFT, "Infrastructure drift in prod", "report 2", ("drift", "infrastructure"))

    assert [created.action, updated.action, unchanged.action] == ["created", "updated", "unchanged"]
    assert created.number == updated.number == unchanged.number != look_alike["number"]
    issue = github.issues[created.number]
    assert issue["body"] == f"<!-- {DRIFT} -->\nreport 2"
    assert [label["name"] for label in issue["labels"]] == ["drift", "infrastructure"]
    assert look_alike["body"] == f"<!-- {DRIFT} -->\nold"
    assert all("labels=drift" in call.path and "state=open" in call.path for call in github.called("GET")[1:])


def test_a_closed_issue_is_history_and_a_new_one_is_opened(github: GitHubStub, client: GitHubClient) -> None:
    closed = github.add_issue("old drift", f"<!-- {DRIFT} -->\nold", ("drift",), state="closed", user=BOT)
    result = client.upsert_issue(DRIFT, "Infrastructure drift in prod", "report", ("drift",))
    assert result.action == "created" and result.number != closed["number"]


def test_an_issue_that_lost_a_label_gets_it_back(github: GitHubStub, client: GitHubClient) -> None:
    issue = github.add_issue("Infrastructure drift in prod", f"<!-- {DRIFT} -->\nreport", ("drift",), user=BOT)
    result = client.upsert_issue(DRIFT, "Infrastructure drift in prod", "report", ("drift", "prod"))
    assert result.action == "updated"
    assert [label["name"] for label in issue["labels"]] == ["drift", "prod"]


def test_a_dropped_label_is_a_warning_since_the_next_run_could_not_find_the_issue(
    github: GitHubStub, client: GitHubClient
) -> None:
    github.fail_next("POST", f"/repos/{REPOSITORY}/issues", 201, {"number": 3, "html_url": "u", "labels": []})
    result = client.upsert_issue(DRIFT, "Infrastructure drift in prod", "report", ("drift",))
    assert result.warnings == (
        "GitHub did not set the label 'drift' on issue #3: the next run cannot find it and would open another; "
        "give the job `issues: write` or add the label by hand",
    )


def test_an_issue_needs_a_label_to_be_found_again(client: GitHubClient) -> None:
    with pytest.raises(GitHubUsageError, match="labels must name at least one label"):
        client.upsert_issue(DRIFT, "title", "body", ())


def test_closing_comments_then_closes_the_open_issue(github: GitHubStub, client: GitHubClient) -> None:
    opened = client.upsert_issue(DRIFT, "Infrastructure drift in prod", "report", ("drift",))
    result = client.close_issue_if_open(DRIFT, "drift", "clean again")
    assert result is not None and (result.action, result.number) == ("closed", opened.number)
    issue = github.issues[opened.number]
    assert (issue["state"], issue["state_reason"]) == ("closed", "completed")
    assert [comment["body"] for comment in github.comments[opened.number]] == ["clean again"]
    assert client.close_issue_if_open(DRIFT, "drift", "clean again") is None


# -- from the environment -------------------------------------------------------------------------------


def test_from_environment_reads_the_three_variables(github: GitHubStub) -> None:
    client = GitHubClient.from_environment(
        {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github.url + "/"}
    )
    assert (client.repository, client.api_url) == (REPOSITORY, github.url)
    assert GitHubClient.from_environment({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPOSITORY}).api_url == (
        "https://api.github.com"
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GITHUB_REPOSITORY": REPOSITORY}, "GITHUB_TOKEN not set: in the workflow step, set `env: GITHUB_TOKEN: "),
        ({"GITHUB_TOKEN": TOKEN}, "GITHUB_REPOSITORY not set"),
        (
            {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "ml-platform"},
            "the repository must be owner/name (as GITHUB_REPOSITORY is), got 'ml-platform'",
        ),
        (
            {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": "http://ghe.example/api/v3"},
            "refusing to send the token to 'http://ghe.example/api/v3': the API URL (GITHUB_API_URL) must be https",
        ),
    ],
)
def test_from_environment_names_what_is_missing_or_wrong(environ: dict[str, str], message: str) -> None:
    with pytest.raises(GitHubUsageError) as raised:
        GitHubClient.from_environment(environ)
    assert message in str(raised.value)
    assert TOKEN not in str(raised.value)

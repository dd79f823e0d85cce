"""A small GitHub REST client for the CI workflows: one PR comment updated in place, one issue per concern.

    client = GitHubClient.from_environment()           # GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL
    client.upsert_comment(42, report, marker="ml-platform:plan")
    client.upsert_issue("ml-platform:drift:prod", "Infrastructure drift in prod", report, labels=("drift",))
    client.close_issue_if_open("ml-platform:drift:prod", "drift", "Clean again: closing.")

What is "ours" is found again by a hidden first line `<!-- <marker> -->` that the client writes at the top of
each body it sends, and by its author: the token's own login when `GET /user` tells it, else a bot account
(the workflow's GITHUB_TOKEN is an installation token, which `GET /user` refuses; its comments are by
`github-actions[bot]`). A person's comment that quotes the marker is never touched.

Lists are read through every page (`per_page=100`, the `Link: <...>; rel="next"` header). Requests are retried
with backoff on 502/503/504 and on a secondary rate limit (403/429 with `Retry-After`); the create of a marked
comment or issue is never repeated blind: after a gateway error the client looks again for the marker first, since
GitHub may have stored it.
The token goes only into the Authorization header, over HTTPS (plain HTTP only to this machine, for tests), and
is replaced by `***` in any error message. Standard library only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "ml-platform-ci (tooling.github_api)"
MAX_BODY_CHARS = 65_536  # GitHub refuses a longer issue or comment body with a 422
PER_PAGE = 100  # the largest page GitHub serves
ATTEMPTS = 4  # one request and up to three retries
MAX_RETRY_AFTER_SECONDS = 120.0  # a longer wait than this fails the step rather than holding the runner
_GATEWAY_ERRORS = frozenset({502, 503, 504})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_HINTS = {
    401: "the token is missing, expired or revoked: pass the job's token as "
    "`env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`",
    403: "the token may not do this: the job's `permissions:` must grant `pull-requests: write` (PR comments) "
    "or `issues: write` (issues); a pull request from a fork gets a read-only token whatever they say",
    404: "the repository, pull request or issue does not exist, or the token cannot see it: check "
    "GITHUB_REPOSITORY, the number, and which repositories the token may read",
    422: "GitHub refused the content (validation): e.g. a body over 65,536 characters or a field it does not know",
}


# The user a workflow's GITHUB_TOKEN writes as (GET /user answers 403 for that token).
ACTIONS_BOT = "github-actions[bot]"


class GitHubApiError(RuntimeError):
    """A request GitHub answered with an error (or could not be sent). The message names the method, the path,
    the status, GitHub's `message` and `documentation_url`, and what to check; never the token."""

    def __init__(self, message: str, *, method: str, path: str, status: int | None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status  # None: no HTTP answer (network error, or an answer that is not JSON)


class GitHubUsageError(ValueError):
    """The client was asked for something it refuses before sending anything: a missing environment variable, a
    malformed repository or API URL, a marker that cannot live in an HTML comment, a body over GitHub's limit."""


@dataclass(frozen=True)
class CommentResult:
    """What `upsert_comment` did. `duplicate_urls`: older marker comments left in place (a past race)."""

    action: Literal["created", "updated", "unchanged"]
    comment_id: int
    html_url: str
    duplicate_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssueResult:
    """What `upsert_issue` or `close_issue_if_open` did. `duplicate_urls`: other open marker issues (a past race;
    `upsert_issue` leaves them open, `close_issue_if_open` closes them too). `warnings`: what needs a person."""

    action: Literal["created", "updated", "unchanged", "closed"]
    number: int
    html_url: str
    duplicate_urls: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    data: Any


@dataclass(frozen=True)
class _Lookup:
    """What `_find_else_create` found or made: the newest marked item, the older ones, whether this call's POST
    answered with it (`created`), and whether this call sent a POST at all (`sent`: one answered by a gateway
    error may still have been stored, and is then what a second look finds)."""

    item: dict[str, Any]
    older: tuple[dict[str, Any], ...]
    created: bool
    sent: bool

    @property
    def duplicate_urls(self) -> tuple[str, ...]:
        return tuple(item["html_url"] for item in self.older)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect (GitHub answers 301 for a renamed repository) only on the same scheme and host: urllib
    would otherwise send the Authorization header on to wherever `Location` points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # urllib's signature
        if _origin(newurl) != _origin(req.full_url):
            return None  # urllib then raises the 3xx as an HTTPError
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GitHubClient:
    """The REST API of one repository. `api_url` defaults to https://api.github.com (Actions sets
    GITHUB_API_URL, which differs on GitHub Enterprise Server); `timeout` is per request, in seconds (default 30);
    `sleep` waits between retries (default `time.sleep`; tests pass a recorder); `attempts` per request
    (default 4)."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: float = 30,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = ATTEMPTS,
    ) -> None:
        if not token or any(character.isspace() for character in token):
            raise GitHubUsageError("the token (GITHUB_TOKEN) is empty or contains whitespace: pass the secret as is")
        self._token = token
        if not _REPOSITORY.fullmatch(repository) or repository.split("/")[1] in (".", ".."):
            raise GitHubUsageError(f"the repository must be owner/name (as GITHUB_REPOSITORY is), got {repository!r}")
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.api_url)
        if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
            raise GitHubUsageError(
                self._redact(f"refusing to send the token to {api_url!r}: the API URL (GITHUB_API_URL) must be https")
            )
        self.timeout = timeout
        self._sleep = sleep
        self._attempts = max(1, attempts)
        self._opener = urllib.request.build_opener(_SameOriginRedirects)
        self._login: str | None = None
        self._login_known = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ, **options: Any) -> GitHubClient:
        """A client from GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (optional); `options` go to the
        constructor. GitHubUsageError names a missing variable."""
        missing = [name for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY") if not environ.get(name)]
        if missing:
            raise GitHubUsageError(
                f"{' and '.join(missing)} not set: in the workflow step, set `env: GITHUB_TOKEN: "
                "${{ secrets.GITHUB_TOKEN }}` (Actions sets GITHUB_REPOSITORY and GITHUB_API_URL itself)"
            )
        api_url = environ.get("GITHUB_API_URL") or DEFAULT_API_URL
        return cls(environ["GITHUB_TOKEN"], environ["GITHUB_REPOSITORY"], api_url, **options)

    def __repr__(self) -> str:  # never the token
        return f"GitHubClient(repository={self.repository!r}, api_url={self.api_url!r})"

    # -- comments -------------------------------------------------------------------------------------------

    def upsert_comment(self, issue_number: int, body: str, marker: str) -> CommentResult:
        """Keep ONE comment with `marker` on issue or pull request `issue_number`: update ours in place (or leave
        it when the body is the same), else create it. With two (a past race) the newest is updated and the
        others are named in the result, not deleted."""
        text = marked_body(marker, body)
        path = f"{self._repo_path}/issues/{int(issue_number)}/comments"
        lookup = self._find_else_create(
            lambda: self._ours(self.paginate(path), marker),
            lambda: self.request("POST", path, {"body": text}, retry_gateway_errors=False),
        )
        comment, duplicates = lookup.item, lookup.duplicate_urls
        same = _same_text(comment.get("body"), text)
        if lookup.created or (lookup.sent and same):
            return CommentResult("created", comment["id"], comment["html_url"], duplicates)
        if same:
            return CommentResult("unchanged", comment["id"], comment["html_url"], duplicates)
        updated = self.request("PATCH", f"{self._repo_path}/issues/comments/{comment['id']}", {"body": text})
        return CommentResult("updated", updated["id"], updated["html_url"], duplicates)

    # -- issues ---------------------------------------------------------------------------------------------

    def upsert_issue(self, marker: str, title: str, body: str, labels: Sequence[str]) -> IssueResult:
        """Keep ONE open issue with `marker`: update the open one (title, body; labels added when missing), else
        create one with `labels`. It is found among the open issues labelled `labels[0]` (the issues list, not
        the search API, which lags behind), so that label must stay on it. A closed one is history: a new
        episode gets a new issue."""
        if not labels:
            raise GitHubUsageError("labels must name at least one label: the first is how the issue is found again")
        text = marked_body(marker, body)
        label = labels[0]
        lookup = self._find_else_create(
            lambda: self._open_issues(marker, label),
            lambda: self.request(
                "POST",
                f"{self._repo_path}/issues",
                {"title": title, "body": text, "labels": list(labels)},
                retry_gateway_errors=False,
            ),
        )
        issue, duplicates = lookup.item, lookup.duplicate_urls
        missing = [name for name in labels if name not in _label_names(issue)]
        if lookup.created:
            warnings = ()
            if label in missing:  # GitHub drops labels a token may not set, silently
                warnings = (
                    f"GitHub did not set the label {label!r} on issue #{issue['number']}: the next run cannot find "
                    "it and would open another; give the job `issues: write` or add the label by hand",
                )
            return IssueResult("created", issue["number"], issue["html_url"], duplicates, warnings)
        changes = {key: value for key, value in (("title", title), ("body", text)) if not _same_text(issue[key], value)}
        if changes:
            issue = self.request("PATCH", f"{self._repo_path}/issues/{issue['number']}", changes)
        if missing:
            self.request("POST", f"{self._repo_path}/issues/{issue['number']}/labels", {"labels": missing})
        action = "updated" if changes or missing else "created" if lookup.sent else "unchanged"
        return IssueResult(action, issue["number"], issue["html_url"], duplicates)

    def close_issue_if_open(self, marker: str, label: str, comment: str) -> IssueResult | None:
        """Close the open issue(s) with `marker` labelled `label`, each after posting `comment` on it; None when
        none is open."""
        comment_text = _checked_length(comment, "comment")
        found = self._open_issues(marker, label)
        if not found:
            return None
        for issue in found:
            number = issue["number"]
            self.request("POST", f"{self._repo_path}/issues/{number}/comments", {"body": comment_text})
            self.request(
                "PATCH", f"{self._repo_path}/issues/{number}", {"state": "closed", "state_reason": "completed"}
            )
        newest, older = found[-1], found[:-1]
        return IssueResult("closed", newest["number"], newest["html_url"], tuple(item["html_url"] for item in older))

    # -- transport ------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, payload: Any = None, *, retry_gateway_errors: bool = True) -> Any:
        """`method` on `path` (below the API URL, e.g. `/repos/o/r/issues`) with `payload` as JSON; the decoded
        JSON answer (None when empty). Gateway errors are retried unless `retry_gateway_errors` is False (a create
        that GitHub may have stored before the gateway gave up)."""
        return self._send(method, self.api_url + path, payload, retry_gateway_errors).data

    def paginate(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of the list at `path`, through all its pages (`per_page=100`, then each `rel="next"`)."""
        query = urllib.parse.urlencode({**(params or {}), "per_page": PER_PAGE})
        url: str | None = f"{self.api_url}{path}?{query}"
        while url:
            response = self._send("GET", url, None, retry_gateway_errors=True)
            if not isinstance(response.data, list):
                raise self._error("GET", url, response.status, "the answer is not a list")
            yield from response.data
            url = _next_link(response.headers.get("Link"))
            if url and _origin(url) != _origin(self.api_url):
                raise self._error("GET", url, None, "refusing to follow a next-page link to another host")

    def authenticated_login(self) -> str | None:
        """The token's own login (`GET /user`), or None when GitHub will not say: an installation token (the
        workflow's GITHUB_TOKEN, a GitHub App) gets 403 there. Asked once per client."""
        if not self._login_known:
            try:
                self._login = self.request("GET", "/user")["login"]
            except GitHubApiError as exc:
                if exc.status != 403:
                    raise
                self._login = None
            self._login_known = True
        return self._login

    @property
    def _repo_path(self) -> str:
        return f"/repos/{self.repository}"

    def _send(self, method: str, url: str, payload: Any, retry_gateway_errors: bool) -> _Response:
        data = None if payload is None else json.dumps(payload).encode()
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(1, self._attempts + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with self._opener.open(request, timeout=self.timeout) as answer:
                    status, answer_headers, raw = answer.status, answer.headers, answer.read()
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                delay = _retry_delay(exc.code, exc.headers, attempt, retry_gateway_errors)
                if delay is None or attempt == self._attempts:
                    raise self._http_error(method, url, exc.code, exc.headers, raw) from None
                self._sleep(delay)
                continue
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise self._error(method, url, None, f"cannot reach {_origin(url)}: {reason}") from None
            try:
                return _Response(status, answer_headers, json.loads(raw) if raw.strip() else None)
            except ValueError:
                raise self._error(method, url, status, f"the answer is not JSON: {raw[:200]!r}") from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _http_error(self, method: str, url: str, status: int, headers: Mapping[str, str], raw: bytes) -> GitHubApiError:
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        text = f"HTTP {status}: {' '.join(str(answer.get('message') or 'no message').split())}"
        details = [error.get("message") or f"{error.get('field')} {error.get('code')}" for error in _errors(answer)]
        if details:
            text += f" ({'; '.join(str(detail) for detail in details)})"
        if answer.get("documentation_url"):
            text += f" [{answer['documentation_url']}]"
        hint = _HINTS.get(status)
        if status in (403, 429) and headers.get("Retry-After"):
            hint = f"GitHub's secondary rate limit: wait {headers['Retry-After']} s, then run the job again"
        elif status in (403, 429) and headers.get("X-RateLimit-Remaining") == "0":
            hint = f"the token's rate limit is used up until {_epoch_time(headers.get('X-RateLimit-Reset'))}"
        return self._error(method, url, status, f"{text}. {hint}" if hint else text)

    def _error(self, method: str, url: str, status: int | None, text: str) -> GitHubApiError:
        path = url[len(self.api_url) :] if url.startswith(self.api_url) else url
        path = self._redact(path)
        return GitHubApiError(self._redact(f"{method} {path}: {text}"), method=method, path=path, status=status)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***")

    def _find_else_create(
        self, find: Callable[[], list[dict[str, Any]]], create: Callable[[], dict[str, Any]]
    ) -> _Lookup:
        """The newest item `find` returns, else the one `create` makes. A create answered by a gateway error is
        not repeated blind: GitHub may have stored it, so look again first."""
        for attempt in range(1, self._attempts + 1):
            found = find()
            if found:
                return _Lookup(found[-1], tuple(found[:-1]), created=False, sent=attempt > 1)
            try:
                return _Lookup(create(), (), created=True, sent=True)
            except GitHubApiError as exc:
                if exc.status not in _GATEWAY_ERRORS or attempt == self._attempts:
                    raise
                self._sleep(_backoff(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _ours(self, items: Iterator[dict[str, Any]], marker: str) -> list[dict[str, Any]]:
        """The items that start with `marker`'s line and were written by this token's user (or, when GitHub will
        not say who that is, as for a workflow's GITHUB_TOKEN, by github-actions[bot]), oldest first."""
        line = marker_line(marker)
        login = self.authenticated_login() or ACTIONS_BOT
        ours = []
        for item in items:
            user = item.get("user") or {}
            written_by_us = user.get("login") == login
            if written_by_us and _first_line(item.get("body")) == line:
                ours.append(item)
        return sorted(ours, key=lambda item: item["id"])

    def _open_issues(self, marker: str, label: str) -> list[dict[str, Any]]:
        """Our open issues with `marker` labelled `label`, oldest first; pull requests (also in this list) are
        skipped."""
        items = self.paginate(f"{self._repo_path}/issues", {"state": "open", "labels": label})
        return self._ours((item for item in items if "pull_request" not in item), marker)


def marker_line(marker: str) -> str:
    """The hidden first line that marks a body as ours: `<!-- <marker> -->`. GitHubUsageError for a marker that
    is empty, spans lines or would end the HTML comment early."""
    if not marker.strip() or "\n" in marker or "\r" in marker or "--" in marker or ">" in marker:
        raise GitHubUsageError(
            f"the marker {marker!r} must be one non-empty line without '--' or '>' (it lives in an HTML comment)"
        )
    return f"<!-- {marker.strip()} -->"


def marked_body(marker: str, body: str) -> str:
    """`body` under the marker line; GitHubUsageError when the result is over GitHub's 65,536 characters."""
    return _checked_length(f"{marker_line(marker)}\n{body}", "body (with its marker line)")


def run_command(prog: str, work: Callable[[], str]) -> int:
    """The exit code of a command whose `work` talks to GitHub and returns the one line to print: 0 done, 2 for
    a GitHubUsageError (bad arguments or environment), 1 for a GitHubApiError; each error as `<prog>: error: ...`
    on stderr."""
    try:
        line = work()
    except GitHubUsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except GitHubApiError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0


def read_body(path: Path) -> str:
    """The UTF-8 text of a report file, for a body; GitHubUsageError naming the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise GitHubUsageError(f"cannot read the report {str(path)!r}: {reason}") from None


def _checked_length(text: str, what: str) -> str:
    if len(text) > MAX_BODY_CHARS:
        raise GitHubUsageError(
            f"the {what} is {len(text):,} characters; GitHub accepts at most {MAX_BODY_CHARS:,}: shorten it"
        )
    return text


def _retry_delay(status: int, headers: Mapping[str, str], attempt: int, gateway: bool) -> float | None:
    """Seconds to wait before the next attempt, or None when this answer is final.

    status          Retry-After       → wait
    502/503/504     (any)             → 1, 2, 4 s ... (None when `gateway` is False: see _find_else_create)
    403/429         n ≤ 120 seconds   → n s (GitHub's secondary rate limit)
    anything else                     → None
    """
    if status in _GATEWAY_ERRORS:
        return _backoff(attempt) if gateway else None
    if status in (403, 429):
        try:
            seconds = float(headers.get("Retry-After") or "")
        except ValueError:
            return None
        return seconds if 0 <= seconds <= MAX_RETRY_AFTER_SECONDS else None
    return None


def _epoch_time(seconds: str | None) -> str:
    """GitHub's `X-RateLimit-Reset` (epoch seconds) as a UTC time, or as given when it is not a number."""
    try:
        return f"{datetime.fromtimestamp(int(seconds or ''), UTC):%Y-%m-%d %H:%M:%S} UTC"
    except ValueError:
        return repr(seconds)


def _backoff(attempt: int) -> float:
    return float(2 ** (attempt - 1))


def _next_link(link_header: str | None) -> str | None:
    match = _NEXT_LINK.search(link_header or "")
    return match.group(1) if match else None


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def _first_line(body: Any) -> str:
    return str(body or "").lstrip("\ufeff").split("\n", 1)[0].rstrip("\r").strip()


def _same_text(stored: Any, sent: str) -> bool:
    """GitHub may hand a body back with CRLF line ends."""
    return str(stored or "").replace("\r\n", "\n") == sent.replace("\r\n", "\n")


def _label_names(issue: Mapping[str, Any]) -> set[str]:
    return {label["name"] if isinstance(label, dict) else str(label) for label in issue.get("labels") or ()}


def _errors(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = answer.get("errors")
    return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []

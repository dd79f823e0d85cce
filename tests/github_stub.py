"""A stub of the GitHub REST API on 127.0.0.1 for the endpoints tooling.github_api uses: issues and pull requests,
their comments and labels, kept in memory. It checks the Bearer token, pages lists with a `Link` header as GitHub
does, answers errors with GitHub's JSON shape, and can fail the next matching request on demand."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.local_http import QuietHandler, serving

REPOSITORY = "example-org/ml-platform"
TOKEN = "ghs_stubToken0123456789abcdef"
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
HUMAN = {"login": "alice", "id": 1001, "type": "User"}
DOCS = "https://docs.github.com/rest"
MAX_BODY = 65_536


@dataclass(frozen=True)
class Call:
    """One request the stub received: method, path with query, headers (lowercase names), JSON payload."""

    method: str
    path: str
    headers: dict[str, str]
    payload: Any


@dataclass
class Failure:
    """Answer the next `method` request whose path starts with `path` with `status` and `body`;
    `after_handling`: do the work first, then fail (a gateway that gave up after GitHub stored the change)."""

    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    after_handling: bool = False


class GitHubStub:
    """In-memory issues (pull requests are issues with `pull_request`) and comments of REPOSITORY.
    `token_login`: what GET /user answers; None answers 403 as for the workflow's installation token.
    `link_base`: the host written into next-page links (default: the stub itself)."""

    def __init__(self, token_login: str | None = None) -> None:
        self.url = ""
        self.link_base: str | None = None
        self.token_login = token_login
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self._next_id = 5000
        self._lock = threading.Lock()

    # -- setting the scene ---------------------------------------------------------------------------------

    def add_issue(
        self,
        title: str = "an issue",
        body: str = "",
        labels: tuple[str, ...] = (),
        *,
        state: str = "open",
        pull_request: bool = False,
        user: dict[str, Any] = HUMAN,
    ) -> dict[str, Any]:
        number = len(self.issues) + 1
        kind = "pull" if pull_request else "issues"
        issue = {
            "number": number,
            "id": self._new_id(),
            "title": title,
            "body": body,
            "state": state,
            "labels": [{"name": name} for name in labels],
            "user": dict(user),
            "html_url": f"https://github.com/{REPOSITORY}/{kind}/{number}",
        }
        if pull_request:
            issue["pull_request"] = {"url": f"https://api.github.com/repos/{REPOSITORY}/pulls/{number}"}
        self.issues[number] = issue
        self.comments[number] = []
        return issue

    def add_comment(self, number: int, body: str, user: dict[str, Any] = HUMAN) -> dict[str, Any]:
        comment_id = self._new_id()
        comment = {
            "id": comment_id,
            "body": body,
            "user": dict(user),
            "html_url": f"{self.issues[number]['html_url']}#issuecomment-{comment_id}",
        }
        self.comments[number].append(comment)
        return comment

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        after_handling: bool = False,
    ) -> None:
        body = {"message": f"stub failure {status}"} if body is None else body
        self.failures.append(Failure(method, path, status, body, headers or {}, after_handling))

    def called(self, method: str | None = None) -> list[Call]:
        return [call for call in self.calls if method is None or call.method == method]

    # -- the API -------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], payload: Any) -> tuple[int, Any, dict]:
        self.calls.append(Call(method, target, headers, payload))
        failure = next((item for item in self.failures if item.method == method and target.startswith(item.path)), None)
        if failure:
            self.failures.remove(failure)
            if not failure.after_handling:
                return failure.status, failure.body, failure.headers
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials", "documentation_url": DOCS}, {}
        answer = self._route(method, target, payload)
        return (failure.status, failure.body, failure.headers) if failure else answer

    def _route(self, method: str, target: str, payload: Any) -> tuple[int, Any, dict]:
        parts = urllib.parse.urlsplit(target)
        query = dict(urllib.parse.parse_qsl(parts.query))
        path = parts.path
        if path == "/user" and method == "GET":
            if self.token_login is None:
                return 403, {"message": "Resource not accessible by integration", "documentation_url": DOCS}, {}
            return 200, {"login": self.token_login, "type": "User"}, {}
        prefix = f"/repos/{REPOSITORY}/issues"
        if not path.startswith(prefix):
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        rest = path[len(prefix) :]
        if rest == "" and method == "GET":
            items = [issue for issue in self.issues.values() if _listed(issue, query)]
            return self._page(sorted(items, key=lambda issue: -issue["number"]), path, query)
        if rest == "" and method == "POST":
            return self._create_issue(payload)
        if match := re.fullmatch(r"/comments/(\d+)", rest):
            return self._edit_comment(int(match.group(1)), method, payload)
        match = re.fullmatch(r"/(\d+)(/comments|/labels)?", rest)
        if not match or int(match.group(1)) not in self.issues:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        number, sub = int(match.group(1)), match.group(2)
        if sub == "/comments" and method == "GET":
            return self._page(self.comments[number], path, query)
        if sub == "/comments" and method == "POST":
            if error := _too_long(payload.get("body"), "IssueComment"):
                return error
            return 201, self.add_comment(number, payload["body"], BOT), {}
        if sub == "/labels" and method == "POST":
            issue = self.issues[number]
            names = [label["name"] for label in issue["labels"]]
            issue["labels"] += [{"name": name} for name in payload["labels"] if name not in names]
            return 200, issue["labels"], {}
        if sub is None and method == "PATCH":
            if error := _too_long(payload.get("body"), "Issue"):
                return error
            self.issues[number].update(payload)
            return 200, self.issues[number], {}
        return 404, {"message": "Not Found", "documentation_url": DOCS}, {}

    def _create_issue(self, payload: dict[str, Any]) -> tuple[int, Any, dict]:
        if error := _too_long(payload.get("body"), "Issue"):
            return error
        issue = self.add_issue(
            payload["title"], payload.get("body") or "", tuple(payload.get("labels") or ()), user=BOT
        )
        return 201, issue, {}

    def _edit_comment(self, comment_id: int, method: str, payload: Any) -> tuple[int, Any, dict]:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == comment_id and method == "PATCH":
                    if error := _too_long(payload.get("body"), "IssueComment"):
                        return error
                    comment["body"] = payload["body"]
                    return 200, comment, {}
        return 404, {"message": "Not Found", "documentation_url": DOCS}, {}

    def _page(self, items: list[dict[str, Any]], path: str, query: dict[str, str]) -> tuple[int, Any, dict]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        headers = {}
        if page < last:
            base = self.link_base or self.url
            next_query = urllib.parse.urlencode({**query, "page": page + 1})
            last_query = urllib.parse.urlencode({**query, "page": last})
            headers["Link"] = f'<{base}{path}?{next_query}>; rel="next", <{base}{path}?{last_query}>; rel="last"'
        return 200, items[(page - 1) * per_page : page * per_page], headers

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- serving -------------------------------------------------------------------------------------------

    @contextmanager
    def serving(self) -> Iterator[GitHubStub]:
        """Listen on 127.0.0.1 (a free port) until the block ends."""
        stub = self

        class Handler(QuietHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                with stub._lock:
                    status, body, extra = stub.handle(
                        self.command, self.path, headers, json.loads(raw) if raw else None
                    )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

        with serving(Handler) as url:
            self.url = url
            yield self


def _listed(issue: dict[str, Any], query: dict[str, str]) -> bool:
    state = query.get("state", "open")
    wanted = {name for name in query.get("labels", "").split(",") if name}
    names = {label["name"] for label in issue["labels"]}
    return (state == "all" or issue["state"] == state) and wanted <= names


def _too_long(body: Any, resource: str) -> tuple[int, Any, dict] | None:
    if body is None or len(body) <= MAX_BODY:
        return None
    error = {"resource": resource, "code": "custom", "field": "body", "message": "body is too long (maximum is 65536)"}
    return 422, {"message": "Validation Failed", "errors": [error], "documentation_url": DOCS}, {}

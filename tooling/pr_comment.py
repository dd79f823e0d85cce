"""`python -m tooling.pr_comment`: post a Markdown report as ONE comment on a pull request, updated in place.

    python -m tooling.pr_comment [--pr NUMBER] --marker TEXT --body-file FILE

The comment is found again by the hidden line `<!-- TEXT -->` at its top (tooling.github_api), so each push
updates it instead of adding one. `--pr` defaults to $PR_NUMBER (pass `${{ github.event.pull_request.number }}`
through `env:`, never inside `run:`). Needs GITHUB_TOKEN and GITHUB_REPOSITORY (GITHUB_API_URL optional) and the
job permission `pull-requests: write`. Prints one line: what it did and the comment's URL.
Exit 0 on success, 1 on an API error, 2 on bad arguments or environment (message on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tooling.github_api import CommentResult, GitHubClient, read_body, run_command

PROG = "pr_comment"
DONE = {"created": "created the comment", "updated": "updated the comment", "unchanged": "left the comment unchanged"}


def pr_number(parser: argparse.ArgumentParser, given: str | None, environ: Mapping[str, str]) -> int:
    """`--pr`, else $PR_NUMBER: a positive whole number (a parser error naming the bad value otherwise)."""
    value, source = (given, "--pr") if given is not None else (environ.get("PR_NUMBER"), "PR_NUMBER")
    if not value:
        parser.error("no pull request: pass --pr NUMBER or set PR_NUMBER (empty outside a pull_request event)")
    if not value.isdigit() or int(value) == 0:
        parser.error(f"{source} must be a pull request number, got {value!r}")
    return int(value)


def summary(number: int, result: CommentResult) -> str:
    """The one line printed on success."""
    line = f"{PROG}: {DONE[result.action]} on #{number}: {result.html_url}"
    if result.duplicate_urls:
        line += f" (older comments with the same marker left in place: {', '.join(result.duplicate_urls)})"
    return line


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog=f"python -m tooling.{PROG}", description=__doc__.splitlines()[0])
    parser.add_argument("--pr", help="the pull request number (default: $PR_NUMBER)")
    parser.add_argument("--marker", required=True, help="what identifies this report's comment, e.g. ml-platform:plan")
    parser.add_argument("--body-file", type=Path, required=True, help="the Markdown report to post")
    args = parser.parse_args(argv)
    number = pr_number(parser, args.pr, environ)

    def post() -> str:
        body = read_body(args.body_file)
        return summary(number, GitHubClient.from_environment(environ).upsert_comment(number, body, args.marker))

    return run_command(PROG, post)


if __name__ == "__main__":
    sys.exit(main())

"""Fixtures of the unit tests that talk to a stub GitHub API (tooling.github_api and its commands)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.github_stub import GitHubStub


@pytest.fixture
def github() -> Iterator[GitHubStub]:
    """An empty stub GitHub API serving on 127.0.0.1 for the test (tests/github_stub.py)."""
    stub = GitHubStub()
    with stub.serving():
        yield stub

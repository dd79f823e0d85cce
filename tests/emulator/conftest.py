"""Fixtures for the emulator tests: one shared server, boto3 clients, unique names.

Every test creates its own uniquely named resources, so tests stay independent
while sharing the session server (moto state is process-global anyway).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator import EmulatorServer

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def _client(url: str, service: str) -> Any:
    """A boto3 client for ``service`` at ``url`` with dummy credentials."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="session")  # session-wide, so module fixtures can share one run
def aws(emulator_server: EmulatorServer) -> Callable[[str], Any]:
    """``aws("s3")`` -> a client for the session emulator."""
    return lambda service: _client(emulator_server.url, service)


@pytest.fixture
def client_at() -> Callable[[str, str], Any]:
    """``client_at(server.url, "s3")`` -> a client for another emulator than the session one."""
    return _client


@pytest.fixture(scope="session")
def name() -> Callable[[str], str]:
    """``name("bucket")`` -> a unique, S3-safe resource name."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:12]}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    """``free_port()`` -> a 127.0.0.1 port nothing listens on now (tiny race, fine for tests)."""
    return _free_port


@pytest.fixture
def cli_env() -> dict[str, str]:
    """Environment for ``python -m emulator`` subprocesses run outside the repo root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMULATOR_", "MOTO_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env

"""A fresh emulator per test module, run as its own process through the emulator CLI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.health import is_healthy

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """Start `python -m emulator start` on a free port; SIGTERM it afterwards, whatever happens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "emulator", "start", "--port", str(port), "--ttl-hours", "1"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not is_healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"emulator did not start on {url}")
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def terraform_env(emulator_url: str) -> dict[str, str]:
    """Environment for terraform against the emulator, with the project's CLI config."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")}
    cli_config = REPO / ".terraform.d" / "cli.tfrc"
    if cli_config.exists():  # written by `make setup` when a provider mirror is present
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
               AWS_DEFAULT_REGION="us-east-1", TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
               TF_INPUT="0")
    return env

"""One fresh emulator for the integration session, run as its own process through the
emulator CLI, with every local stack deployed to it by Terraform."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest

from emulator.health import is_healthy
from tests.conftest import Synthesized, load_config, synth_app
from tests.integration.terraform_cli import terraform
from tooling.stack_order import deploy_waves_of

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """Start `python -m emulator start` on a free port; SIGTERM it afterwards, whatever happens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "start", "--port", str(port), "--ttl-hours", "1"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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


@pytest.fixture(scope="session")
def terraform_env(emulator_url: str) -> dict[str, str]:
    """Environment for terraform against the emulator, with the project's CLI config."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")
    }
    cli_config = REPO / ".terraform.d" / "cli.tfrc"
    if cli_config.exists():  # written by `make setup` when a provider mirror is present
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TF_INPUT="0",
    )
    return env


@pytest.fixture(scope="session")
def deployed(emulator_url: str, terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Every local stack, synthesized into a temp dir and applied with terraform.

    The same Terraform JSON `make demo` deploys; the developer's cdktf.out/ and .state/
    stay untouched.
    """
    workdir = tmp_path_factory.mktemp("local-deploy")
    port = str(urlparse(emulator_url).port)
    synth = synth_app(
        load_config("local", EMULATOR_PORT=port, LOCAL_STATE_DIR=str(workdir / "state")), workdir / "cdktf.out"
    )

    def apply(stack: str) -> str | None:
        stack_dir = synth.outdir / "stacks" / stack
        for args in (["init", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
            result = terraform(args, stack_dir, terraform_env)
            if result.returncode != 0:
                return f"terraform {args[0]} {stack}:\n{result.stdout[-3000:]}\n{result.stderr}"
        return None

    # Dependencies first, as cdktf's manifest records them; independent stacks at once, as cdktf deploy does.
    for wave in deploy_waves_of(synth.outdir):
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            failures = [failure for failure in pool.map(apply, wave) if failure]
        assert not failures, "\n".join(failures)
    return synth


@pytest.fixture(scope="session")
def stack_outputs(deployed: Synthesized, terraform_env: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    """`stack_outputs("data-pipeline")` -> that local stack's Terraform outputs."""

    def read(component: str) -> dict[str, Any]:
        stack_dir = deployed.outdir / "stacks" / deployed.config.stack_name(component)
        result = terraform(["output", "-json"], stack_dir, terraform_env)
        return {name: value["value"] for name, value in json.loads(result.stdout).items()}

    return read


@pytest.fixture(scope="session")
def aws(emulator_url: str) -> Callable[[str], Any]:
    """`aws("s3")` -> a boto3 client for the integration emulator."""
    return lambda service: boto3.client(
        service,
        endpoint_url=emulator_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )

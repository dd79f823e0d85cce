"""The integration session's emulator and deploy, started as the test session starts.

A deploy to the emulator takes minutes of wall time but little CPU: the AWS provider waits on the API after
creating resources (a KMS key's propagation checks, ten steady reads of a bucket lifecycle 5 s apart). So the
session-wide autouse fixture in tests/conftest.py starts the emulator and the deploy before the first test when
the session holds integration tests, and collection runs those tests last: the unit tests use the idle CPU while
Terraform waits. `deployed` then joins the deploy; its failures fail every test that needs it, as before.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from tests.conftest import Synthesized, load_config, synth_app

REPO = Path(__file__).resolve().parents[2]
EMULATOR_START_SECONDS = 60
TERRAFORM_TIMEOUT_SECONDS = 900
STOP_GRACE_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalDeployment:
    """One emulator process (`python -m emulator start` on a free 127.0.0.1 port) and every local stack applied
    to it by Terraform, synthesized into the folder `make_workdir` returns (the developer's cdktf.out/ and .state/
    stay untouched).

    Each part starts on first use (`url`, `terraform_env`, `deployed()`), or earlier through `start_deploy()`,
    which synthesizes in the caller's thread (jsii is not thread-safe) and applies in a background thread.
    `stop()` ends whatever started: a running terraform first (SIGTERM, then SIGKILL), then the emulator.
    """

    def __init__(self, make_workdir: Callable[[], Path]) -> None:
        self._make_workdir = make_workdir
        self._emulator: subprocess.Popen[bytes] | None = None
        self._url: str | None = None
        self._deploy: Future[Synthesized] | None = None
        self._stopping = threading.Event()
        self._running: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The emulator's endpoint, e.g. http://127.0.0.1:41234; started (and waited for) on first use."""
        if self._url is None:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            self._emulator = subprocess.Popen(
                [sys.executable, "-m", "emulator", "start", "--port", str(port), "--ttl-hours", "1"],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            from emulator.health import is_healthy

            deadline = time.monotonic() + EMULATOR_START_SECONDS
            while not is_healthy(url):
                if self._emulator.poll() is not None or time.monotonic() > deadline:
                    self._stop_emulator()
                    raise RuntimeError(f"emulator did not start on {url}")
                time.sleep(0.2)
            self._url = url
        return self._url

    @property
    def terraform_env(self) -> dict[str, str]:
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

    def start_deploy(self) -> None:
        """Synthesize every local stack (here, in the caller's thread) and apply them in the background; no-op
        when already started."""
        if self._deploy is not None:
            return
        background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="integration-deploy")
        try:
            port, workdir = str(urlparse(self.url).port), self._make_workdir()
            synth = synth_app(
                load_config("local", EMULATOR_PORT=port, LOCAL_STATE_DIR=str(workdir / "state")), workdir / "cdktf.out"
            )
        except Exception as exc:  # noqa: BLE001 - raised again by deployed(), to the tests that need the deploy
            self._deploy = Future()
            self._deploy.set_exception(exc)
            return
        self._deploy = background.submit(self._apply_all, synth, self.terraform_env)
        background.shutdown(wait=False)  # the submitted deploy still runs to its end

    def deployed(self) -> Synthesized:
        """The synthesized app once every stack is applied; AssertionError with terraform's output otherwise."""
        self.start_deploy()
        assert self._deploy is not None
        return self._deploy.result()

    def _apply_all(self, synth: Synthesized, env: dict[str, str]) -> Synthesized:
        from tooling.stack_order import deploy_waves_of

        def apply(stack: str) -> str | None:
            stack_dir = synth.outdir / "stacks" / stack
            for args in (["init", "-no-color"], ["apply", "-auto-approve", "-no-color"]):
                returncode, stdout, stderr = self._terraform(args, stack_dir, env)
                if returncode != 0:
                    return f"terraform {args[0]} {stack}:\n{stdout[-3000:]}\n{stderr}"
            return None

        # Dependencies first, as cdktf's manifest records them; independent stacks at once, as cdktf deploy does.
        for wave in deploy_waves_of(synth.outdir):
            with ThreadPoolExecutor(max_workers=len(wave)) as pool:
                failures = [failure for failure in pool.map(apply, wave) if failure]
            assert not failures, "\n".join(failures)
        return synth

    def _terraform(self, args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
        """`terraform <args>` in `cwd`, registered so that `stop()` can end it."""
        with self._lock:
            if self._stopping.is_set():
                return 1, "", "the test session stopped before this command ran"
            process = subprocess.Popen(
                ["terraform", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            self._running.add(process)
        try:
            stdout, stderr = process.communicate(timeout=TERRAFORM_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            stderr += f"\n(killed after {TERRAFORM_TIMEOUT_SECONDS} s)"
        finally:
            with self._lock:
                self._running.discard(process)
        return process.returncode, stdout, stderr

    def stop(self) -> None:
        """End a deploy still running (its terraform gets SIGTERM, SIGKILL if it has not ended within
        STOP_GRACE_SECONDS), then SIGTERM the emulator."""
        with self._lock:
            self._stopping.set()
            running = list(self._running)
        for process in running:
            process.terminate()
        if self._deploy is not None:
            try:
                self._deploy.exception(timeout=STOP_GRACE_SECONDS)  # its failure went to the tests that needed it
            except TimeoutError:
                with self._lock:
                    running = list(self._running)
                for process in running:
                    process.kill()
                self._deploy.exception()
        self._stop_emulator()

    def _stop_emulator(self) -> None:
        if self._emulator is None:
            return
        self._emulator.send_signal(signal.SIGTERM)
        try:
            self._emulator.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._emulator.kill()
            self._emulator.wait()
        self._emulator = None

"""``python -m emulator``: detach/status/stop, idempotency, signals, TTL, errors.

Each test runs the CLI in its own temporary "repo root"; the ``cli`` fixture
kills every process whose working directory is that root when the test ends,
so a failing test never leaves an emulator behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from emulator.health import is_healthy

Run = Callable[..., subprocess.CompletedProcess[str]]


def _processes_in(directory: Path) -> list[int]:
    """Pids whose current directory is ``directory`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(entry / "cwd")) == directory:
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A scratch repo root; anything still running in it afterwards is killed."""
    root = tmp_path.resolve()
    try:
        yield root
    finally:
        for pid in _processes_in(root):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def cli(repo: Path, cli_env: dict[str, str]) -> Run:
    """``cli("start", "--detach", env={...})`` -> the finished ``python -m emulator`` process."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "emulator", *args],
            cwd=repo,
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def _pid_file(repo: Path) -> Path:
    return repo / ".emulator" / "emulator.pid"


def test_detach_status_idempotent_start_and_stop(cli: Run, repo: Path, free_port: Callable[[], int]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stale_state = repo / "state" / "local"
    stale_state.mkdir(parents=True)
    (stale_state / "terraform.tfstate").write_text("{}")

    started = cli("start", "--detach", "--reset-dir", "state/local", env={"EMULATOR_PORT": str(port)})
    assert started.returncode == 0, started.stderr
    assert url in started.stdout.splitlines()[-1]
    assert "deleting stale local state" in started.stdout
    assert not stale_state.exists()
    pid = int(_pid_file(repo).read_text())
    assert (repo / ".emulator" / "emulator.port").read_text().strip() == str(port)
    assert (repo / ".emulator" / "emulator.log").exists()

    # The detached emulator carries the patches (managed policies are loaded).
    iam = boto3.client(
        "iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]["PolicyName"]

    status = cli("status")
    assert status.returncode == 0
    assert f"running at {url} (pid {pid})" in status.stdout

    stale_state.mkdir(parents=True)
    again = cli("start", "--detach", "--port", str(port), "--reset-dir", "state/local")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    assert stale_state.exists(), "an already running emulator must not reset state"
    assert int(_pid_file(repo).read_text()) == pid

    stopped = cli("stop")
    assert stopped.returncode == 0
    assert f"stopped (pid {pid})" in stopped.stdout
    assert not is_healthy(url, timeout=0.5)
    assert not _pid_file(repo).exists()

    after = cli("status")
    assert after.returncode == 1
    assert "not running" in after.stdout
    stopped_again = cli("stop")
    assert stopped_again.returncode == 0
    assert "not running" in stopped_again.stdout


def test_foreground_exits_cleanly_on_sigterm(repo: Path, cli_env: dict[str, str], free_port: Callable[[], int]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "start", "--port", str(port)],
        cwd=repo,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not is_healthy(f"http://127.0.0.1:{port}", timeout=0.5):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "emulator did not start"
            time.sleep(0.1)
        assert not _pid_file(repo).exists(), "a foreground emulator belongs to its caller, unrecorded"
        process.send_signal(signal.SIGTERM)
        stdout, _stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "received SIGTERM" in stdout
    assert "stopped" in stdout.splitlines()[-1]
    assert not _pid_file(repo).exists()


def test_ttl_stops_a_forgotten_emulator(cli: Run, free_port: Callable[[], int]) -> None:
    finished = cli("start", "--port", str(free_port()), "--ttl-hours", "0.0004", timeout=30)  # ~1.4 s
    assert finished.returncode == 0, finished.stderr
    assert "time limit of 0.0004 h reached" in finished.stdout


@pytest.mark.parametrize("mode", [["--detach"], []])
def test_port_taken_by_something_else_is_one_line_error(cli: Run, repo: Path, mode: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("start", "--port", str(port), *mode)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert f"port {port}" in result.stderr
    assert not _pid_file(repo).exists()


def test_stale_pid_file_means_not_running(cli: Run, repo: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    (repo / ".emulator").mkdir()
    _pid_file(repo).write_text(f"{dead.pid}\n")
    (repo / ".emulator" / "emulator.port").write_text("4566\n")

    status = cli("status")
    assert status.returncode == 1
    assert "not running" in status.stdout
    assert not _pid_file(repo).exists()


def test_foreground_on_another_port_leaves_the_detached_record_alone(
    cli: Run, repo: Path, cli_env: dict[str, str], free_port: Callable[[], int]
) -> None:
    """A test fixture's emulator must not hijack (or be refused by) the developer's one."""
    detached_port, foreground_port = free_port(), free_port()
    assert cli("start", "--detach", "--port", str(detached_port)).returncode == 0
    recorded = _pid_file(repo).read_text()

    finished = cli("start", "--port", str(foreground_port), "--ttl-hours", "0.0002", timeout=30)
    assert finished.returncode == 0, finished.stderr
    assert f"listening on http://127.0.0.1:{foreground_port}" in finished.stdout
    assert _pid_file(repo).read_text() == recorded
    assert cli("status").returncode == 0

    refused = cli("start", "--detach", "--port", str(foreground_port))
    assert refused.returncode == 1
    assert f"already runs on port {detached_port}" in refused.stderr
    assert cli("stop").returncode == 0


def test_failed_detached_start_reports_the_log_tail(
    monkeypatch: pytest.MonkeyPatch, repo: Path, free_port: Callable[[], int], capsys: pytest.CaptureFixture[str]
) -> None:
    from emulator import cli as emulator_cli
    from emulator.state import StateFiles

    def spawn_crashing_child(files: StateFiles, port: int, ttl_hours: float) -> subprocess.Popen[bytes]:
        files.directory.mkdir(parents=True, exist_ok=True)
        with files.log_file.open("wb") as log:
            script = "import sys; print('Traceback: boom'); sys.exit(3)"
            return subprocess.Popen([sys.executable, "-c", script], stdout=log, stderr=subprocess.STDOUT)

    monkeypatch.chdir(repo)
    monkeypatch.setattr(emulator_cli, "spawn_detached", spawn_crashing_child)
    port = free_port()
    assert emulator_cli.main(["start", "--detach", "--port", str(port)]) == 1
    error = capsys.readouterr().err
    assert f"failed to start on port {port}: the emulator process exited with code 3" in error
    assert "Traceback: boom" in error
    assert not _pid_file(repo).exists()


def test_reset_dir_may_not_contain_the_repository(cli: Run, repo: Path, free_port: Callable[[], int]) -> None:
    refused = cli("start", "--detach", "--port", str(free_port()), "--reset-dir", ".")
    assert refused.returncode == 1
    assert "contains the repository" in refused.stderr
    assert repo.exists() and not _pid_file(repo).exists()

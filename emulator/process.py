"""Start an emulator in a detached process, wait for it, and stop it again.

Why a separate process rather than a fork of the CLI: the detached emulator
must outlive the shell command (``make emulator``), so it runs in its own
session with output in ``.emulator/emulator.log``. The child is a plain
foreground ``python -m emulator start``; the CLI records it in the state
files once it answers the health check.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from emulator.health import is_healthy
from emulator.state import Record, StateFiles, pid_alive

PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class StartupError(RuntimeError):
    """A detached emulator did not become healthy; the message says why."""


def log_tail(files: StateFiles, lines: int = 20) -> str:
    """Last ``lines`` lines (default 20) of the emulator log, or a placeholder."""
    try:
        text = files.log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def spawn_detached(files: StateFiles, port: int, ttl_hours: float) -> subprocess.Popen[bytes]:
    """Launch ``python -m emulator start`` in its own session, logging to the log file."""
    files.directory.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_PARENT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "emulator", "start", "--port", str(port), "--ttl-hours", str(ttl_hours)]
    with files.log_file.open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=files.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    """Wait (default 30 s) until ``process`` answers the health check on ``port``.

    Raises ``StartupError`` if it exits or times out (a timed-out process is killed).
    """
    url = Record(pid=process.pid, port=port).url
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise StartupError(f"the emulator process exited with code {code}")
        if is_healthy(url, timeout=1.0) and process.poll() is None:
            return
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    raise StartupError(f"the emulator did not answer on port {port} within {timeout:.0f} s")


def terminate(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM ``pid``, wait up to ``timeout`` seconds (default 10), then SIGKILL.

    Returns True if the process ended on SIGTERM, False if it had to be killed.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    kill_deadline = time.monotonic() + 5.0
    while pid_alive(pid) and time.monotonic() < kill_deadline:
        time.sleep(0.05)
    return False

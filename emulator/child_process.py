"""Run local child processes the way the emulator's runtimes need: own process group, deadline, live logs.

Shared by the Lambda runner (``emulator.lambda_runtime.runner``) and the SageMaker job runner
(``emulator.sagemaker_pipelines.jobs``). ``ProcessGroups.run`` starts one child in its own process
group (stdin closed), pumps its stdout (and stderr, merged or apart) line by line to callbacks while
it runs, waits until it exits or its timeout passes, then SIGKILLs the whole group, so nothing the
child started outlives it. ``close()`` kills every running child and refuses new ones: the
emulator is stopping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LineSink = Callable[[str], None]
"""``sink(line)``: called with each output line (no line ending) as the child writes it."""

# Environment names a runtime never takes from user configuration (a function's or a job's
# Environment): they would point the child at something other than the emulator, or at real AWS.
STRIPPED_ENV_PREFIXES = ("AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_CA_BUNDLE")
DUMMY_ACCESS_KEY = "test"  # what the emulator accepts as any identity's key id and secret


def no_local_aws_config(home: Path) -> dict[str, str]:
    """Environment that keeps a child's AWS SDK away from the machine's own configuration: config and
    credential files under `home` that do not exist, no instance metadata lookups."""
    return {
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def emulator_access(endpoint_url: str, region: str) -> dict[str, str]:
    """Environment with which a child (a Lambda handler, a pipeline job) reaches AWS as its role here: the
    emulator's endpoint and dummy keys, in `region`. (On AWS the role's temporary credentials come from the
    runtime instead.)"""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DUMMY_ACCESS_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


@dataclass(frozen=True)
class ProcessOutcome:
    """How a child ended: ``exit_code`` is negative for a signal; ``timed_out`` when the deadline killed it."""

    exit_code: int
    timed_out: bool

    def describe(self) -> str:
        """``exit status 1`` or ``signal: SIGKILL``, as AWS runtimes word it."""
        if self.exit_code < 0:
            return f"signal: {signal.Signals(-self.exit_code).name}"
        return f"exit status {self.exit_code}"


class ProcessGroups:
    """Children started in their own process groups; ``close()`` kills them all and refuses new ones."""

    def __init__(self) -> None:
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called (a child killed then ended because of it)."""
        return self._closed

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float | None,
        stdout: LineSink,
        stderr: LineSink | None = None,
        label: str = "child",
    ) -> ProcessOutcome | None:
        """Run ``argv`` to the end (or ``timeout`` seconds); None if closed before it could start.

        ``stderr=None`` merges stderr into ``stdout``. The group is killed after every run.
        """
        started = time.monotonic()
        process = self._spawn(argv, cwd, env, merge_stderr=stderr is None)
        if process is None:
            return None
        readers = [threading.Thread(target=_pump, args=(process.stdout, stdout), daemon=True, name=f"{label}-out")]
        if stderr is not None:
            readers.append(
                threading.Thread(target=_pump, args=(process.stderr, stderr), daemon=True, name=f"{label}-err")
            )
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            deadline = None if timeout is None else started + timeout
            timed_out = not _wait_without_reaping(process.pid, deadline)
        finally:
            _kill_group(process.pid)
            with self._lock:
                self._processes.pop(process.pid, None)
            exit_code = _reap(process)
            for reader in readers:
                reader.join(timeout=2)
        return ProcessOutcome(exit_code, timed_out)

    def _spawn(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], merge_stderr: bool
    ) -> subprocess.Popen[bytes] | None:
        with self._lock:  # under the lock: close() either sees this child or prevents it
            if self._closed:
                return None
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                start_new_session=True,
            )
            self._processes[process.pid] = process
            return process

    def running(self) -> list[int]:
        """Process ids of the children running now."""
        with self._lock:
            return list(self._processes)

    def close(self) -> None:
        """Refuse new children and kill the running ones' groups (their ``run`` returns at once)."""
        with self._lock:
            self._closed = True
            pids = list(self._processes)
        for pid in pids:
            _kill_group(pid)


def _pump(stream: IO[bytes] | None, sink: LineSink) -> None:
    if stream is None:
        return
    with stream:
        for raw in stream:
            sink(raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def _wait_without_reaping(pid: int, deadline: float | None) -> bool:
    """Wait until ``pid`` exits (True) or ``deadline`` passes (False); leave it a zombie.

    Not reaping keeps the process group id reserved, so killing the group
    afterwards cannot hit an unrelated process that reused the number.
    """
    pause = 0.001
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        remaining = 0.02 if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 0.02)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(process: subprocess.Popen[bytes]) -> int:
    """Reap the (exited or killed) process and return its exit code (negative: signal)."""
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # unkillable (uninterruptible sleep): leave it to Popen's finaliser
        return -signal.SIGKILL


__all__ = [
    "DUMMY_ACCESS_KEY",
    "STRIPPED_ENV_PREFIXES",
    "LineSink",
    "ProcessGroups",
    "ProcessOutcome",
    "emulator_access",
    "no_local_aws_config",
]

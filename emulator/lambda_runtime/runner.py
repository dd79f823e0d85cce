"""Run one Lambda invocation of a deployed zip in a fresh Python subprocess.

Independent of moto: ``LocalLambdaRunner.invoke(FunctionSpec, event_json)``
returns an ``InvocationResult`` (payload, function error, log lines). The
moto glue lives in ``emulator.patches.lambda_runtime``.

How a function runs:

* the zip is extracted once per code sha256 into ``<work_dir>/code/<sha256>/``
  (the Lambda ``/var/task``; file modes from the zip are kept);
* ``sys.executable -I -B bootstrap.py <work_dir>/invocations/<request id>/`` runs
  with that directory as cwd and first on ``sys.path``, in its own process
  group, stdin closed, stdout+stderr piped (the handler's log);
* the environment is built from scratch (nothing of the emulator's own
  environment leaks in): the function's variables, then AWS's reserved ones
  (``AWS_REGION``, ``AWS_LAMBDA_*``, dummy credentials ``test``/``test``) and
  ``AWS_ENDPOINT_URL`` = the emulator, with ``AWS_CONFIG_FILE`` and
  ``AWS_SHARED_CREDENTIALS_FILE`` pointing at files that do not exist;
* the function's ``Timeout`` covers the whole process: when it passes, the
  process group is killed (SIGKILL) and the result is ``Sandbox.Timedout``;
  the group is also killed after a normal exit, so nothing the handler started
  outlives the invocation.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from emulator.child_process import STRIPPED_ENV_PREFIXES, ProcessGroups, emulator_access, no_local_aws_config

BOOTSTRAP = Path(__file__).resolve().with_name("bootstrap.py")
LOG_RESULT_BYTES = 4096  # what X-Amz-Log-Result carries on AWS: the last 4 KB


LogSink = Callable[[str, str], None]
"""``sink(function_name, line)``: where each log line goes as it is produced."""


@dataclass(frozen=True)
class FunctionSpec:
    """What the runner needs to know about one function (version)."""

    name: str
    arn: str
    version: str
    region: str
    handler: str
    runtime: str
    timeout: float
    memory_mb: int
    environment: Mapping[str, str]
    code: bytes
    log_group: str


@dataclass
class InvocationResult:
    """Outcome of one invocation; ``error`` is set for a function error."""

    request_id: str
    payload: bytes
    error: dict[str, Any] | None
    log_stream: str
    log_events: list[tuple[int, str]] = field(default_factory=list)

    @property
    def errored(self) -> bool:
        return self.error is not None

    def log_tail(self, limit: int = LOG_RESULT_BYTES) -> str:
        """The last ``limit`` bytes of the log, as ``X-Amz-Log-Result`` carries them."""
        text = "".join(f"{message}\n" for _, message in self.log_events).encode("utf-8")
        return text[-limit:].decode("utf-8", errors="ignore")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _error_result(request_id: str, stream: str, error_type: str, message: str) -> InvocationResult:
    error = {"errorMessage": message, "errorType": error_type}
    return InvocationResult(request_id, json.dumps(error).encode("utf-8"), error, stream)


class LocalLambdaRunner:
    """Runs Python Lambda handlers from their zips; one subprocess per invocation.

    ``work_dir`` is owned by the caller (created if missing, never deleted
    here); ``endpoint_url`` is what handlers get as ``AWS_ENDPOINT_URL`` and
    the only address their sockets may reach.
    """

    def __init__(
        self, work_dir: Path, endpoint_url: str, sink: LogSink | None = None, python: str | None = None
    ) -> None:
        self.work_dir = Path(work_dir)
        self.endpoint_url = endpoint_url.rstrip("/")
        parts = urlsplit(self.endpoint_url)
        self._endpoint_host = parts.hostname or "127.0.0.1"
        self._endpoint_port = parts.port or 80
        self._sink = sink
        self.python = python or sys.executable
        self._code_root = self.work_dir / "code"
        self._invocation_root = self.work_dir / "invocations"
        self._home = self.work_dir / "home"
        for directory in (self._code_root, self._invocation_root, self._home):
            directory.mkdir(parents=True, exist_ok=True)
        self._extract_lock = threading.Lock()
        self._children = ProcessGroups()

    # -- code cache -------------------------------------------------------

    def code_dir(self, code: bytes) -> Path:
        """Directory holding the extracted zip (cached by sha256). Raises ``zipfile.BadZipFile``."""
        import hashlib

        target = self._code_root / hashlib.sha256(code).hexdigest()
        with self._extract_lock:
            if target.is_dir():
                return target
            partial = Path(tempfile.mkdtemp(prefix=".extract-", dir=self._code_root))
            try:
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    for info in archive.infolist():
                        path = archive.extract(info, partial)  # strips absolute paths and ".."
                        mode = (info.external_attr >> 16) & 0o777
                        if mode and not info.is_dir():
                            os.chmod(path, mode | 0o400)
                os.replace(partial, target)
            except BaseException:
                _remove_tree(partial)
                raise
            return target

    # -- invocation -------------------------------------------------------

    def environment(self, spec: FunctionSpec, code_dir: Path, log_stream: str) -> dict[str, str]:
        """The handler's environment: built from scratch, reserved names last."""
        env = {key: str(value) for key, value in spec.environment.items() if not key.startswith(STRIPPED_ENV_PREFIXES)}
        env.update(
            {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "TZ": "UTC",
                "HOME": str(self._home),
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
                "_HANDLER": spec.handler,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                **emulator_access(self.endpoint_url, spec.region),
                **no_local_aws_config(self._home),
            }
        )
        env.pop("AWS_SESSION_TOKEN", None)
        return env

    def invoke(self, spec: FunctionSpec, event_json: str) -> InvocationResult:
        """Run the handler once with ``event_json`` (JSON text); never raises for handler problems."""
        request_id = str(uuid.uuid4())
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        if not spec.runtime.startswith("python"):
            return _error_result(
                request_id,
                stream,
                "Runtime.Unsupported",
                f"the emulator runs Python functions only, not {spec.runtime!r}",
            )
        try:
            code_dir = self.code_dir(spec.code)
        except (zipfile.BadZipFile, OSError) as exc:
            return _error_result(
                request_id, stream, "Runtime.InvalidZipFile", f"cannot extract the function's code: {exc}"
            )

        invocation_dir = self._invocation_root / request_id
        invocation_dir.mkdir()
        try:
            return self._run(spec, event_json, request_id, stream, code_dir, invocation_dir)
        finally:
            _remove_tree(invocation_dir)

    def _run(
        self, spec: FunctionSpec, event_json: str, request_id: str, stream: str, code_dir: Path, invocation_dir: Path
    ) -> InvocationResult:
        events: list[tuple[int, str]] = []

        def emit(line: str) -> None:
            events.append((_now_ms(), line))
            if self._sink is not None:
                self._sink(spec.name, line)

        started = time.monotonic()
        deadline_ms = _now_ms() + int(spec.timeout * 1000)
        (invocation_dir / "event.json").write_text(event_json, encoding="utf-8")
        invocation = {
            "request_id": request_id,
            "code_dir": str(code_dir),
            "handler": spec.handler,
            "function_name": spec.name,
            "function_version": spec.version,
            "invoked_function_arn": spec.arn,
            "memory_limit_in_mb": spec.memory_mb,
            "log_group_name": spec.log_group,
            "log_stream_name": stream,
            "deadline_ms": deadline_ms,
            "endpoint_host": self._endpoint_host,
            "endpoint_port": self._endpoint_port,
        }
        (invocation_dir / "invocation.json").write_text(json.dumps(invocation), encoding="utf-8")

        emit(f"START RequestId: {request_id} Version: {spec.version}")
        outcome = self._children.run(
            [self.python, "-I", "-B", str(BOOTSTRAP), str(invocation_dir)],
            cwd=code_dir,
            env=self.environment(spec, code_dir, stream),
            timeout=spec.timeout - (time.monotonic() - started),
            stdout=emit,
            label=f"lambda-log-{spec.name}",
        )
        if outcome is None:
            return _error_result(request_id, stream, "Runtime.ExitError", "the emulator is shutting down")
        timed_out = outcome.timed_out
        duration_ms = (time.monotonic() - started) * 1000
        result_file = invocation_dir / "result.json"
        if timed_out:
            message = f"Task timed out after {spec.timeout:.2f} seconds"
            emit(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + f"Z {request_id} {message}")
            result = _error_result(request_id, stream, "Sandbox.Timedout", f"RequestId: {request_id} Error: {message}")
        elif result_file.is_file():
            written = json.loads(result_file.read_text(encoding="utf-8"))
            if "error" in written:
                error = written["error"]
                result = InvocationResult(request_id, json.dumps(error).encode("utf-8"), error, stream)
            else:
                result = InvocationResult(request_id, written["payload"].encode("utf-8"), None, stream)
        else:
            result = _error_result(
                request_id,
                stream,
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: {outcome.describe()}",
            )

        emit(f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {spec.memory_mb} MB"
        )
        emit(report + ("\tStatus: timeout" if timed_out else ""))
        result.log_events = events
        return result

    def running(self) -> list[int]:
        """Process ids of the invocations running now."""
        return self._children.running()

    def close(self) -> None:
        """Refuse new invocations and kill the running ones (their callers get an error)."""
        self._children.close()


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def log_to(logger: logging.Logger) -> LogSink:
    """A sink writing ``[function] line`` at INFO to ``logger``."""

    def sink(function_name: str, line: str) -> None:
        logger.info("[%s] %s", function_name, line)

    return sink


__all__ = ["BOOTSTRAP", "FunctionSpec", "InvocationResult", "LocalLambdaRunner", "log_to"]

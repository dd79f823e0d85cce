"""Lambda functions really run: the deployed zip's Python handler, in a local subprocess.

moto gap: ``moto/awslambda/models.py`` ``LambdaFunction._invoke_lambda`` runs code
only in Docker (no engine here: every invocation is a "error running docker"
function error), and ``LambdaFunction.invoke`` answers every invocation type
synchronously, reports errors as ``X-Amz-Function-Error: Handled`` and makes
``moto/s3/notifications.py`` ``_invoke_awslambda`` block PutObject until the
function ends.

The patch replaces

* ``LambdaFunction._invoke_lambda``: runs the handler with
  ``emulator.lambda_runtime.LocalLambdaRunner`` (zip cached by sha256 under a
  temporary directory owned by this extension, fresh ``sys.executable``
  process, function environment + ``AWS_ENDPOINT_URL`` = the emulator, dummy
  credentials, ``Timeout`` enforced by killing the process group); the log goes
  to the emulator's log (logger ``emulator.lambda``, ``[function] line``) and,
  when the group ``/aws/lambda/<name>`` exists, to CloudWatch Logs (one stream
  per invocation; nothing is created when the group is missing);
* ``LambdaFunction.invoke``: ``RequestResponse`` returns the handler's JSON,
  a function error sets ``X-Amz-Function-Error: Unhandled`` with AWS's
  ``{errorMessage, errorType, requestId, stackTrace}`` payload, ``Event``
  queues the event and returns 202 at once, ``DryRun`` runs nothing;
* ``moto.s3.notifications._invoke_awslambda``: S3 event notifications are
  queued like ``Event`` invocations instead of running on the request thread.

Asynchronous events run on ``emulator.lambda_runtime.AsyncInvoker``: a
function error is retried (``EMULATOR_LAMBDA_RETRY_DELAYS``, default ``1,2``
seconds, capped by the function's EventInvokeConfig ``MaximumRetryAttempts``),
then the event goes to the function's ``DeadLetterConfig`` target (SQS queue
or SNS topic, stored on the function by ``lambda_dead_letter``) with the
message attributes ``RequestID``, ``ErrorCode``, ``ErrorMessage`` as on AWS.
Step Functions' ``arn:aws:states:::lambda:invoke`` calls the Invoke API, so a
function error there is a task failure named after ``errorType``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.extension import Patch, PatchExtension
from emulator.lambda_runtime.async_invoker import AsyncInvoker, AsyncJob, AsyncSettings
from emulator.lambda_runtime.runner import FunctionSpec, InvocationResult, LocalLambdaRunner, log_to
from emulator.log_output import LogOutput

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

LOGGER = logging.getLogger("emulator.lambda")
DEAD_LETTER_ATTRIBUTE = "_emulator_dead_letter_config"  # set by emulator.patches.lambda_dead_letter
ERROR_MESSAGE_LIMIT = 1024  # AWS puts the first 1 KB of the error message on a dead-lettered event
SHUTDOWN_WAIT_SECONDS = 5.0


def _header(headers: Any, name: str) -> str | None:
    """Case-insensitive header lookup in werkzeug headers or a plain dict."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _event_text(event: Any) -> str:
    """The event as JSON text, whether moto passed text, bytes or a parsed object."""
    if event is None:
        return "{}"
    if isinstance(event, bytes):
        event = event.decode("utf-8")
    if isinstance(event, str):
        if not event.strip():
            return "{}"
        try:
            json.loads(event)
            return event
        except ValueError:
            return json.dumps(event)
    return json.dumps(event)


def function_spec(function: Any) -> FunctionSpec:
    """What the runner needs from a moto ``LambdaFunction``."""
    return FunctionSpec(
        name=function.function_name,
        arn=function.function_arn,
        version=str(function.version),
        region=function.region,
        handler=function.handler or "",
        runtime=function.run_time or "",
        timeout=float(function.timeout or 3),
        memory_mb=int(function.memory_size or 128),
        environment=dict(function.environment_vars or {}),
        code=getattr(function, "code_bytes", b"") or b"",
        log_group=f"/aws/lambda/{function.function_name}",
    )


def _write_cloudwatch(function: Any, result: InvocationResult) -> None:
    """Put the invocation's log lines in ``/aws/lambda/<name>`` if that group exists."""
    backend = function.logs_backend
    group = f"/aws/lambda/{function.function_name}"
    if group not in backend.groups or not result.log_events:
        return
    try:
        backend.ensure_log_stream(group, result.log_stream)
        events = [{"timestamp": timestamp, "message": message} for timestamp, message in result.log_events]
        backend.put_log_events(group, result.log_stream, events)
    except Exception:  # the group may vanish meanwhile; logs are best effort
        LOGGER.warning("[%s] could not write CloudWatch logs to %s", function.function_name, group, exc_info=True)


def _max_retries(function: Any) -> int | None:
    configs = getattr(function, "event_invoke_config", None) or []
    if configs:
        value = configs[0].config.get("MaximumRetryAttempts")
        return None if value is None else int(value)
    return None


def dead_letter(function: Any, event_json: str, error: dict[str, Any]) -> None:
    """Send a failed asynchronous event to the function's DeadLetterConfig target, like AWS."""
    config = getattr(function, DEAD_LETTER_ATTRIBUTE, None) or {}
    target = config.get("TargetArn")
    if not target:
        LOGGER.info("[%s] no DeadLetterConfig: event dropped", function.function_name)
        return
    request_id = str(error.get("requestId", ""))
    message = str(error.get("errorMessage", ""))[:ERROR_MESSAGE_LIMIT]
    parts = target.split(":")
    service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
    try:
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            attributes = {
                "RequestID": {"DataType": "String", "StringValue": request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message or "(none)"},
            }
            sqs_backends[account][region].send_message(resource, event_json, message_attributes=attributes)
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_attributes = {
                "RequestID": {"Type": "String", "Value": request_id},
                "ErrorCode": {"Type": "Number", "Value": "200"},
                "ErrorMessage": {"Type": "String", "Value": message or "(none)"},
            }
            sns_backends[account][region].publish(event_json, arn=target, message_attributes=sns_attributes)
        else:
            LOGGER.warning("[%s] unsupported DeadLetterConfig target %s: event dropped", function.function_name, target)
            return
    except Exception:
        LOGGER.warning("[%s] could not deliver to dead-letter target %s", function.function_name, target, exc_info=True)
        return
    LOGGER.info("[%s] event sent to dead-letter target %s (request %s)", function.function_name, target, request_id)


WORK_DIR_PREFIX = "emulator-lambda-"
OWNER_FILE = "owner.pid"


def remove_stale_work_dirs(root: Path) -> list[Path]:
    """Delete work directories left by emulators that died without uninstalling (e.g. SIGKILL)."""
    removed = []
    for candidate in root.glob(f"{WORK_DIR_PREFIX}*"):
        try:
            owner = int((candidate / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being created
        try:
            os.kill(owner, 0)
            continue  # its emulator is alive
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(candidate, ignore_errors=True)
        removed.append(candidate)
    return removed


class LocalLambdaRuntime(PatchExtension):
    """Run deployed Python zips in subprocesses instead of Docker; async events on a worker pool."""

    name = "local-lambda-runtime"
    # Failed asynchronous events go to the DeadLetterConfig that lambda-dead-letter-config keeps on
    # the function (DEAD_LETTER_ATTRIBUTE); without it every such event would be dropped.
    requires = ("lambda-dead-letter-config",)

    def __init__(self, settings: AsyncSettings | None = None) -> None:
        super().__init__()
        self._settings = settings
        self._runner: LocalLambdaRunner | None = None
        self._invoker: AsyncInvoker | None = None
        self._work_dir: Path | None = None
        self._log_output = LogOutput(LOGGER, "lambda")
        self._local = threading.local()

    @property
    def runner(self) -> LocalLambdaRunner | None:
        """The runner while installed (tests inspect its running processes)."""
        return self._runner

    @property
    def invoker(self) -> AsyncInvoker | None:
        """The asynchronous worker pool while installed."""
        return self._invoker

    # -- moto replacements -------------------------------------------------

    def _run(self, function: Any, event: Any = None) -> tuple[str, bool, str]:
        """Replacement for ``LambdaFunction._invoke_lambda``: (payload, errored, log tail)."""
        runner = self._runner
        if runner is None:
            error = {"errorMessage": "the local Lambda runtime is not running", "errorType": "Runtime.Unavailable"}
            return json.dumps(error), True, ""
        result = runner.invoke(function_spec(function), _event_text(event))
        self._local.last_result = result
        _write_cloudwatch(function, result)
        return result.payload.decode("utf-8"), result.errored, result.log_tail()

    def _invoke(self, function: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        """Replacement for ``LambdaFunction.invoke`` (the Invoke API and moto's internal callers)."""
        from moto.awslambda.exceptions import LambdaClientError

        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        if body is None or (isinstance(body, str) and not body.strip()):
            event_json = "{}"
        elif isinstance(body, str):
            try:
                json.loads(body)
            except ValueError as exc:
                raise LambdaClientError(
                    "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
                ) from exc
            event_json = body
        else:
            event_json = json.dumps(body)
        invocation_type = _header(request_headers, "x-amz-invocation-type") or "RequestResponse"
        if invocation_type == "Event":
            self.submit(function, event_json)
            return b""
        if invocation_type == "DryRun":
            return b""
        payload, errored, logs = function._invoke_lambda(event=event_json)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-executed-version"] = str(function.version)
        response_headers["x-amz-log-result"] = base64.b64encode(logs.encode("utf-8")).decode("ascii")
        return payload.encode("utf-8")

    def _s3_notification(self, account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        """Replacement for ``moto.s3.notifications._invoke_awslambda``: queue, do not block PutObject."""
        from moto.awslambda.exceptions import LambdaClientError
        from moto.awslambda.utils import get_backend

        try:
            function = get_backend(account_id, region_name).get_function(fn_arn)
        except (LambdaClientError, ValueError, KeyError):  # missing function: S3 drops the event, as moto does
            LOGGER.info("S3 notification for missing function %s dropped", fn_arn)
            return
        self.submit(function, json.dumps(event_body))

    # -- asynchronous invocations -------------------------------------------

    def submit(self, function: Any, event_json: str) -> bool:
        """Queue an asynchronous invocation of ``function``; False when not running."""
        invoker = self._invoker
        if invoker is None:
            return False

        def attempt() -> dict[str, Any] | None:
            self._local.last_result = None
            payload, errored, _ = function._invoke_lambda(event=event_json)
            if not errored:
                return None
            try:
                error = json.loads(payload)
            except ValueError:
                error = {"errorMessage": payload, "errorType": "Unknown"}
            error = error if isinstance(error, dict) else {"errorMessage": str(error), "errorType": "Unknown"}
            last: InvocationResult | None = getattr(self._local, "last_result", None)
            if last is not None:
                error.setdefault("requestId", last.request_id)
            return error

        job = AsyncJob(
            label=function.function_name,
            attempt=attempt,
            on_failure=lambda error: dead_letter(function, event_json, error),
            max_retries=_max_retries(function),
        )
        if not invoker.submit(job):
            LOGGER.warning("[%s] emulator stopping: asynchronous event dropped", function.function_name)
            return False
        return True

    # -- extension ----------------------------------------------------------

    def patches(self) -> Sequence[Patch]:
        import moto.s3.notifications as s3_notifications
        from moto.awslambda.models import LambdaFunction

        runtime = self

        def _invoke_lambda(function: Any, event: Any = None) -> tuple[str, bool, str]:
            return runtime._run(function, event)

        def invoke(function: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            return runtime._invoke(function, body, request_headers, response_headers)

        replacements: list[tuple[Any, str, Callable[..., Any]]] = [
            (LambdaFunction, "_invoke_lambda", _invoke_lambda),
            (LambdaFunction, "invoke", invoke),
            (s3_notifications, "_invoke_awslambda", runtime._s3_notification),
        ]
        return tuple(Patch.replace(owner, attribute, value) for owner, attribute, value in replacements)

    def on_install(self, server: EmulatorServer) -> None:
        remove_stale_work_dirs(Path(tempfile.gettempdir()))
        self._work_dir = Path(tempfile.mkdtemp(prefix=WORK_DIR_PREFIX))
        (self._work_dir / OWNER_FILE).write_text(str(os.getpid()))
        self._log_output.attach()
        self._runner = LocalLambdaRunner(self._work_dir, server.url, sink=log_to(LOGGER))
        self._invoker = AsyncInvoker(self._settings or AsyncSettings.from_env())

    def on_uninstall(self) -> None:
        invoker, self._invoker = self._invoker, None
        runner, self._runner = self._runner, None
        if invoker is not None:
            dropped = invoker.shutdown()
            if dropped:
                LOGGER.info("emulator stopping: %d queued asynchronous event(s) dropped", dropped)
        if runner is not None:
            runner.close()  # kills running handlers, so busy workers finish quickly
        if invoker is not None and not invoker.join(SHUTDOWN_WAIT_SECONDS):
            LOGGER.warning("asynchronous Lambda workers still busy after %.0f s", SHUTDOWN_WAIT_SECONDS)
        self._log_output.detach()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

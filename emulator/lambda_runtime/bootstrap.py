"""Runs one Lambda invocation inside a fresh interpreter (the "sandbox" process).

Started by ``emulator.lambda_runtime.runner`` as
``python -I -B bootstrap.py <invocation dir>``; uses the standard library only
and imports nothing from the emulator, so the only code it runs is the
deployed zip's handler. The invocation directory holds

* ``invocation.json``: code dir, handler, request id, deadline, function facts;
* ``event.json``: the event, exactly as the caller sent it;
* ``result.json``: written here (atomically) with either
  ``{"payload": <JSON text>}`` or ``{"error": {errorMessage, errorType, requestId, stackTrace}}``.

stdout/stderr belong to the handler: they are its log. An audit hook refuses
network connections and name lookups other than the emulator's host and port,
and a watchdog thread kills the process group if the emulator process goes
away (e.g. SIGKILL) or the runner failed to enforce the deadline.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any


class LambdaContext:
    """The ``context`` argument, with the attributes of AWS's Python runtime."""

    def __init__(self, invocation: dict[str, Any]) -> None:
        self.aws_request_id: str = invocation["request_id"]
        self.function_name: str = invocation["function_name"]
        self.function_version: str = invocation["function_version"]
        self.invoked_function_arn: str = invocation["invoked_function_arn"]
        # AWS's runtime passes the environment variable through: a string.
        self.memory_limit_in_mb: str = str(invocation["memory_limit_in_mb"])
        self.log_group_name: str = invocation["log_group_name"]
        self.log_stream_name: str = invocation["log_stream_name"]
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline_ms: int = invocation["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(error_type: str, message: str, request_id: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace or []}


def _user_frames(exc: BaseException) -> list[str]:
    """The traceback entries as AWS shows them: the handler's frames, not the bootstrap's."""
    this_file = os.path.abspath(__file__)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) != this_file]
    return traceback.format_list(frames)


def _log_exception(exc: BaseException, error_type: str | None = None) -> None:
    """``[ERROR] Type: message`` and the handler's traceback, on stderr (the function's log)."""
    frames = "".join(_user_frames(exc))
    detail = "".join(traceback.format_exception_only(exc))
    text = f"[ERROR] {error_type or type(exc).__name__}: {exc}\nTraceback (most recent call last):\n{frames}{detail}"
    print(text, file=sys.stderr, end="", flush=True)


def _guard_network(host: str, port: int) -> None:
    """Refuse sockets and lookups for anything but the emulator (audit hooks cannot be removed)."""
    allowed_hosts = {host}

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.connect" or event == "socket.sendto":
            address = args[1] if event == "socket.connect" else args[-1]
            if isinstance(address, tuple) and not (address[0] in allowed_hosts and address[1] == port):
                raise PermissionError(
                    f"the local Lambda sandbox only reaches the emulator ({host}:{port}), not {address!r}"
                )
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
            name = args[0]
            if isinstance(name, bytes):
                name = name.decode("ascii", "replace")
            if name not in allowed_hosts and name not in (None, ""):
                raise PermissionError(
                    f"the local Lambda sandbox only reaches the emulator ({host}:{port}), not {name!r}"
                )

    sys.addaudithook(hook)


def _watchdog(deadline_ms: int) -> None:
    """End this process group if the emulator dies (no one would enforce the timeout) or long after the deadline."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent and time.time() * 1000 < deadline_ms + 5000:
            time.sleep(0.5)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="emulator-watchdog", daemon=True).start()


def _load_handler(handler: str, code_dir: str, request_id: str) -> Any:
    """Import ``module.function`` from the code directory only; return the function or an error dict."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name or not function_name:
        return _error(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
            request_id,
        )
    module_name = module_name.replace("/", ".")
    top_level = module_name.split(".")[0]
    if importlib.machinery.PathFinder.find_spec(top_level, [code_dir]) is None:
        return _error(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': No module named '{top_level}'",
            request_id,
        )
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        _log_exception(exc, "Runtime.UserCodeSyntaxError")
        return _error(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            request_id,
            _user_frames(exc),
        )
    except ImportError as exc:
        _log_exception(exc, "Runtime.ImportModuleError")
        return _error(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {exc}",
            request_id,
            _user_frames(exc),
        )
    except Exception as exc:  # noqa: BLE001 - any error at import time is the function's error
        _log_exception(exc)
        return _error(type(exc).__name__, str(exc), request_id, _user_frames(exc))
    origin = os.path.realpath(getattr(module, "__file__", None) or "")
    if not origin.startswith(os.path.realpath(code_dir) + os.sep):
        return _error(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': not in the function's code",
            request_id,
        )
    function = getattr(module, function_name, None)
    if not callable(function):
        return _error(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'", request_id
        )
    return function


def _run(invocation_dir: str) -> dict[str, Any]:
    with open(os.path.join(invocation_dir, "invocation.json"), encoding="utf-8") as handle:
        invocation = json.load(handle)
    with open(os.path.join(invocation_dir, "event.json"), encoding="utf-8") as handle:
        event = json.load(handle)
    request_id = invocation["request_id"]
    code_dir = invocation["code_dir"]
    _watchdog(invocation["deadline_ms"])
    _guard_network(invocation["endpoint_host"], invocation["endpoint_port"])
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)

    function = _load_handler(invocation["handler"], code_dir, request_id)
    if isinstance(function, dict):
        return {"error": function}
    try:
        result = function(event, LambdaContext(invocation))
    except Exception as exc:  # noqa: BLE001 - the handler's error is the invocation's result
        _log_exception(exc)
        return {"error": _error(type(exc).__name__, str(exc), request_id, _user_frames(exc))}
    try:
        return {"payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        print(f"[ERROR] Runtime.MarshalError: {message}", file=sys.stderr, flush=True)
        return {"error": _error("Runtime.MarshalError", message, request_id)}


def main(invocation_dir: str) -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    outcome = _run(invocation_dir)
    partial = os.path.join(invocation_dir, "result.json.partial")
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle)
    os.replace(partial, os.path.join(invocation_dir, "result.json"))


if __name__ == "__main__":
    main(sys.argv[1])

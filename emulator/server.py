"""``EmulatorServer``: moto's threaded server plus the emulator's extensions.

Why a wrapper rather than ``moto.server.ThreadedMotoServer`` directly:

* it binds loopback only (the emulator has dummy credentials and no auth);
* a port already in use raises ``EmulatorStartError`` instead of hanging
  (upstream ``start()`` waits forever for a thread that died binding);
* before binding, it checks that moto is the version the patches were written
  for (``emulator.moto_version``) and that every extension's ``requires`` come
  before it (``emulator.extension.check_order``), failing with one line otherwise;
* it sets ``MOTO_PORT`` (Step Functions' interpreter calls back to
  ``localhost:$MOTO_PORT``) and activates the built-in patches from
  ``emulator.patches`` plus any extra ``extensions``, undoing all of it on stop.

moto keeps its state in module globals, so every server in one process
shares the same AWS resources; extensions are reference-counted by name
(``emulator.extension.activate``) and ``MOTO_PORT`` names the last started
server.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from moto.server import ThreadedMotoServer

from emulator.errors import EmulatorStartError
from emulator.extension import Extension, activate, check_order, deactivate
from emulator.moto_version import check_moto_version
from emulator.patches import builtin_extensions
from emulator.state import port_in_use

DEFAULT_HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60.0


class _MotoThread(ThreadedMotoServer):
    """``ThreadedMotoServer`` that reports a failed bind instead of hanging, and holds
    every request until ``ready`` is set (the patches are in place), so that no client,
    not even the health check, ever talks to unpatched moto."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self.bind_error: OSError | None = None
        self.ready = threading.Event()

    def _gate(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            self.ready.wait(READY_TIMEOUT_SECONDS)
            return app(environ, start_response)

        return gated

    def _server_entry(self) -> None:
        # werkzeug's make_server turns a failed bind into print + sys.exit(1).
        try:
            super()._server_entry()
        except (OSError, SystemExit) as exc:
            cause = exc if isinstance(exc, OSError) else exc.__context__
            self.bind_error = cause if isinstance(cause, OSError) else OSError(str(exc))
            self._server_ready_event.set()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmulatorServer:
    """An in-process AWS emulator listening on ``host:port`` (loopback only).

    ``port=0`` picks a free port (read ``.port`` after ``start()``).
    ``extensions`` are activated after the built-in patches (all in place
    before ``start()`` returns, each after the extensions it ``requires``)
    and removed in reverse order on ``stop()``.
    Usable as a context manager.
    """

    def __init__(self, port: int, host: str = DEFAULT_HOST, extensions: Sequence[Extension] = ()) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the emulator binds loopback IP addresses only, not {host!r}")
        self._host = host
        self._requested_port = port
        self._port = port
        self._extensions: list[Extension] = [*builtin_extensions(), *extensions]
        self._thread: _MotoThread | None = None
        self._active: list[Extension] = []
        self._previous_moto_port: str | None = None

    @property
    def host(self) -> str:
        """The loopback address the server binds (default ``127.0.0.1``)."""
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the requested one until ``start()`` resolves ``0``)."""
        return self._port

    @property
    def url(self) -> str:
        """Endpoint URL for AWS clients, e.g. ``http://127.0.0.1:4566``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def running(self) -> bool:
        """True between a successful ``start()`` and ``stop()``."""
        return self._thread is not None

    def start(self) -> EmulatorServer:
        """Check moto's version and the extension order, bind, serve, apply extensions; no-op if running.

        Raises ``EmulatorStartError`` (``MotoVersionError`` for another moto,
        ``ExtensionOrderError`` for a requirement missing or out of order,
        ``ExtensionInstallError`` when an extension cannot be installed); nothing
        stays bound, installed or set in the environment then.
        """
        if self._thread is not None:
            return self
        check_moto_version()
        check_order(self._extensions)
        if self._requested_port and port_in_use(self._requested_port, self._host):
            raise EmulatorStartError(f"port {self._requested_port} on {self._host} is already in use")
        thread = _MotoThread(self._host, self._requested_port)
        thread.start()
        if thread.bind_error is not None:
            reason = thread.bind_error.strerror or str(thread.bind_error)
            raise EmulatorStartError(
                f"cannot listen on port {self._requested_port} on {self._host}: {reason}"
            ) from thread.bind_error
        assert thread._server is not None  # set before moto's start() returns
        thread._server.app = thread._gate(thread._server.app)
        self._thread = thread
        self._port = thread.get_host_and_port()[1]
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self._port)
        try:
            for extension in self._extensions:
                activate(extension, self)
                self._active.append(extension)
        except BaseException:
            self.stop()
            raise
        thread.ready.set()
        return self

    def stop(self) -> None:
        """Stop serving and revert extensions and ``MOTO_PORT``; no-op if stopped."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            thread.stop()
        finally:
            while self._active:
                deactivate(self._active.pop())
            if os.environ.get("MOTO_PORT") == str(self._port):
                if self._previous_moto_port is None:
                    os.environ.pop("MOTO_PORT", None)
                else:
                    os.environ["MOTO_PORT"] = self._previous_moto_port

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

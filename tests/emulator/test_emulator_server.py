"""EmulatorServer lifecycle: binding, errors, MOTO_PORT, extensions, health."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from emulator import EmulatorServer, EmulatorStartError, is_healthy
from emulator.extension import active_names
from emulator.patches import BUILTIN_EXTENSIONS


class Recorder:
    """A minimal Extension (no base class) that records its calls."""

    name = "test-recorder"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def install(self, server: Any) -> None:
        self.calls.append(f"install {server.url}")

    def uninstall(self) -> None:
        self.calls.append("uninstall")


def test_session_server_is_healthy_on_loopback(emulator_server: EmulatorServer) -> None:
    assert emulator_server.url == f"http://127.0.0.1:{emulator_server.port}"
    assert emulator_server.port > 0
    assert is_healthy(emulator_server.url)
    assert os.environ["MOTO_PORT"] == str(emulator_server.port)
    assert {ext.name for ext in BUILTIN_EXTENSIONS} <= set(active_names())


def test_is_healthy_is_false_when_nothing_listens(free_port: Callable[[], int]) -> None:
    assert not is_healthy(f"http://127.0.0.1:{free_port()}", timeout=0.5)


def test_refuses_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(port=0, host="0.0.0.0")


def test_port_in_use_raises_quickly_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(EmulatorStartError, match=str(port)):
            EmulatorServer(port=port).start()
        assert time.monotonic() - started < 5


def test_extra_extension_installed_and_removed_with_second_server(emulator_server: EmulatorServer) -> None:
    recorder = Recorder()
    with EmulatorServer(port=0, extensions=[recorder]) as second:
        assert is_healthy(second.url)
        assert recorder.calls == [f"install {second.url}"]
        assert os.environ["MOTO_PORT"] == str(second.port)
    assert recorder.calls[-1] == "uninstall"
    assert not is_healthy(second.url, timeout=0.5)
    # The session server still has its patches and owns MOTO_PORT again.
    assert {ext.name for ext in BUILTIN_EXTENSIONS} <= set(active_names())
    assert os.environ["MOTO_PORT"] == str(emulator_server.port)


def test_bind_race_is_reported_not_hung() -> None:
    """If the port is taken after the pre-check, start() still returns (moto would hang)."""
    from emulator.server import _MotoThread

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        thread = _MotoThread("127.0.0.1", taken.getsockname()[1])
        thread.start()
        assert isinstance(thread.bind_error, OSError)

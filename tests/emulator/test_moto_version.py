"""The emulator refuses another moto than the one it was written for, unless told to accept it."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest

from emulator import EmulatorServer, MotoVersionError, is_healthy
from emulator import cli as emulator_cli
from emulator.moto_version import ACCEPT_ENV, SUPPORTED_MOTO_VERSION
from emulator.state import port_in_use

REPO_ROOT = Path(__file__).resolve().parents[2]
OTHER_VERSION = "5.3.0"


@pytest.fixture
def other_moto(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make the version lookup report moto ``OTHER_VERSION`` (every other package as installed)."""
    real_version = metadata.version

    def version(distribution: str) -> str:
        return OTHER_VERSION if distribution == "moto" else real_version(distribution)

    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.delenv(ACCEPT_ENV, raising=False)
    return OTHER_VERSION


def test_pipfile_pins_the_version_the_emulator_was_written_for() -> None:
    pipfile = tomllib.loads((REPO_ROOT / "Pipfile").read_text(encoding="utf-8"))
    assert pipfile["dev-packages"]["moto"]["version"] == f"=={SUPPORTED_MOTO_VERSION}"
    assert metadata.version("moto") == SUPPORTED_MOTO_VERSION


def test_another_moto_fails_start_with_one_line_naming_both_versions(
    other_moto: str, free_port: Callable[[], int]
) -> None:
    port = free_port()
    server = EmulatorServer(port=port)
    with pytest.raises(MotoVersionError) as failure:
        server.start()
    message = str(failure.value)
    assert "\n" not in message
    assert f"moto {other_moto} is installed but the emulator was written for moto {SUPPORTED_MOTO_VERSION}" in message
    assert f"set {ACCEPT_ENV}={other_moto} to run anyway at your own risk" in message
    assert not server.running
    assert not port_in_use(port)


def test_accepting_a_different_version_is_not_enough(other_moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ACCEPT_ENV, "5.3.1")
    with pytest.raises(MotoVersionError, match=f"moto {other_moto} is installed"):
        EmulatorServer(port=0).start()


def test_an_accepted_version_starts_with_a_warning(
    other_moto: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(ACCEPT_ENV, other_moto)
    with caplog.at_level(logging.WARNING, logger="emulator"), EmulatorServer(port=0) as server:
        assert is_healthy(server.url)
    assert f"running on moto {other_moto}, accepted by {ACCEPT_ENV}" in caplog.text
    assert f"written for moto {SUPPORTED_MOTO_VERSION}" in caplog.text


@pytest.mark.parametrize("mode", [["--detach"], []])
def test_cli_reports_another_moto_as_one_emulator_line(
    other_moto: str,
    mode: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    free_port: Callable[[], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_spawn(*_args: object) -> None:
        raise AssertionError("a detached emulator must not be spawned for another moto")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(emulator_cli, "spawn_detached", no_spawn)
    monkeypatch.setattr(emulator_cli.signal, "signal", lambda *_args: None)  # keep pytest's handlers
    assert emulator_cli.main(["start", "--port", str(free_port()), *mode]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(f"emulator: moto {other_moto} is installed but the emulator was written for moto ")

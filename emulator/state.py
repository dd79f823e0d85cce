"""Where a running emulator is recorded: ``.emulator/`` under the repo root.

The CLI treats the current working directory as the repo root. The files:

* ``emulator.pid``  - the serving process id (bare number, ``kill $(cat ...)`` works);
* ``emulator.port`` - the port it listens on (on 127.0.0.1);
* ``emulator.log``  - stdout/stderr of a detached emulator.

Only the detached emulator is recorded: ``start --detach`` writes the files
once its child answers, the child removes them when it exits (SIGTERM or
TTL), and ``stop`` removes them too. A foreground ``start`` (a terminal, a
test fixture) belongs to its caller and leaves them alone. Everything here
is plain file and process bookkeeping, no moto.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

STATE_DIR_NAME = ".emulator"
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class StateFiles:
    """Paths of the state files below ``root`` (the repo root)."""

    root: Path

    @classmethod
    def in_cwd(cls) -> StateFiles:
        """State files of the current working directory."""
        return cls(Path.cwd())

    @property
    def directory(self) -> Path:
        return self.root / STATE_DIR_NAME

    @property
    def pid_file(self) -> Path:
        return self.directory / "emulator.pid"

    @property
    def port_file(self) -> Path:
        return self.directory / "emulator.port"

    @property
    def log_file(self) -> Path:
        return self.directory / "emulator.log"


@dataclass(frozen=True)
class Record:
    """A recorded emulator process."""

    pid: int
    port: int
    host: str = DEFAULT_HOST

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def write_record(files: StateFiles, record: Record) -> None:
    """Record ``record`` (port file first, so a readable pid implies a port)."""
    files.directory.mkdir(parents=True, exist_ok=True)
    _write_atomic(files.port_file, f"{record.port}\n")
    _write_atomic(files.pid_file, f"{record.pid}\n")


def read_record(files: StateFiles) -> Record | None:
    """The recorded emulator, or None when the files are missing or garbled."""
    try:
        pid = int(files.pid_file.read_text(encoding="utf-8").strip())
        port = int(files.port_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return Record(pid=pid, port=port)


def clear_record(files: StateFiles, pid: int | None = None) -> None:
    """Remove the pid/port files; with ``pid``, only if they still name that pid."""
    if pid is not None:
        current = read_record(files)
        if current is not None and current.pid != pid:
            return
    for path in (files.pid_file, files.port_file):
        path.unlink(missing_ok=True)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def pid_alive(pid: int) -> bool:
    """True if ``pid`` is a running (not zombie) process; reaps our own children."""
    try:
        reaped, _status = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: its parent reaps it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def looks_like_emulator(pid: int) -> bool:
    """Guard against pid reuse: the command line must mention ``emulator``.

    Where ``/proc`` is unavailable (macOS) the pid is trusted.
    """
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return b"emulator" in command_line


def port_in_use(port: int, host: str = DEFAULT_HOST) -> bool:
    """True if something already listens on ``host:port`` (a bind attempt fails)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False

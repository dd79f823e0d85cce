"""``python -m emulator start|stop|status``: run the local AWS emulator.

The repo root is the current working directory; state lives in
``.emulator/`` (see ``emulator.state``). Messages are one line each, prefixed
``emulator:``; errors go to stderr with exit code 1, among them every
``EmulatorStartError`` (port in use, another moto version, an extension that
cannot be installed).

``start`` options (defaults from the environment):

* ``--port`` (``EMULATOR_PORT``, else 4566);
* ``--detach``: run in the background, wait for the health check, print the URL;
* ``--ttl-hours`` (``EMULATOR_TTL_HOURS``, else 8; 0 = no limit): the server
  stops itself after this long, so a forgotten one does not run forever;
* ``--reset-dir PATH``: when this command starts a *new* emulator (not
  "already running"), delete PATH, e.g. local Terraform state that described
  resources of the previous, now-gone emulator.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from emulator.errors import MotoVersionError
from emulator.health import is_healthy
from emulator.moto_version import check_moto_version
from emulator.process import StartupError, log_tail, spawn_detached, terminate, wait_until_healthy
from emulator.server import EmulatorServer, EmulatorStartError
from emulator.state import (
    Record,
    StateFiles,
    clear_record,
    looks_like_emulator,
    pid_alive,
    port_in_use,
    read_record,
    write_record,
)

DEFAULT_PORT = 4566
DEFAULT_TTL_HOURS = 8.0
STARTUP_TIMEOUT_SECONDS = 30.0


def _say(message: str) -> None:
    print(f"emulator: {message}", flush=True)


def _fail(message: str) -> int:
    print(f"emulator: {message}", file=sys.stderr, flush=True)
    return 1


def _running_record(files: StateFiles) -> Record | None:
    """The recorded emulator if its process is alive; stale files are removed."""
    record = read_record(files)
    if record is None:
        return None
    if pid_alive(record.pid) and looks_like_emulator(record.pid):
        return record
    clear_record(files, record.pid)
    return None


def _reset_target(directory: Path | None, root: Path) -> Path | None:
    """Resolve ``--reset-dir``; refuse the repo root itself or anything above it."""
    if directory is None:
        return None
    target = (root / directory).resolve()
    if target == root.resolve() or target in root.resolve().parents:
        raise ValueError(f"refusing to use --reset-dir {directory}: it contains the repository")
    return target


def _reset(target: Path | None) -> None:
    """Delete stale local state that described the previous (now gone) emulator."""
    if target is not None and target.exists():
        _say(f"new emulator: deleting stale local state in {target}")
        shutil.rmtree(target)


def _serve(files: StateFiles, port: int, ttl_hours: float, reset_dir: Path | None) -> int:
    """Foreground: serve until SIGINT/SIGTERM or the TTL, then shut down cleanly.

    A foreground emulator belongs to whoever started it (a terminal, a test
    fixture) and is not recorded in ``.emulator/``; the detached one is
    recorded by its parent, and either removes the record when it exits.
    """
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        _say(f"received {signal.Signals(signum).name}, stopping")
        stop.set()

    # Handlers first: the port answers as soon as start() returns.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    server = EmulatorServer(port)
    try:
        server.start()
    except EmulatorStartError as exc:
        return _fail(str(exc))
    try:
        _reset(reset_dir)
        limit = f"stops itself after {ttl_hours:g} h" if ttl_hours > 0 else "no time limit"
        _say(f"listening on {server.url} (pid {os.getpid()}, {limit})")
        if not stop.wait(ttl_hours * 3600 if ttl_hours > 0 else None):
            _say(f"time limit of {ttl_hours:g} h reached, stopping")
    finally:
        server.stop()
        clear_record(files, os.getpid())
    _say("stopped")
    return 0


def _start_detached(files: StateFiles, port: int, ttl_hours: float, reset_dir: Path | None) -> int:
    # The child checks too, but its error would only show as the tail of its log.
    try:
        check_moto_version()
    except MotoVersionError as exc:
        return _fail(str(exc))
    process = spawn_detached(files, port, ttl_hours)
    try:
        wait_until_healthy(process, port, STARTUP_TIMEOUT_SECONDS)
    except StartupError as exc:
        tail = log_tail(files)
        return _fail(f"failed to start on port {port}: {exc}; last lines of {files.log_file}:\n{tail}")
    record = Record(pid=process.pid, port=port)
    write_record(files, record)
    _reset(reset_dir)
    _say(f"started at {record.url} (pid {record.pid}, log {files.log_file.relative_to(files.root)})")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    """Start an emulator unless the recorded (detached) one already serves this port."""
    files = StateFiles.in_cwd()
    try:
        reset_dir = _reset_target(args.reset_dir, files.root)
    except ValueError as exc:
        return _fail(str(exc))
    running = _running_record(files)
    if running is not None and running.port == args.port:
        if is_healthy(running.url):
            _say(f"already running at {running.url} (pid {running.pid})")
            return 0
        return _fail(f"pid {running.pid} is recorded on port {running.port} but does not answer; stop it first")
    if running is not None and args.detach:
        return _fail(f"an emulator already runs on port {running.port} (pid {running.pid}); stop it first")
    if port_in_use(args.port):
        return _fail(f"port {args.port} on 127.0.0.1 is already in use by another process")
    if args.detach:
        return _start_detached(files, args.port, args.ttl_hours, reset_dir)
    return _serve(files, args.port, args.ttl_hours, reset_dir)


def cmd_stop(_args: argparse.Namespace) -> int:
    """Stop the recorded emulator (SIGTERM, then SIGKILL after 10 s)."""
    files = StateFiles.in_cwd()
    running = _running_record(files)
    if running is None:
        _say("not running")
        return 0
    graceful = terminate(running.pid)
    clear_record(files)
    _say(f"stopped (pid {running.pid}{'' if graceful else ', killed after timeout'})")
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    """Exit 0 and print the URL if the recorded emulator answers, else exit 1."""
    running = _running_record(StateFiles.in_cwd())
    if running is not None and is_healthy(running.url):
        _say(f"running at {running.url} (pid {running.pid})")
        return 0
    if running is not None:
        _say(f"not running (pid {running.pid} does not answer at {running.url})")
        return 1
    _say("not running")
    return 1


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SystemExit(_fail(f"{name} must be a number, got {raw!r}")) from exc


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m emulator`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Local AWS emulator (moto).")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start the emulator")
    start.add_argument(
        "--port",
        type=int,
        default=int(_env_number("EMULATOR_PORT", DEFAULT_PORT)),
        help=f"port on 127.0.0.1 (default: $EMULATOR_PORT or {DEFAULT_PORT})",
    )
    start.add_argument("--detach", action="store_true", help="run in the background, log to .emulator/emulator.log")
    start.add_argument(
        "--ttl-hours",
        type=float,
        default=_env_number("EMULATOR_TTL_HOURS", DEFAULT_TTL_HOURS),
        help=f"stop after this many hours, 0 = never (default: $EMULATOR_TTL_HOURS or {DEFAULT_TTL_HOURS:g})",
    )
    start.add_argument(
        "--reset-dir",
        type=Path,
        default=None,
        metavar="PATH",
        help="delete PATH (stale local state) when this command starts a new emulator",
    )
    start.set_defaults(handler=cmd_start)
    commands.add_parser("stop", help="stop the emulator").set_defaults(handler=cmd_stop)
    commands.add_parser("status", help="is the emulator running?").set_defaults(handler=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))

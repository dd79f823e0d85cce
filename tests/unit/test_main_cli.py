"""`python main.py` (what cdktf synth runs) reports config errors in one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_main(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **env}
    return subprocess.run(
        [sys.executable, "main.py"], cwd=REPO, env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def test_unknown_environment_fails_with_one_line_and_exit_2() -> None:
    result = run_main(ENV="staging")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: config [staging] ENV = 'staging': unknown environment; expected one of local, dev, prod"
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_emulator_port_fails_naming_the_variable() -> None:
    result = run_main(ENV="local", EMULATOR_PORT="not-a-port")
    assert result.returncode == 2
    assert "EMULATOR_PORT = 'not-a-port'" in result.stderr
    assert "Traceback" not in result.stderr

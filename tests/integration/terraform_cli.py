"""Run the terraform CLI in a synthesized stack directory."""

from __future__ import annotations

import subprocess
from pathlib import Path


def terraform(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`terraform <args>` in `cwd`; the caller checks the return code."""
    return subprocess.run(
        ["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )

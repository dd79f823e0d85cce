"""Reading .github/workflows/ in tests: the parsed YAML, a step's action, and the Python commands its scripts run."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
# `uses: owner/repo@<40 hex> # vX.Y.Z`: a full commit and the version it is, for Dependabot and readers.
PINNED = re.compile(r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # v\d+(?:\.\d+){0,2}$")


@cache
def workflow(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    document["on"] = document.pop(True, document.get("on"))
    return document


def every_workflow() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def uses(step: dict[str, Any]) -> str:
    """`owner/repo` of an action step ("" for a run step)."""
    return step.get("uses", "").split("@")[0]


def python_commands(job: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """(module, arguments) of each `python -m <module> ...` or `.venv/bin/python -m <module> ...` command of `job`
    (a `>-` folded script is one command)."""
    for step in job.get("steps", []):
        for line in step.get("run", "").splitlines():
            words = shlex.split(line)
            if len(words) > 2 and words[0] in ("python", ".venv/bin/python") and words[1] == "-m":
                yield words[2], words[3:]

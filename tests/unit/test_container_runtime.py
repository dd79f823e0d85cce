"""tooling.container_runtime finds the Python 3.9 that tools/sagemaker-sklearn/ is built with, or says it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tooling import container_runtime


def _fake_python(path: Path, version: str, exit_code: int = 0) -> Path:
    """An executable that answers the module's probe as a Python `version` at `path` would (or fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {path}\necho {version.replace('.', ' ')}\nexit {exit_code}\n")
    path.chmod(0o755)
    return path


def test_the_given_interpreter_is_used_when_it_runs_as_3_9(tmp_path: Path) -> None:
    python = _fake_python(tmp_path / "bin" / "python3.9", "3.9")
    _fake_python(tmp_path / "pyenv" / "versions" / "3.9.18" / "bin" / "python3.9", "3.9")
    assert container_runtime.find_interpreter(str(python), pyenv_root=tmp_path / "pyenv") == python


def test_a_shim_that_does_not_run_falls_back_to_the_highest_pyenv_3_9(tmp_path: Path) -> None:
    shim = _fake_python(tmp_path / "shims" / "python3.9", "3.9", exit_code=127)
    root = tmp_path / "pyenv"
    for version in ("3.9.2", "3.9.18", "3.10.13", "3.9.18-dev"):
        _fake_python(root / "versions" / version / "bin" / "python3.9", "3.9")
    expected = root / "versions" / "3.9.18" / "bin" / "python3.9"  # 18 > 2 as numbers, not as text
    assert container_runtime.find_interpreter(str(shim), pyenv_root=root) == expected


def test_an_interpreter_of_another_version_is_not_taken(tmp_path: Path) -> None:
    python = _fake_python(tmp_path / "bin" / "python3", "3.11")
    assert container_runtime.find_interpreter(str(python), pyenv_root=tmp_path / "no-pyenv") is None


def test_no_python_3_9_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("PATH", os.defpath)
    monkeypatch.setattr(container_runtime, "_pyenv_root", lambda: None)
    assert container_runtime.main(["--python", "/nowhere/python3.9"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "/nowhere/python3.9 (Python 3.9) not found" in captured.err

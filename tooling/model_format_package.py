"""`mlp-model-format`: the platform's model format (training/model_format.py) as a pip-installable package.

Teams outside the platform (a notebook, another service) read and score the models the platform publishes
with this one module; publishing it to the team CodeArtifact repository is what `make demo` shows and what
the README's publishing commands do for any package. The project is written into a directory at build time
from the repository's own module, so the package never drifts from the code the platform runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tooling.code_layout import REPO_ROOT

PACKAGE_NAME = "mlp-model-format"
MODULE = REPO_ROOT / "training" / "model_format.py"

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "Read and score models in the ML platform's model format (model.json)"
requires-python = ">=3.9"

[tool.setuptools]
py-modules = ["model_format"]
"""


def write_project(directory: Path, version: str) -> Path:
    """Write the project (pyproject.toml + model_format.py) of `version` into `directory`; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(PYPROJECT.format(name=PACKAGE_NAME, version=version), encoding="utf-8")
    shutil.copyfile(MODULE, directory / MODULE.name)
    return directory

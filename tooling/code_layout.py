"""The import layout of the platform's deployed code, for tools that run it in this process: `lambdas/` (each zip
holds its packages at the root) and `training/` (its modules import each other flat, as in the SageMaker
container and the predict zip). pytest.ini gives the tests the same path."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CODE_FOLDERS = (REPO_ROOT / "lambdas", REPO_ROOT / "training")


def use_deployed_layout() -> None:
    """Put lambdas/ and training/ on sys.path (once), so `import data_processor`, `import model_format` work."""
    for folder in CODE_FOLDERS:
        if str(folder) not in sys.path:
            sys.path.append(str(folder))

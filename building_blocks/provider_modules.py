"""Import provider resource classes without importing all 2,138 of them.

`cdktf_cdktf_provider_aws/__init__.py` imports every submodule of the package, so the
first `from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket` costs ~10 s here. Each
submodule only needs the package's `_jsii` module (which loads the jsii assembly), so we
register a bare package object that points at the same directory; Python then imports
just the submodules that are asked for. The synthesized JSON is identical
(tests/unit/test_fast_imports.py). `make bench-synth` measures the difference.
"""

from __future__ import annotations

import importlib.util
import sys
import types

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"


def install_lightweight_provider_package() -> None:
    """Register a bare `cdktf_cdktf_provider_aws` package unless it is already imported.

    Idempotent. Must run before the first import of any provider submodule;
    `building_blocks/__init__.py` calls it, so import building_blocks first.
    """
    if PROVIDER_PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PROVIDER_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"{PROVIDER_PACKAGE} is not installed; run `make setup`", name=PROVIDER_PACKAGE)
    package = types.ModuleType(PROVIDER_PACKAGE)
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    package.__package__ = PROVIDER_PACKAGE
    sys.modules[PROVIDER_PACKAGE] = package


def loaded_provider_submodules() -> list[str]:
    """Names of the provider resource modules imported so far (used by tests and the bench)."""
    prefix = PROVIDER_PACKAGE + "."
    return sorted(name for name in sys.modules if name.startswith(prefix) and name.count(".") == 1)

"""The moto version the emulator was written for, checked when a server starts.

Why: every patch in ``emulator/patches/`` targets private moto code (module paths, class
attributes, call signatures) read in one moto release. Another release can move that code
without any target going missing (a wrapped method whose callers changed, a config key no
longer read), so patches may misbehave quietly. The version is pinned in the Pipfile
(``moto = "==5.2.5"``, kept equal to ``SUPPORTED_MOTO_VERSION`` by a test) and checked here.

Upgrading moto: install the new version, set ``EMULATOR_ACCEPT_MOTO_VERSION=<that version>``,
run ``python -m pytest tests/emulator``, re-read the moto code each patch docstring names,
then bump both ``SUPPORTED_MOTO_VERSION`` and the Pipfile pin.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from importlib import metadata

from emulator.errors import MotoVersionError

SUPPORTED_MOTO_VERSION = "5.2.5"
ACCEPT_ENV = "EMULATOR_ACCEPT_MOTO_VERSION"

LOGGER = logging.getLogger("emulator")


def installed_moto_version() -> str | None:
    """The installed moto distribution's version, or None when moto is not installed."""
    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return None


def check_moto_version(environ: Mapping[str, str] | None = None) -> str:
    """Fail unless moto is ``SUPPORTED_MOTO_VERSION`` or the environment accepts this one.

    ``environ`` defaults to ``os.environ``. ``EMULATOR_ACCEPT_MOTO_VERSION`` must equal the
    installed version exactly (so a later upgrade is refused again); then a warning is logged
    (logger ``emulator``). Returns the installed version; otherwise raises ``MotoVersionError``
    with a one-line message naming both versions and the way out.
    """
    environ = os.environ if environ is None else environ
    installed = installed_moto_version()
    if installed == SUPPORTED_MOTO_VERSION:
        return installed
    if installed is None:
        raise MotoVersionError(
            f"moto is not installed; the emulator was written for moto {SUPPORTED_MOTO_VERSION}: "
            "run `make setup` (pipenv sync --dev)"
        )
    if environ.get(ACCEPT_ENV) == installed:
        LOGGER.warning(
            "running on moto %s, accepted by %s; the emulator was written for moto %s, so patches may misbehave",
            installed,
            ACCEPT_ENV,
            SUPPORTED_MOTO_VERSION,
        )
        return installed
    raise MotoVersionError(
        f"moto {installed} is installed but the emulator was written for moto {SUPPORTED_MOTO_VERSION}: "
        f"run `make setup` (pipenv sync --dev) to install {SUPPORTED_MOTO_VERSION}, "
        f"or set {ACCEPT_ENV}={installed} to run anyway at your own risk"
    )

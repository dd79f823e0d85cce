"""Model names and versions: what prepare.py checks up front and publish.py turns into a candidate folder."""

from __future__ import annotations

import re
from datetime import datetime, timezone

AUTO = "auto"
DEFAULT_VERSION_BASE = "1.0"
# re.ASCII: \d would otherwise match any Unicode digit (Arabic-Indic "1.0.0" is not a version).
_NAME = re.compile(r"[a-z][a-z0-9-]{1,62}", re.ASCII)
# Semantic Versioning 2.0.0, the regex semver.org recommends.
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    re.ASCII,
)
_BASE = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)", re.ASCII)


def check_model_name(name: str) -> str:
    """`name` if it is a lowercase letter then 1-62 lowercase letters, digits or hyphens; else ValueError."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"model name {name!r} is invalid: a lowercase letter, then 1 to 62 lowercase letters, digits or hyphens"
        )
    return name


def check_model_version(version: str) -> str:
    """`version` if it is "auto" or a semantic version (1.2.3, 1.2.3-rc.1); else ValueError."""
    if version != AUTO and not _SEMVER.fullmatch(version):
        raise ValueError(f"model version {version!r} is invalid: 'auto' or a semantic version such as 1.2.3")
    return version


def check_version_base(base: str) -> str:
    """`base` if it is MAJOR.MINOR (1.0); else ValueError."""
    if not _BASE.fullmatch(base):
        raise ValueError(f"version base {base!r} is invalid: MAJOR.MINOR such as 1.0")
    return base


def resolve_version(version: str, base: str, now: datetime) -> str:
    """The version to publish: `version` itself, or for "auto" `<base>.<now as UTC YYYYMMDDHHMMSS>` (the clock
    is the semver patch, so later runs sort higher). `now` must be timezone-aware."""
    check_model_version(version)
    if version != AUTO:
        return version
    if now.tzinfo is None:
        raise ValueError("resolve_version needs a timezone-aware time")
    return f"{check_version_base(base)}.{now.astimezone(timezone.utc):%Y%m%d%H%M%S}"

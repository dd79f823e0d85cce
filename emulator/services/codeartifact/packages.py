"""Published packages of a repository: pypi only, under PEP 503 normalized names, files kept in memory."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PYPI = "pypi"


def normalize_project(name: str) -> str:
    """PEP 503 normalized project name: ``My_Package.x`` -> ``my-package-x``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class StoredFile:
    """One uploaded distribution file (wheel or sdist)."""

    filename: str
    content: bytes
    sha256: str
    requires_python: str | None = None


@dataclass
class PackageVersion:
    """A published version of a package and its files, by file name."""

    version: str
    summary: str | None
    published_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    revision: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    files: dict[str, StoredFile] = field(default_factory=dict)

    def summary_dict(self, repository: str) -> dict[str, Any]:
        origin = {"domainEntryPoint": {"repositoryName": repository}, "originType": "INTERNAL"}
        return {"version": self.version, "revision": self.revision, "status": "Published", "origin": origin}


@dataclass
class Package:
    """A pypi package of one repository, under its normalized name; versions in publish order."""

    name: str
    versions: dict[str, PackageVersion] = field(default_factory=dict)

    def summary_dict(self) -> dict[str, Any]:
        # AWS's default origin controls for a package first published to the repository
        restrictions = {"publish": "ALLOW", "upstream": "BLOCK"}
        return {"format": PYPI, "package": self.name, "originConfiguration": {"restrictions": restrictions}}

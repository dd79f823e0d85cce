"""Deterministic code archives: the same source always gives the same bytes and hash.

A zip or tar normally records file modification times and permissions, so a fresh checkout
would change the hash and make Terraform redeploy unchanged code. Here every entry has a
fixed timestamp and mode and entries are sorted; caches are left out. Lambda functions ship
zips (`build_zip`); SageMaker's framework containers take a `sourcedir.tar.gz` (`build_tar_gz`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"
BUILD_DIR = REPO_ROOT / ".build" / "lambdas"

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can record
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip: where it is, and the base64 SHA-256 Lambda uses as `source_code_hash`."""

    path: Path
    sha256_base64: str


def _source_paths(root: Path, base: Path) -> Iterator[tuple[str, Path]]:
    """Files under `root`, named relative to `base`, sorted, caches and bytecode left out."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(base)
        if path.is_dir() or _SKIPPED_DIRS & set(relative.parts) or path.suffix in _SKIPPED_SUFFIXES:
            continue
        yield relative.as_posix(), path


def _package_files(package: str, lambdas_dir: Path) -> Iterator[tuple[str, Path]]:
    root = lambdas_dir / package
    if not (root / "__init__.py").is_file():
        raise ValueError(f"lambda package {package!r}: {root} is not a Python package (no __init__.py)")
    yield from _source_paths(root, lambdas_dir)


def source_files(root: Path) -> dict[str, bytes]:
    """Every file under `root` (relative name -> content), as the archives here would pack them."""
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory")
    return {name: path.read_bytes() for name, path in _source_paths(root, root)}


def build_tar_gz(entries: Mapping[str, bytes]) -> bytes:
    """A gzipped tar of `entries` (name -> content) with fixed times, owners and modes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name in sorted(entries):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(entries[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(entries[name]))
    return buffer.getvalue()


def repo_sources(files: Mapping[str, str], repo_root: Path = REPO_ROOT) -> dict[str, str]:
    """Modules of the repo outside lambdas/ to bundle into a function's zip, as `extra_files`: each entry maps
    the path inside the zip (what the handler imports) to the repo-relative path of the source, read as text.
    A missing source is a ValueError naming it."""
    bundled = {}
    for name, relative in files.items():
        path = repo_root / relative
        if not path.is_file():
            raise ValueError(f"bundled module {relative!r} (zip path {name!r}) does not exist")
        bundled[name] = path.read_text(encoding="utf-8")
    return bundled


def build_zip(
    packages: Sequence[str], extra_files: Mapping[str, str] | None = None, lambdas_dir: Path = LAMBDAS_DIR
) -> bytes:
    """Zip `lambdas/<package>/` for each package (at the zip root) plus generated files.

    `extra_files` maps a path inside the zip to text content (e.g. a config the stack
    renders); a path that collides with a source file is refused.
    """
    entries: dict[str, bytes] = {}
    for package in packages:
        for name, path in _package_files(package, lambdas_dir):
            entries[name] = path.read_bytes()
    for name, content in (extra_files or {}).items():
        if name in entries:
            raise ValueError(f"extra file {name!r} would replace a source file of the package")
        entries[name] = content.encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name], compresslevel=9)
    return buffer.getvalue()


def write_package(name: str, data: bytes, build_dir: Path = BUILD_DIR, suffix: str = ".zip") -> LambdaPackage:
    """Write the archive under `.build/lambdas/` (git-ignored), named by its content hash."""
    digest = hashlib.sha256(data)
    path = build_dir / f"{name}-{digest.hexdigest()[:16]}{suffix}"
    if not path.exists():
        build_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(data)
        temporary.replace(path)  # atomic: a parallel synth never sees half a zip
    return LambdaPackage(path=path, sha256_base64=base64.b64encode(digest.digest()).decode())

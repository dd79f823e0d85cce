"""model.tar.gz: the archive SageMaker makes of the training job's model directory, holding model.json.

Standard library only, like model_format (what reads a model from S3 can reuse it: the inference Lambda bundles
this file flat, as `model_archive`). Members are read in memory, never extracted, so a hostile archive cannot
write anywhere. An archive is a path, or its bytes (the Lambda downloads it and never touches its disk).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zlib
from pathlib import Path
from typing import Union

import model_format

ARCHIVE_FILE = "model.tar.gz"
MODEL_FILE = "model.json"

# typing.Union, not `|`: the alias is evaluated at run time, and `type | type` needs Python 3.10 (SageMaker runs 3.9).
Archive = Union[Path, bytes]


def _describe(archive: Archive, name: str | None) -> str:
    if name is not None:
        return name
    return f"{ARCHIVE_FILE} ({len(archive)} bytes)" if isinstance(archive, bytes) else str(archive)


def read_model_json(archive: Archive, *, name: str | None = None, max_bytes: int | None = None) -> bytes:
    """The bytes of model.json in `archive`, a path or the archive's bytes (member `model.json` or `./model.json`,
    as `tar -C dir .` writes it). name (default: the path, or "model.tar.gz (<n> bytes)") is how messages call the
    archive; max_bytes (default None: no bound) refuses a larger model.json before reading it, so a hostile archive
    cannot exhaust memory. ValueError when the archive has no model.json, more than one, a larger one, or is not a
    readable tar.gz (a corrupt path archive used to raise tarfile.TarError; ValueError covers both)."""
    label = _describe(archive, name)
    source = {"fileobj": io.BytesIO(archive)} if isinstance(archive, bytes) else {"name": archive}
    try:
        with tarfile.open(mode="r:gz", **source) as tar:
            members = [m for m in tar.getmembers() if m.name.removeprefix("./") == MODEL_FILE]
            if len(members) != 1 or not members[0].isfile():
                names = ", ".join(m.name for m in tar.getmembers()) or "nothing"
                raise ValueError(f"{label}: expected one regular file {MODEL_FILE}, the archive holds {names}")
            if max_bytes is not None and members[0].size > max_bytes:
                raise ValueError(f"{label}: {MODEL_FILE} is {members[0].size} bytes, over the {max_bytes} byte limit")
            extracted = tar.extractfile(members[0])
            assert extracted is not None  # a regular file always has content to extract
            return extracted.read()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"{label}: not a readable tar.gz archive: {exc}") from exc


def read_model(archive: Archive, *, name: str | None = None, max_bytes: int | None = None) -> model_format.LinearModel:
    """The validated model in `archive` (a path or bytes; `name` and `max_bytes` as for read_model_json);
    ModelFormatError names the bad field."""
    label = _describe(archive, name)
    try:
        return model_format.loads(read_model_json(archive, name=label, max_bytes=max_bytes))
    except model_format.ModelFormatError as exc:
        raise model_format.ModelFormatError(f"{label}: {MODEL_FILE}: {exc}") from exc


def archive_of(model_json: bytes) -> bytes:
    """The model.tar.gz bytes SageMaker would make of a model folder holding `model_json`, deterministic (tar and
    gzip times 0): what tests, the benchmark and tools put where a training job's output goes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo(MODEL_FILE)
        info.size, info.mode, info.mtime = len(model_json), 0o644, 0
        tar.addfile(info, io.BytesIO(model_json))
    return gzip.compress(raw.getvalue(), mtime=0)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

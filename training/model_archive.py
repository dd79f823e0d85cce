"""model.tar.gz: the archive SageMaker makes of the training job's model directory, holding model.json.

Standard library only, like model_format (what reads a model from S3 can reuse it). Members are read in memory,
never extracted, so a hostile archive cannot write anywhere.
"""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import model_format

ARCHIVE_FILE = "model.tar.gz"
MODEL_FILE = "model.json"


def read_model_json(archive: Path) -> bytes:
    """The bytes of model.json in `archive` (member `model.json` or `./model.json`, as `tar -C dir .` writes it);
    ValueError when the archive has none, or more than one."""
    with tarfile.open(archive, mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name.removeprefix("./") == MODEL_FILE]
        if len(members) != 1 or not members[0].isfile():
            names = ", ".join(m.name for m in tar.getmembers()) or "nothing"
            raise ValueError(f"{archive}: expected one regular file {MODEL_FILE}, the archive holds {names}")
        extracted = tar.extractfile(members[0])
        assert extracted is not None  # a regular file always has content to extract
        return extracted.read()


def read_model(archive: Path) -> model_format.LinearModel:
    """The validated model in `archive`; ModelFormatError names the bad field."""
    try:
        return model_format.loads(read_model_json(archive))
    except model_format.ModelFormatError as exc:
        raise model_format.ModelFormatError(f"{archive}: {MODEL_FILE}: {exc}") from exc


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

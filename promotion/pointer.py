"""The production pointer: the one object serving reads to learn which model version is in production.

    s3://<name_prefix>-production-models/models/<model>/production.json

    {
      "format": "ml-platform/production-pointer",
      "format_version": 1,
      "model": "churn",
      "version": "1.0.20261129223000",
      "artifact": {"key": "models/churn/1.0.20261129223000/model.tar.gz", "sha256": "<hex>", "bytes": 5120},
      "promotion": {"sequence": 3, "action": "promote", "approved_by": "...", "approved_at": "...",
                    "reason": "...", "run": "...", "git_sha": "..."},
      "quality": {"metric": "auc", "value": 0.83, "threshold": 0.75},
      "training_data_uri": "s3://..."
    }

`artifact.key` is in the same (production) bucket. A reader loads the archive at that key and checks its
sha256 against `artifact.sha256` before using it. Terraform writes the pointer after the copy it names
(depends_on), and S3 reads are strongly consistent, so a reader never sees a pointer to bytes not yet there.
Inference reads it through `parse_pointer`; the README documents it as the promotion contract.

Standard library only: the stacks build it at synth and a Lambda can package this module as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from promotion.record import Production
from training.model_naming import check_model_name, check_model_version

POINTER_FORMAT = "ml-platform/production-pointer"
POINTER_FORMAT_VERSION = 1
POINTER_FILE = "production.json"
ARCHIVE_FILE = "model.tar.gz"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class PointerError(ValueError):
    """A pointer document that is not a valid production pointer; the message names the field."""


def pointer_key(model: str) -> str:
    """`models/<model>/production.json`: beside the version folders, never inside one."""
    return f"models/{check_model_name(model)}/{POINTER_FILE}"


def artifact_key(model: str, version: str) -> str:
    """`models/<model>/<version>/model.tar.gz`: the same key in the candidate and the production bucket."""
    check_model_name(model)
    check_model_version(version)
    if version == "auto":
        raise ValueError("model version 'auto' is invalid here: a published version is a semantic version")
    return f"models/{model}/{version}/{ARCHIVE_FILE}"


@dataclass(frozen=True)
class Pointer:
    """What a reader needs from the pointer (the rest of the document is audit information)."""

    model: str
    version: str
    artifact_key: str
    sha256: str
    bytes: int
    sequence: int
    document: dict[str, Any]


def pointer_document(
    *,
    model: str,
    version: str,
    sha256: str,
    size: int,
    sequence: int,
    promotion: dict[str, Any],
    quality: dict[str, Any],
    training_data_uri: str,
) -> dict[str, Any]:
    """The pointer's JSON (see the module docstring); `promotion` holds who, when, why and which run."""
    return {
        "format": POINTER_FORMAT,
        "format_version": POINTER_FORMAT_VERSION,
        "model": model,
        "version": version,
        "artifact": {"key": artifact_key(model, version), "sha256": sha256, "bytes": size},
        "promotion": {"sequence": sequence, **promotion},
        "quality": quality,
        "training_data_uri": training_data_uri,
    }


def for_production(current: Production) -> dict[str, Any]:
    """The pointer document for what the record says production serves: the version's bytes and the entry
    that put it there."""
    entry = current.entry
    return pointer_document(
        model=current.model,
        version=current.version,
        sha256=entry.sha256,
        size=entry.bytes,
        sequence=current.sequence,
        promotion={
            "action": entry.action,
            "approved_by": entry.approved_by,
            "approved_at": entry.approved_at,
            "reason": entry.reason,
            "run": entry.run,
            "git_sha": entry.git_sha,
        },
        quality={"metric": entry.quality.metric, "value": entry.quality.value, "threshold": entry.quality.threshold},
        training_data_uri=entry.training_data_uri,
    )


def dumps(document: dict[str, Any]) -> str:
    """The pointer's bytes: sorted keys, so the same promotion always synthesizes the same content."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def parse_pointer(text: str | bytes, model: str | None = None) -> Pointer:
    """Check a pointer document (and, given `model`, that it is that model's); PointerError otherwise."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PointerError(f"production pointer is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PointerError("production pointer must be a JSON object")
    if document.get("format") != POINTER_FORMAT or document.get("format_version") != POINTER_FORMAT_VERSION:
        raise PointerError(
            f"production pointer format is {document.get('format')!r} v{document.get('format_version')!r}; "
            f"expected {POINTER_FORMAT!r} v{POINTER_FORMAT_VERSION}"
        )
    name, version = document.get("model"), document.get("version")
    try:
        check_model_name(str(name))
        check_model_version(str(version))
    except ValueError as exc:
        raise PointerError(f"production pointer: {exc}") from exc
    if model is not None and name != model:
        raise PointerError(f"production pointer names model {name!r}, expected {model!r}")
    artifact = document.get("artifact")
    promotion = document.get("promotion")
    if not isinstance(artifact, dict) or not isinstance(promotion, dict):
        raise PointerError("production pointer needs artifact and promotion objects")
    key, sha256, size, sequence = (
        artifact.get("key"),
        artifact.get("sha256"),
        artifact.get("bytes"),
        promotion.get("sequence"),
    )
    if key != artifact_key(str(name), str(version)):
        raise PointerError(f"production pointer artifact.key {key!r} is not {artifact_key(str(name), str(version))!r}")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise PointerError(f"production pointer artifact.sha256 {sha256!r} is not a hex sha256")
    for label, value in (("artifact.bytes", size), ("promotion.sequence", sequence)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PointerError(f"production pointer {label} {value!r} must be a positive integer")
    return Pointer(str(name), str(version), key, sha256, size, sequence, document)

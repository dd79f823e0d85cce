"""What production holds right now, compared with the promotion record.

- `deployed_pointers`: the production pointers as they are in S3 (what serving reads).
- `check_not_behind`: refuse to apply a record that lacks a promotion production already has. A deploy from
  an older checkout (an apply-on-merge racing a promotion, a stale branch) would otherwise put production
  back on an older version: "apply never reverts a promotion" is enforced here, before Terraform runs.
- `verify`: after an apply, production has the record's bytes (S3's SHA256 checksum of the copy), its tags,
  every earlier promoted version, and a pointer that names it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from promotion.candidate import hash_object
from promotion.pointer import Pointer, PointerError, artifact_key, parse_pointer, pointer_key
from promotion.record import Entry, PromotionRecord
from tooling.aws_clients import object_exists


class ProductionStateError(RuntimeError):
    """Production and the record disagree; one line says how."""


def read_pointer(s3: Any, bucket: str, model: str) -> Pointer | None:
    """The deployed pointer of `model`, or None when there is none (never promoted, or the bucket does not
    exist yet: the first deploy of an environment)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=pointer_key(model))["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NoSuchBucket"):
            return None
        raise
    try:
        return parse_pointer(body, model)
    except PointerError as exc:
        raise ProductionStateError(f"s3://{bucket}/{pointer_key(model)}: {exc}") from exc


def deployed_pointers(s3: Any, bucket: str, models: Iterable[str]) -> dict[str, Pointer]:
    """The deployed pointers of `models` (those that have one)."""
    pointers = {}
    for model in models:
        found = read_pointer(s3, bucket, model)
        if found is not None:
            pointers[model] = found
    return pointers


def pointed_models(s3: Any, bucket: str) -> list[str]:
    """Every model that has a pointer in the production bucket (one level under models/)."""
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="models/", Delimiter="/")
        prefixes = [item["Prefix"] for page in pages for item in page.get("CommonPrefixes", [])]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchBucket":
            return []
        raise
    return [prefix.split("/")[1] for prefix in prefixes]


def check_not_behind(record: PromotionRecord, deployed: dict[str, Pointer], record_name: str) -> None:
    """ProductionStateError when production serves a promotion `record` does not contain."""
    for model, current in sorted(deployed.items()):
        history = record.history(model)
        recorded = history[current.sequence - 1] if len(history) >= current.sequence else None
        if recorded is None or recorded.version != current.version or recorded.sha256 != current.sha256:
            raise ProductionStateError(
                f"production serves {model} {current.version} (promotion {current.sequence} of {model}), which "
                f"{record_name} does not record: this checkout is behind the promotions; update it "
                "(git pull) and run again. Applying it would put production back on an older model."
            )


def guard_record(s3: Any, bucket: str, record: PromotionRecord, record_name: str) -> dict[str, Pointer]:
    """The deployed pointers of every model in the record or in the bucket, after `check_not_behind`."""
    models = set(record.models) | set(pointed_models(s3, bucket))
    deployed = deployed_pointers(s3, bucket, sorted(models))
    check_not_behind(record, deployed, record_name)
    return deployed


def pending_entries(record: PromotionRecord, deployed: dict[str, Pointer], model: str) -> tuple[Entry, ...]:
    """`model`'s entries newer than what production serves (staged, not applied)."""
    applied = deployed[model].sequence if model in deployed else 0
    return record.history(model)[applied:]


def check_nothing_pending(record: PromotionRecord, deployed: dict[str, Pointer], record_name: str) -> None:
    """ProductionStateError when the record holds entries production does not serve yet: a deploy would copy
    and point at them without a promotion's checks, approval and verification."""
    pending = [(model, entry) for model in sorted(record.models) for entry in pending_entries(record, deployed, model)]
    if pending:
        listed = ", ".join(f"{entry.action} {model} {entry.version}" for model, entry in pending)
        raise ProductionStateError(
            f"{record_name} holds {len(pending)} promotion entr{'y' if len(pending) == 1 else 'ies'} production does "
            f"not serve yet ({listed}): a deploy would skip promotion's checks and approval. Promote through "
            "`python -m promotion` (make promote) or the promote-model workflow, or drop them "
            "(python -m promotion discard <model>)"
        )


@dataclass(frozen=True)
class Verified:
    model: str
    version: str
    sha256: str
    sequence: int
    earlier_versions: tuple[str, ...]


def verify(s3: Any, bucket: str, record: PromotionRecord, model: str) -> Verified:
    """Production matches the record for `model`, or ProductionStateError saying what does not."""
    current = record.production(model)
    if current is None:
        raise ProductionStateError(f"model {model} has never been promoted in {record.environment}")
    location = f"s3://{bucket}/{artifact_key(model, current.version)}"
    pointer = read_pointer(s3, bucket, model)
    if pointer is None:
        raise ProductionStateError(
            f"s3://{bucket}/{pointer_key(model)} does not exist: apply the artifact store stack first"
        )
    if (pointer.version, pointer.sequence, pointer.sha256) != (current.version, current.sequence, current.entry.sha256):
        raise ProductionStateError(
            f"the production pointer names {model} {pointer.version} (promotion {pointer.sequence}); the record "
            f"says {current.version} (promotion {current.sequence}): apply the artifact store stack"
        )
    first = record.promoted_versions(model)[current.version]
    actual = production_sha256(s3, bucket, artifact_key(model, current.version))
    if actual != current.entry.sha256:
        raise ProductionStateError(f"{location} has sha256 {actual}, the record says {current.entry.sha256}")
    expected_tags = {
        "environment": record.environment,
        "model": model,
        "version": current.version,
        "approver": first.approved_by,
        "git-sha": first.git_sha,
    }
    tags = {
        tag["Key"]: tag["Value"]
        for tag in s3.get_object_tagging(Bucket=bucket, Key=artifact_key(model, current.version))["TagSet"]
    }
    wrong = {key: tags.get(key) for key, value in expected_tags.items() if tags.get(key) != value}
    if wrong:
        raise ProductionStateError(f"{location} tags {wrong} differ from the record's {expected_tags}")
    earlier = tuple(version for version in record.promoted_versions(model) if version != current.version)
    for version in earlier:
        if not object_exists(s3, bucket, artifact_key(model, version)):
            raise ProductionStateError(f"s3://{bucket}/{artifact_key(model, version)} (promoted before) is gone")
    return Verified(model, current.version, actual, current.sequence, earlier)


def production_sha256(s3: Any, bucket: str, key: str) -> str:
    """Hex sha256 of a production object: the SHA256 checksum S3 computed when it made the copy
    (checksum_algorithm = SHA256); the bytes are hashed only if S3 holds no full-object checksum."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise ProductionStateError(f"s3://{bucket}/{key} does not exist: apply the artifact store stack") from exc
        raise
    checksum = head.get("ChecksumSHA256", "")
    if checksum and "-" not in checksum:  # "<base64>-<parts>" is a checksum of part checksums
        try:
            return base64.b64decode(checksum, validate=True).hex()
        except binascii.Error:
            pass
    return hash_object(s3, bucket, key).sha256

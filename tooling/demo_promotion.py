"""The promotion part of `make demo`: promote the candidate training just published, as `make promote` does.

Stages it in the local promotion record (git-ignored, beside the local Terraform state), plans and applies the
artifact store stack, verifies, then checks from the outside what serving will see: the pointer names the new
version, the production copy has the candidate's bytes, and every version promoted before is still there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from platform_config import EnvironmentConfig
from promotion import identity
from promotion.candidate import CandidateError, hash_object
from promotion.cli import REPO_ROOT, Context, Refused, deliver, stage
from promotion.deployed import ProductionStateError, read_pointer
from promotion.pointer import artifact_key, pointer_key
from promotion.record import RecordError
from tooling.aws_clients import object_exists
from tooling.stack_plan import TerraformError

REASON = "make demo: the candidate the training pipeline just published"


def tour(
    config: EnvironmentConfig, s3: Any, model: str, version: str, *, emit: Callable[[str], None] = print
) -> list[tuple[bool, str]]:
    """Promote `model` `version` in the emulator; checks of what production then serves."""
    context = Context(config, s3, REPO_ROOT / "cdktf.out")
    emit(f"\nPromotion of {model} {version} (make promote MODEL={model} VERSION={version}):")
    try:
        staged = stage(context, model, version, REASON, identity.approver())
        deliver(context, model, staged, confirm=lambda question: True)
    except (
        Refused,
        CandidateError,
        RecordError,
        ProductionStateError,
        TerraformError,
        ClientError,
        BotoCoreError,
    ) as exc:
        return [(False, f"promotion of {model} {version} failed: {exc}")]
    bucket = context.production_bucket
    pointer = read_pointer(s3, bucket, model)
    candidate_sha256 = hash_object(s3, context.candidate_bucket, artifact_key(model, version)).sha256
    production_sha256 = hash_object(s3, bucket, artifact_key(model, version)).sha256
    record = context.load_record()
    earlier = [v for v in record.promoted_versions(model) if v != version]
    kept = [v for v in earlier if object_exists(s3, bucket, artifact_key(model, v))]
    checks = [
        (
            pointer is not None and pointer.version == version,
            f"the production pointer s3://{bucket}/{pointer_key(model)} names {model} "
            f"{pointer.version if pointer else 'nothing'}"
            + (
                f" (promotion {pointer.sequence}, approved by {pointer.document['promotion']['approved_by']})"
                if pointer
                else ""
            ),
        ),
        (
            production_sha256 == candidate_sha256 == (pointer.sha256 if pointer else None),
            f"production's model.tar.gz has the candidate's sha256 {production_sha256[:16]}…, as the pointer states",
        ),
    ]
    if earlier:
        checks.append(
            (
                kept == earlier,
                f"{len(kept)} of {len(earlier)} earlier promoted version(s) still in production (rollback-ready)",
            )
        )
    return checks

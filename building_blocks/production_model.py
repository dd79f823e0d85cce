"""ProductionModel: one model's promoted versions in the production bucket, and its production pointer.

From the promotion record (promotion/record.py) it declares, for one model:

- one `aws_s3_object_copy` per version ever promoted, candidate -> production at the same key
  `models/<model>/<version>/model.tar.gz`. The version is in the key, so a new promotion is a new
  resource and never replaces (deletes) an earlier copy; `source` is `bucket/key` (not an ARN);
  `copy_if_match` is the ETag of the bytes `check` hashed, so a candidate overwritten after the check
  (training's role may write candidates) is never copied;
  `checksum_algorithm = "SHA256"` makes S3 compute the copy's checksum, which `verify` compares with
  the record; `tagging_directive = "REPLACE"` so the tags below are applied (with COPY they are
  ignored and every plan shows a diff). The copy is tagged from the entry that first promoted that
  version: re-promoting a version later changes only the pointer.
- the pointer `models/<model>/production.json` (promotion/pointer.py), written after the copy it names.

Outside `local` every resource is prevent_destroy: removing an entry from the record fails the plan
instead of deleting production bytes.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from building_blocks.provider_modules import install_lightweight_provider_package
from building_blocks.secure_bucket import SecureBucket
from promotion import pointer
from promotion.record import PromotionRecord

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.s3_object import S3Object  # noqa: E402
from cdktf_cdktf_provider_aws.s3_object_copy import S3ObjectCopy  # noqa: E402

# S3 allows 10 tags per object; these are the copy's own, the provider's default tags come on top.
COPY_TAG_KEYS = ("environment", "model", "version", "approver", "git-sha")
S3_OBJECT_TAG_LIMIT = 10


def version_id(version: str) -> str:
    """A Terraform-safe part of a resource name for a semver (1.0.3-rc.1+b2 -> 1_0_3-rc_1_b2); semver has no
    `_`, so distinct versions stay distinct."""
    return version.replace(".", "_").replace("+", "_b")


def check_tag_budget(default_tags: dict[str, str]) -> None:
    """ValueError when the provider's default tags leave no room for the copy's own tags."""
    merged = set(default_tags) | set(COPY_TAG_KEYS)
    if len(merged) > S3_OBJECT_TAG_LIMIT:
        raise ValueError(
            f"promoted model copies would carry {len(merged)} tags ({', '.join(sorted(merged))}); S3 allows "
            f"{S3_OBJECT_TAG_LIMIT} per object: remove some of the environment's extra `tags`"
        )


class ProductionModel(Construct):
    """Every promoted version of `model` copied to `production`, and its pointer naming `current`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model: str,
        record: PromotionRecord,
        candidate: SecureBucket,
        production: SecureBucket,
        disposable: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        current = record.production(model)
        if current is None:
            raise ValueError(f"model {model} has no production version in the {record.environment} record")
        assert production.encryption_key is not None, "the production bucket is KMS-encrypted"
        lifecycle = TerraformResourceLifecycle(prevent_destroy=not disposable)
        self.copies: dict[str, S3ObjectCopy] = {}
        for version, first in record.promoted_versions(model).items():
            key = pointer.artifact_key(model, version)
            self.copies[version] = S3ObjectCopy(
                self,
                f"version-{version_id(version)}",
                bucket=production.bucket.bucket,
                key=key,
                source=f"{candidate.bucket.bucket}/{key}",
                # The bytes the check hashed, or nothing: S3 refuses the copy (412) if the candidate changed since.
                copy_if_match=first.etag,
                server_side_encryption="aws:kms",
                kms_key_id=production.encryption_key.arn,
                bucket_key_enabled=True,
                checksum_algorithm="SHA256",
                metadata_directive="COPY",
                tagging_directive="REPLACE",
                tags={
                    "environment": record.environment,
                    "model": model,
                    "version": version,
                    "approver": first.approved_by,
                    "git-sha": first.git_sha,
                },
                lifecycle=lifecycle,
            )
        self.pointer = S3Object(
            self,
            "pointer",
            bucket=production.bucket.bucket,
            key=pointer.pointer_key(model),
            content=pointer.dumps(pointer.for_production(current)),
            content_type="application/json",
            server_side_encryption="aws:kms",
            kms_key_id=production.encryption_key.arn,
            bucket_key_enabled=True,
            depends_on=[self.copies[current.version]],
            lifecycle=lifecycle,
        )

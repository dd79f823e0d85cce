"""The platform's dead-letter queue: KMS-encrypted, messages kept as long as SQS allows."""

from __future__ import annotations

from constructs import Construct

from building_blocks.kms_key import KmsKey
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue  # noqa: E402

DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: time to notice and replay


def dead_letter_queue(scope: Construct, construct_id: str, *, name: str, key: KmsKey) -> SqsQueue:
    """An SQS queue `name` for what could not be delivered, encrypted with `key`."""
    return SqsQueue(
        scope,
        construct_id,
        name=name,
        kms_master_key_id=key.arn,
        message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
    )

"""A CloudWatch log group encrypted with a customer-managed key, with a retention.

The key's policy gets a statement letting CloudWatch Logs use it for this log group only
(the `aws:logs:arn` encryption context), so one key can serve several groups safely.
"""

from __future__ import annotations

from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.iam import sid_from
from building_blocks.kms_key import KmsKey
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup  # noqa: E402


def encrypted_log_group(
    scope: Construct, construct_id: str, *, name: str, key: KmsKey, retention_days: int
) -> CloudwatchLogGroup:
    """Create log group `name`, encrypted with `key`, keeping events `retention_days` days."""
    account = AccountContext.of(scope)
    arn = f"arn:{account.partition}:logs:{account.region}:{account.account_id}:log-group:{name}"
    key.allow_service(
        f"LogsEncrypt{sid_from(name)}",
        f"logs.{account.region}.amazonaws.com",
        perms.KEY_LOG_ENCRYPTION_ACTIONS,
        {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn}},
    )
    return CloudwatchLogGroup(scope, construct_id, name=name, retention_in_days=retention_days, kms_key_id=key.arn)

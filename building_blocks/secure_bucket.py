"""An S3 bucket that is secure by default, and the grants that scope access to it.

Defaults (the opt-outs are the fields of SecureBucketProps):
- SSE-KMS with a customer-managed key (one is created when none is given), bucket key on;
- versioning on; public access fully blocked; ACLs disabled (BucketOwnerEnforced);
- a bucket policy that refuses plain HTTP and uploads that name another encryption;
- lifecycle: abort incomplete multipart uploads, expire noncurrent versions, then their delete markers;
- server access logs to the given log bucket; EventBridge notifications on;
- `prevent_destroy` and no `force_destroy`, unless the bucket is disposable (local only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.iam import Grant, Grantee, Statement, sid_from
from building_blocks.kms_key import KmsKey
from building_blocks.lazy_policy import LazyPolicy
from building_blocks.provider_modules import install_lightweight_provider_package
from platform_config.naming import bucket_name_problem

install_lightweight_provider_package()
# ruff: noqa: E402
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_notification import (
    S3BucketNotification,
    S3BucketNotificationLambdaFunction,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)

if TYPE_CHECKING:
    from building_blocks.lambda_function import LambdaFunction

LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"


EXPIRED_VERSION_DAYS = 1  # noncurrent versions under an expiring prefix are kept this long


class BucketEncryption(Enum):
    """KMS: a customer-managed key (the default). S3_MANAGED: AES256, only for access-log
    buckets, because S3 server access logs cannot be delivered to an SSE-KMS bucket."""

    KMS = "aws:kms"
    S3_MANAGED = "AES256"


@dataclass(frozen=True)
class SecureBucketProps:
    """Options of a SecureBucket; every field documents its default.

    bucket_name: the global bucket name (validated against S3's naming rules).
    access_log_bucket: where server access logs go. Required unless this bucket is
        itself a log bucket (encryption=S3_MANAGED), which cannot log to itself.
    encryption: default KMS; S3_MANAGED only for log buckets.
    encryption_key: the KMS key; default None creates a dedicated key for this bucket.
    key_deletion_window_days: default 30; the created key's deletion waiting period.
    noncurrent_version_expiration_days: default 90; old versions are deleted after this. None keeps every old
        version (a Terraform state bucket: its history is the way back from a bad apply).
    abort_incomplete_multipart_upload_days: default 7.
    expire_objects_after_days: default None (keep); log buckets set a retention. What expires (and every
        noncurrent version under that prefix) is deleted EXPIRED_VERSION_DAYS later.
    expire_objects_prefix: default "" (the whole bucket); limits that expiration to one prefix
        (e.g. a work bucket's "runs/", keeping its "code/").
    disposable: default False. True (local emulator only) sets force_destroy and drops
        prevent_destroy so the whole environment can be torn down.
    """

    bucket_name: str
    access_log_bucket: SecureBucket | None = None
    encryption: BucketEncryption = BucketEncryption.KMS
    encryption_key: KmsKey | None = None
    key_deletion_window_days: int = 30
    noncurrent_version_expiration_days: int | None = 90
    abort_incomplete_multipart_upload_days: int = 7
    expire_objects_after_days: int | None = None
    expire_objects_prefix: str = ""
    disposable: bool = False


def _resolve_encryption(props: SecureBucketProps) -> str:
    """Decide where the bucket's key comes from.

    | encryption  | encryption_key | access_log_bucket | result                        |
    |-------------|----------------|-------------------|-------------------------------|
    | KMS         | given          | required          | "use-given-key"               |
    | KMS         | None           | required          | "create-key"                  |
    | S3_MANAGED  | None           | None              | "s3-managed" (log bucket)     |
    | S3_MANAGED  | given          | any               | ValueError: conflicting props |
    | S3_MANAGED  | None           | given             | ValueError: logs to a log bucket |
    """
    name = props.bucket_name
    if props.encryption is BucketEncryption.S3_MANAGED:
        if props.encryption_key is not None:
            raise ValueError(f"bucket {name}: encryption_key is set but encryption is S3_MANAGED")
        if props.access_log_bucket is not None:
            raise ValueError(f"bucket {name}: an S3_MANAGED (log) bucket does not ship its own access logs")
        return "s3-managed"
    if props.access_log_bucket is None:
        raise ValueError(f"bucket {name}: access_log_bucket is required for a KMS-encrypted bucket")
    if props.access_log_bucket.encryption is not BucketEncryption.S3_MANAGED:
        raise ValueError(
            f"bucket {name}: access_log_bucket {props.access_log_bucket.bucket_name} must be "
            "S3_MANAGED; S3 cannot deliver access logs to an SSE-KMS bucket"
        )
    return "use-given-key" if props.encryption_key is not None else "create-key"


def _validate(props: SecureBucketProps) -> None:
    problem = bucket_name_problem(props.bucket_name)
    if problem:
        raise ValueError(f"bucket_name {props.bucket_name!r}: {problem}")
    for field_name in (
        "noncurrent_version_expiration_days",
        "abort_incomplete_multipart_upload_days",
        "expire_objects_after_days",
    ):
        days = getattr(props, field_name)
        if days is not None and days < 1:
            raise ValueError(f"bucket {props.bucket_name}: {field_name}={days} must be at least 1")


class SecureBucket(Construct):
    """An S3 bucket with the secure defaults listed in this module's docstring."""

    def __init__(self, scope: Construct, construct_id: str, props: SecureBucketProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        key_source = _resolve_encryption(props)
        self.bucket_name = props.bucket_name
        self.encryption = props.encryption
        account = AccountContext.of(self)
        self._account = account

        self.encryption_key: KmsKey | None = props.encryption_key
        if key_source == "create-key":
            self.encryption_key = KmsKey(
                self,
                "key",
                alias_name=props.bucket_name,
                description=f"Encrypts objects in s3://{props.bucket_name}",
                deletion_window_days=props.key_deletion_window_days,
                disposable=props.disposable,
            )

        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=props.bucket_name,
            force_destroy=props.disposable,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=not props.disposable),
        )
        bucket_id = self.bucket.id
        self.versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm=props.encryption.value,
                            kms_master_key_id=self.encryption_key.arn if self.encryption_key else None,
                        )
                    ),
                    bucket_key_enabled=self.encryption_key is not None,
                )
            ],
        )
        public_access = S3BucketPublicAccessBlock(
            self,
            "public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.policy = LazyPolicy(self._baseline_statements())
        self.bucket_policy = S3BucketPolicy(
            self, "policy", bucket=bucket_id, policy=self.policy.json, depends_on=[public_access]
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=bucket_id,
            rule=self._lifecycle_rules(props),
            depends_on=[self.versioning],  # noncurrent-version rules need versioning first
        )
        if props.access_log_bucket is not None:
            props.access_log_bucket.allow_access_log_delivery(self)
            S3BucketLoggingA(
                self,
                "access-logs",
                bucket=bucket_id,
                target_bucket=props.access_log_bucket.bucket.id,
                target_prefix=f"{props.bucket_name}/",
                depends_on=[props.access_log_bucket.bucket_policy],  # S3 checks the target's policy
            )
        # One notification resource per bucket (S3 keeps one configuration): EventBridge on now,
        # Lambda targets added through this same resource by later stacks.
        self.notifications = S3BucketNotification(self, "notifications", bucket=bucket_id, eventbridge=True)
        self._lambda_targets: list[S3BucketNotificationLambdaFunction] = []
        self._invoke_permissions: list[str] = []

    # -- outputs -----------------------------------------------------------------------------

    @property
    def arn(self) -> str:
        return self.bucket.arn

    def notify_function(
        self, function: LambdaFunction, *, prefix: str, events: Sequence[str] = perms.OBJECT_CREATED_EVENTS
    ) -> None:
        """Invoke `function` for `events` on keys under `prefix`.

        Creates the function's permission for this bucket (with source ARN and account) and
        makes the bucket's single notification resource depend on it: S3 checks that it may
        invoke the function when the notification is saved.
        """
        permission = function.allow_invocation_by_bucket(f"invoked-by-{self.node.id}", self.arn)
        self._lambda_targets.append(
            S3BucketNotificationLambdaFunction(
                lambda_function_arn=function.arn, events=list(events), filter_prefix=prefix
            )
        )
        self.notifications.put_lambda_function(self._lambda_targets)
        # The address Terraform expects in depends_on (`fqn` would render as "${...}").
        self._invoke_permissions.append(f"{permission.terraform_resource_type}.{permission.friendly_unique_id}")
        self.notifications.add_override("depends_on", list(self._invoke_permissions))

    # -- policy pieces -----------------------------------------------------------------------

    def _baseline_statements(self) -> list[Statement]:
        """TLS only, and an upload may not ask for another encryption or key than the bucket's.

        Uploads that name no encryption get the bucket default, so the Deny applies only when
        the header is present (`Null: false`): a negated operator alone, even `...IfExists`,
        is true for a missing key and would refuse every header-less upload.
        """
        arn, objects = self.bucket.arn, f"{self.bucket.arn}/*"
        statements = [
            Statement(
                sid="DenyInsecureTransport",
                effect="Deny",
                actions=perms.DENY_ALL_S3_ACTIONS,
                resources=(arn, objects),
                principals={"AWS": ("*",)},
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            ),
            self._deny_other("DenyOtherEncryption", "s3:x-amz-server-side-encryption", self.encryption.value),
        ]
        if self.encryption_key is not None:
            statements.append(
                self._deny_other(
                    "DenyOtherKmsKey", "s3:x-amz-server-side-encryption-aws-kms-key-id", self.encryption_key.arn
                )
            )
        return statements

    def _deny_other(self, sid: str, header: str, expected: str) -> Statement:
        """Deny PutObject when `header` is sent with any value but `expected`."""
        return Statement(
            sid=sid,
            effect="Deny",
            actions=perms.DENY_UPLOAD_ACTIONS,
            resources=(f"{self.bucket.arn}/*",),
            principals={"AWS": ("*",)},
            conditions={"StringNotEquals": {header: expected}, "Null": {header: "false"}},
        )

    def allow_access_log_delivery(self, source: SecureBucket) -> None:
        """Let S3's logging service write `source`'s access logs under `<source name>/`."""
        sid = "AccessLogsFrom" + sid_from(source.bucket_name)
        self.policy.add(
            Statement(
                sid=sid,
                actions=perms.ACCESS_LOG_DELIVERY_ACTIONS,
                resources=(f"{self.bucket.arn}/{source.bucket_name}/*",),
                principals={"Service": (LOG_DELIVERY_SERVICE,)},
                conditions={
                    "StringEquals": {"aws:SourceAccount": self._account.account_id},
                    "ArnLike": {"aws:SourceArn": source.arn},
                },
            )
        )

    @staticmethod
    def _lifecycle_rules(props: SecureBucketProps) -> list[S3BucketLifecycleConfigurationRule]:
        rules = [
            S3BucketLifecycleConfigurationRule(
                id="abort-incomplete-multipart-uploads",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=props.abort_incomplete_multipart_upload_days
                    )
                ],
            ),
        ]
        if props.noncurrent_version_expiration_days is not None:
            rules.append(
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.noncurrent_version_expiration_days
                        )
                    ],
                    # Once the old versions behind a delete marker have expired, the marker is removed too;
                    # otherwise deleted keys (e.g. superseded processed outputs) leave markers forever.
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(expired_object_delete_marker=True)],
                )
            )
        if props.expire_objects_after_days is not None:
            rules.append(
                S3BucketLifecycleConfigurationRule(
                    id="expire-objects",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix=props.expire_objects_prefix)],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.expire_objects_after_days)],
                    # In a versioned bucket expiring only hides the data behind a delete marker; the bytes of
                    # what expired (or was overwritten) under this prefix go a day later, not after the
                    # bucket-wide noncurrent retention.
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=EXPIRED_VERSION_DAYS
                        )
                    ],
                )
            )
        return rules

    # -- grants ------------------------------------------------------------------------------

    def _objects(self, prefix: str) -> str:
        if prefix and not prefix.endswith("/"):
            raise ValueError(f"bucket {self.bucket_name}: grant prefix {prefix!r} must end with '/'")
        return f"{self.bucket.arn}/{prefix}*"

    def list_statement(self, prefix: str = "") -> Statement:
        """List keys (and their versions) under `prefix` only ("" = the whole bucket)."""
        self._objects(prefix)  # validates the prefix
        return Statement(
            sid="ListObjects",
            actions=perms.BUCKET_LIST_ACTIONS,
            resources=(self.bucket.arn,),
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else {},
        )

    def read_statements(self, prefix: str = "") -> list[Statement]:
        """Read objects under `prefix` (e.g. "models/"; "" = whole bucket) and list only that prefix."""
        statements = [
            Statement(sid="ReadObjects", actions=perms.BUCKET_READ_ACTIONS, resources=(self._objects(prefix),)),
            self.list_statement(prefix),
        ]
        if self.encryption_key is not None:
            statements.append(self.encryption_key.decrypt_statement())
        return statements

    def write_statements(self, prefix: str = "") -> list[Statement]:
        """Put objects under `prefix` only; no ACL or delete actions."""
        statements = [
            Statement(sid="WriteObjects", actions=perms.BUCKET_WRITE_ACTIONS, resources=(self._objects(prefix),))
        ]
        if self.encryption_key is not None:
            statements.append(self.encryption_key.encrypt_decrypt_statement())
        return statements

    def delete_statements(self, prefix: str = "") -> list[Statement]:
        """Delete objects under `prefix` only (a delete marker in a versioned bucket; no version deletes)."""
        return [Statement(sid="DeleteObjects", actions=perms.BUCKET_DELETE_ACTIONS, resources=(self._objects(prefix),))]

    def grant_list(self, grantee: Grantee, name: str, prefix: str = "") -> Grant:
        """Attach `list_statement(prefix)` to `grantee` as inline policy `name` (keys only, no contents)."""
        return grantee.add_policy(name, [self.list_statement(prefix)])

    def grant_read(self, grantee: Grantee, name: str, prefix: str = "") -> Grant:
        """Attach `read_statements(prefix)` to `grantee` as inline policy `name`."""
        return grantee.add_policy(name, self.read_statements(prefix))

    def grant_write(self, grantee: Grantee, name: str, prefix: str = "") -> Grant:
        """Attach `write_statements(prefix)` to `grantee` as inline policy `name`."""
        return grantee.add_policy(name, self.write_statements(prefix))

    def grant_delete(self, grantee: Grantee, name: str, prefix: str = "") -> Grant:
        """Attach `delete_statements(prefix)` to `grantee` as inline policy `name`."""
        return grantee.add_policy(name, self.delete_statements(prefix))


def access_log_bucket(
    scope: Construct, construct_id: str, *, bucket_name: str, retention_days: int, disposable: bool
) -> SecureBucket:
    """The bucket that receives server access logs of the other buckets in a stack.

    SSE-S3 because S3 cannot deliver access logs to SSE-KMS buckets; logs expire after
    `retention_days`. Every other default of SecureBucket applies.
    """
    return SecureBucket(
        scope,
        construct_id,
        SecureBucketProps(
            bucket_name=bucket_name,
            encryption=BucketEncryption.S3_MANAGED,
            expire_objects_after_days=retention_days,
            noncurrent_version_expiration_days=retention_days,
            disposable=disposable,
        ),
    )

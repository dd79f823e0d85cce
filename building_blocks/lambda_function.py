"""A Python Lambda function with the platform's defaults, packaged from `lambdas/`.

Defaults: python3.12; deterministic zip of `lambdas/<package>/` + shared packages; its own
log group (retention from config, KMS-encrypted); X-Ray tracing; reserved concurrency; an
SQS dead-letter queue (KMS) for failed async invocations; environment variables encrypted
with the key; a role that can only write its own logs, traces and dead letters until a
stack grants it more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import AssetType, TerraformAsset
from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.dead_letter_queue import dead_letter_queue
from building_blocks.execution_role import LAMBDA, ExecutionRole
from building_blocks.iam import Grant, Grantee, Statement, sid_from
from building_blocks.kms_key import KmsKey
from building_blocks.lambda_package import build_zip, write_package
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
# ruff: noqa: E402
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction as _LambdaFunctionResource,
)
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission

RUNTIME = "python3.12"


@dataclass(frozen=True)
class LambdaFunctionProps:
    """Options of a LambdaFunction.

    function_name: the Lambda name (also names the role, log group and DLQ).
    package: the folder under lambdas/ holding the handler package, e.g. "data_processor".
    handler: "<package>.<module>.<function>", e.g. "data_processor.handler.handler".
    encryption_key: encrypts environment variables, the log group and the DLQ.
    log_retention_days: CloudWatch retention of the function's logs.
    reserved_concurrency: the most concurrent executions this function may take.
    environment: environment variables; default none.
    extra_files: generated files to add to the zip (path in zip -> text); default none.
    shared_packages: other lambdas/ packages bundled with it; default ("lambda_common",).
    memory_mb: default 512. timeout_seconds: default 60.
    """

    function_name: str
    package: str
    handler: str
    encryption_key: KmsKey
    log_retention_days: int
    reserved_concurrency: int
    environment: Mapping[str, str] = field(default_factory=dict)
    extra_files: Mapping[str, str] = field(default_factory=dict)
    shared_packages: tuple[str, ...] = ("lambda_common",)
    memory_mb: int = 512
    timeout_seconds: int = 60

    def __post_init__(self) -> None:
        if not self.handler.startswith(f"{self.package}."):
            raise ValueError(
                f"function {self.function_name}: handler {self.handler!r} is not in package {self.package!r}"
            )
        if not 128 <= self.memory_mb <= 10240:
            raise ValueError(f"function {self.function_name}: memory_mb={self.memory_mb} must be 128-10240")
        if not 1 <= self.timeout_seconds <= 900:
            raise ValueError(f"function {self.function_name}: timeout_seconds={self.timeout_seconds} must be 1-900")
        if self.reserved_concurrency < 1:
            raise ValueError(f"function {self.function_name}: reserved_concurrency must be at least 1")


class LambdaFunction(Construct):
    """A Lambda function with its log group, dead-letter queue and least-privilege role.

    It is a Grantee: `bucket.grant_read(function, ...)` adds to its execution role.
    """

    def __init__(self, scope: Construct, construct_id: str, props: LambdaFunctionProps) -> None:
        super().__init__(scope, construct_id)
        self._account = AccountContext.of(self)
        name = props.function_name
        key = props.encryption_key

        self.execution = ExecutionRole(
            self, name=name, service=LAMBDA, key=key, log_retention_days=props.log_retention_days
        )
        self.log_group = self.execution.log_group
        self.role = self.execution.role
        self.dead_letter_queue = dead_letter_queue(self, "dead-letters", name=f"{name}-dead-letters", key=key)
        self.execution.add_policy(
            "dead-letters",
            [
                Statement(
                    sid="SendDeadLetters", actions=perms.QUEUE_SEND_ACTIONS, resources=(self.dead_letter_queue.arn,)
                ),
                key.encrypt_decrypt_statement(),
            ],
        )

        package = write_package(name, build_zip((props.package, *props.shared_packages), props.extra_files))
        code = TerraformAsset(self, "code", path=str(package.path), type=AssetType.FILE)
        self.function = _LambdaFunctionResource(
            self,
            "function",
            function_name=name,
            role=self.execution.arn,
            runtime=RUNTIME,
            handler=props.handler,
            filename=code.path,
            source_code_hash=package.sha256_base64,
            memory_size=props.memory_mb,
            timeout=props.timeout_seconds,
            reserved_concurrent_executions=props.reserved_concurrency,
            kms_key_arn=key.arn,
            environment=LambdaFunctionEnvironment(variables=dict(props.environment)) if props.environment else None,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=self.dead_letter_queue.arn),
            # The log group must exist first, or Lambda creates an unencrypted one without retention;
            # the DLQ permission must exist too, or CreateFunction refuses the dead-letter target.
            depends_on=self.execution.dependables(),
        )

    @property
    def arn(self) -> str:
        return self.function.arn

    @property
    def function_name(self) -> str:
        return self.function.function_name

    def add_policy(self, name: str, statements: list[Statement]) -> Grant:
        """Grant the function's role more permissions (it is the Grantee of bucket grants)."""
        return self.execution.add_policy(name, statements)

    def invocation_arns(self) -> tuple[str, str]:
        """The ARNs an invoke permission names: the function and any version or alias (`arn:*`)."""
        return (self.arn, f"{self.arn}:*")

    def grant_invoke(self, grantee: Grantee, name: str) -> Grant:
        """Let `grantee` invoke this function (any version or alias), nothing else: inline policy `name`."""
        return grantee.add_policy(
            name,
            [Statement(sid="InvokeFunction", actions=perms.LAMBDA_INVOKE_ACTIONS, resources=self.invocation_arns())],
        )

    def allow_invocation_by_bucket(self, construct_id: str, bucket_arn: str) -> LambdaPermission:
        """Let S3 invoke the function for events of one bucket of this account only."""
        (action,) = perms.LAMBDA_INVOKE_ACTIONS
        return LambdaPermission(
            self,
            construct_id,
            statement_id=f"AllowS3{sid_from(construct_id)}",
            action=action,
            function_name=self.function.function_name,
            principal="s3.amazonaws.com",
            source_arn=bucket_arn,
            source_account=self._account.account_id,
        )

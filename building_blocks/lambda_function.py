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

from building_blocks.account import AccountContext
from building_blocks.iam import Grantee, ServiceRole, Statement, sid_from
from building_blocks.kms_key import KmsKey
from building_blocks.lambda_package import build_zip, write_package
from building_blocks.log_group import encrypted_log_group
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
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

RUNTIME = "python3.12"
# X-Ray has no resource-level permissions: these two actions need Resource "*".
TRACING_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


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
    """A Lambda function with its log group, dead-letter queue and least-privilege role."""

    def __init__(self, scope: Construct, construct_id: str, props: LambdaFunctionProps) -> None:
        super().__init__(scope, construct_id)
        account = AccountContext.of(self)
        self._account = account
        name = props.function_name
        key = props.encryption_key

        self.log_group = encrypted_log_group(
            self, "logs", name=f"/aws/lambda/{name}", key=key, retention_days=props.log_retention_days
        )
        self.dead_letter_queue = SqsQueue(
            self,
            "dead-letters",
            name=f"{name}-dead-letters",
            kms_master_key_id=key.arn,
            message_retention_seconds=14 * 24 * 3600,
        )

        self.role = ServiceRole(
            self, "role", role_name=name, service="lambda.amazonaws.com", source_account=account.account_id
        )
        self.role.add_policy(
            "logs",
            [
                Statement(
                    sid="WriteOwnLogs",
                    actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                    resources=(f"{self.log_group.arn}:*",),
                )
            ],
        )
        self.role.add_policy("tracing", [Statement(sid="WriteTraces", actions=TRACING_ACTIONS, resources=("*",))])
        self.role.add_policy(
            "dead-letters",
            [
                Statement(sid="SendDeadLetters", actions=("sqs:SendMessage",), resources=(self.dead_letter_queue.arn,)),
                key.encrypt_decrypt_statement(),
            ],
        )

        package = write_package(name, build_zip((props.package, *props.shared_packages), props.extra_files))
        code = TerraformAsset(self, "code", path=str(package.path), type=AssetType.FILE)
        self.function = _LambdaFunctionResource(
            self,
            "function",
            function_name=name,
            role=self.role.arn,
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
            # The log group must exist first, or Lambda creates an unencrypted one without retention.
            depends_on=[self.log_group, *self.role.dependables()],
        )

    @property
    def arn(self) -> str:
        return self.function.arn

    @property
    def function_name(self) -> str:
        return self.function.function_name

    def add_policy(self, name: str, statements: list[Statement]) -> None:
        """Grant the function's role more permissions (it is the Grantee of bucket grants)."""
        self.role.add_policy(name, statements)

    def invoke_statement(self) -> Statement:
        """Invoke this function, any version or alias (the ARN and `arn:*`), nothing else."""
        return Statement(
            sid="InvokeFunction", actions=("lambda:InvokeFunction",), resources=(self.arn, f"{self.arn}:*")
        )

    def grant_invoke(self, grantee: Grantee, name: str) -> None:
        """Attach `invoke_statement` to `grantee` as inline policy `name`."""
        grantee.add_policy(name, [self.invoke_statement()])

    def allow_invocation_by_bucket(self, construct_id: str, bucket_arn: str) -> LambdaPermission:
        """Let S3 invoke the function for events of one bucket of this account only."""
        return LambdaPermission(
            self,
            construct_id,
            statement_id=f"AllowS3{sid_from(construct_id)}",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal="s3.amazonaws.com",
            source_arn=bucket_arn,
            source_account=self._account.account_id,
        )

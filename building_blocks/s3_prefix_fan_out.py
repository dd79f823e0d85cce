"""Run a Lambda function once for every object under an S3 prefix: a Step Functions
Distributed Map whose ItemReader lists the prefix.

This is the path for datasets that outgrow one invocation: each object is one child
execution, up to `max_concurrency` at a time, and the run fails only when more than
`tolerated_failure_percentage` of the objects fail. Start it with input
`{"prefix": "incoming/<dataset>/"}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from building_blocks.account import AccountContext
from building_blocks.fan_out_definition import fan_out_definition
from building_blocks.iam import ServiceRole, Statement
from building_blocks.kms_key import KmsKey
from building_blocks.lambda_function import TRACING_ACTIONS, LambdaFunction
from building_blocks.log_group import encrypted_log_group
from building_blocks.provider_modules import install_lightweight_provider_package
from building_blocks.secure_bucket import SecureBucket

install_lightweight_provider_package()
# ruff: noqa: E402
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)

# CloudWatch Logs delivery for Step Functions has no resource-level permissions (AWS docs:
# "Logging using CloudWatch Logs", IAM policies for logging): these need Resource "*".
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
STATE_MACHINE_TRACING_ACTIONS = (*TRACING_ACTIONS, "xray:GetSamplingRules", "xray:GetSamplingTargets")


@dataclass(frozen=True)
class S3PrefixFanOutProps:
    """Options of an S3PrefixFanOut.

    state_machine_name: the state machine (and role, log group) name.
    bucket: the bucket whose objects are listed; function: run once per object with
        the event `{"bucket": <name>, "key": <key>}`.
    allowed_prefix: the only prefix the machine may list, e.g. "incoming/".
    max_concurrency: child executions at a time. tolerated_failure_percentage: 0-100.
    encryption_key: encrypts the execution log group. log_retention_days: its retention.
    """

    state_machine_name: str
    bucket: SecureBucket
    function: LambdaFunction
    allowed_prefix: str
    max_concurrency: int
    tolerated_failure_percentage: int
    encryption_key: KmsKey
    log_retention_days: int


class S3PrefixFanOut(Construct):
    """A STANDARD state machine with logging (ALL, with execution data) and X-Ray tracing."""

    def __init__(self, scope: Construct, construct_id: str, props: S3PrefixFanOutProps) -> None:
        super().__init__(scope, construct_id)
        if not props.allowed_prefix.endswith("/"):
            raise ValueError(
                f"state machine {props.state_machine_name}: allowed_prefix {props.allowed_prefix!r} must end with '/'"
            )
        if not 0 <= props.tolerated_failure_percentage <= 100:
            raise ValueError(
                f"state machine {props.state_machine_name}: tolerated_failure_percentage="
                f"{props.tolerated_failure_percentage} must be 0-100"
            )
        account = AccountContext.of(self)
        name = props.state_machine_name
        arn_prefix = f"arn:{account.partition}:states:{account.region}:{account.account_id}"
        own_arn = f"{arn_prefix}:stateMachine:{name}"  # known before creation: no dependency cycle

        self.log_group = encrypted_log_group(
            self,
            "logs",
            name=f"/aws/vendedlogs/states/{name}",
            key=props.encryption_key,
            retention_days=props.log_retention_days,
        )

        self.role = ServiceRole(
            self, "role", role_name=name, service="states.amazonaws.com", source_account=account.account_id
        )
        props.function.grant_invoke(self.role, "invoke-function")
        bucket_listing = props.bucket.read_statements(props.allowed_prefix)
        self.role.add_policy("list-objects", [s for s in bucket_listing if s.sid == "ListObjects"])
        self.role.add_policy(
            "child-executions",
            [
                Statement(sid="StartChildExecutions", actions=("states:StartExecution",), resources=(own_arn,)),
                Statement(
                    sid="ManageChildExecutions",
                    actions=("states:DescribeExecution", "states:StopExecution"),
                    resources=(f"{arn_prefix}:execution:{name}/*", f"{arn_prefix}:execution:{name}:*"),
                ),
            ],
        )
        self.role.add_policy("logs", [Statement(sid="DeliverLogs", actions=LOG_DELIVERY_ACTIONS, resources=("*",))])
        self.role.add_policy(
            "tracing", [Statement(sid="WriteTraces", actions=STATE_MACHINE_TRACING_ACTIONS, resources=("*",))]
        )

        definition = fan_out_definition(
            props.bucket.bucket.bucket, props.function.arn, props.max_concurrency, props.tolerated_failure_percentage
        )
        self.state_machine = SfnStateMachine(
            self,
            "state-machine",
            name=name,
            role_arn=self.role.arn,
            type="STANDARD",
            definition=json.dumps(definition),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                # Execution data is object keys and row counts, never row contents; the log
                # group is KMS-encrypted. It is what makes a failed item debuggable.
                log_destination=f"{self.log_group.arn}:*",
                include_execution_data=True,
                level="ALL",
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=True),
            depends_on=[self.log_group, *self.role.dependables()],
        )

    @property
    def arn(self) -> str:
        return self.state_machine.arn

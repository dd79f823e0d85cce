"""Run a Lambda function once for every object under an S3 prefix: a Step Functions
Distributed Map whose ItemReader lists the prefix.

This is the path for datasets that outgrow one invocation: each object is one child
execution, up to `max_concurrency` at a time, and the run fails only when more than
`tolerated_failure_percentage` of the objects fail. Start it with input
`{"prefix": "incoming/<dataset>/"}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from building_blocks.fan_out_definition import fan_out_definition
from building_blocks.kms_key import KmsKey
from building_blocks.lambda_function import LambdaFunction
from building_blocks.secure_bucket import SecureBucket
from building_blocks.state_machine import StateMachine, StateMachineProps


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

    def __post_init__(self) -> None:
        if not self.allowed_prefix.endswith("/"):
            raise ValueError(
                f"state machine {self.state_machine_name}: allowed_prefix {self.allowed_prefix!r} must end with '/'"
            )
        if not 0 <= self.tolerated_failure_percentage <= 100:
            raise ValueError(
                f"state machine {self.state_machine_name}: tolerated_failure_percentage="
                f"{self.tolerated_failure_percentage} must be 0-100"
            )


class S3PrefixFanOut(StateMachine):
    """A StateMachine (logging ALL, tracing) whose role may invoke the function, list only
    `allowed_prefix` of the bucket, and run its own Map items as child executions."""

    def __init__(self, scope: Construct, construct_id: str, props: S3PrefixFanOutProps) -> None:
        definition = fan_out_definition(
            props.bucket.bucket.bucket,
            props.function.arn,
            props.max_concurrency,
            props.tolerated_failure_percentage,
        )
        super().__init__(
            scope,
            construct_id,
            StateMachineProps(
                state_machine_name=props.state_machine_name,
                definition=definition,
                encryption_key=props.encryption_key,
                log_retention_days=props.log_retention_days,
                invokes=(props.function,),
            ),
        )
        props.bucket.grant_list(self.execution, "list-objects", props.allowed_prefix)
        self.allow_child_executions()

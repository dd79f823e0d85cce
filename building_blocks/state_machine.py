"""A Step Functions state machine with the platform's defaults.

Defaults: STANDARD type; logging level ALL with execution data to its own KMS-encrypted log group;
X-Ray tracing; a role that may write those logs and traces and invoke exactly the Lambda functions the
definition calls (each function's ARN and `arn:*`, as CDK's LambdaInvoke task does), nothing else until
a stack grants it more (`machine.role` is a Grantee). Others start executions through
`grant_start_execution`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.execution_role import STEP_FUNCTIONS, ExecutionRole
from building_blocks.iam import Grant, Grantee, Statement
from building_blocks.kms_key import KmsKey
from building_blocks.lambda_function import LambdaFunction
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
# ruff: noqa: E402
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)

STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")


@dataclass(frozen=True)
class StateMachineProps:
    """Options of a StateMachine.

    state_machine_name: the state machine name (also names its role and log group).
    definition: the Amazon States Language document as a dict (Terraform references allowed in values).
    encryption_key: encrypts the execution log group.
    log_retention_days: how long execution logs are kept.
    invokes: the Lambda functions the definition's tasks call; default none. The role may invoke these only.
    type: "STANDARD" (default) or "EXPRESS".
    """

    state_machine_name: str
    definition: Mapping[str, Any]
    encryption_key: KmsKey
    log_retention_days: int
    invokes: Sequence[LambdaFunction] = field(default_factory=tuple)
    type: str = "STANDARD"

    def __post_init__(self) -> None:
        if self.type not in STATE_MACHINE_TYPES:
            raise ValueError(
                f"state machine {self.state_machine_name}: type {self.type!r} must be one of "
                f"{', '.join(STATE_MACHINE_TYPES)}"
            )
        if "StartAt" not in self.definition or "States" not in self.definition:
            raise ValueError(f"state machine {self.state_machine_name}: definition needs StartAt and States")


class StateMachine(Construct):
    """A state machine with its execution role, log group and tracing (see the module docstring)."""

    def __init__(self, scope: Construct, construct_id: str, props: StateMachineProps) -> None:
        super().__init__(scope, construct_id)
        account = AccountContext.of(self)
        self.name = props.state_machine_name
        self._arn_prefix = f"arn:{account.partition}:states:{account.region}:{account.account_id}"

        self.execution = ExecutionRole(
            self,
            name=self.name,
            service=STEP_FUNCTIONS,
            key=props.encryption_key,
            log_retention_days=props.log_retention_days,
        )
        self.log_group = self.execution.log_group
        self.role = self.execution.role
        if props.invokes:
            arns = tuple(chain.from_iterable(function.invocation_arns() for function in props.invokes))
            self.execution.add_policy(
                "invoke-functions",
                [Statement(sid="InvokeFunctions", actions=perms.LAMBDA_INVOKE_ACTIONS, resources=arns)],
            )
        self.state_machine = SfnStateMachine(
            self,
            "state-machine",
            name=self.name,
            role_arn=self.execution.arn,
            type=props.type,
            definition=json.dumps(props.definition),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                # Execution data is what makes a failed execution debuggable; the log group is
                # KMS-encrypted, and definitions pass locations and counts, never row contents.
                log_destination=f"{self.log_group.arn}:*",
                include_execution_data=True,
                level="ALL",
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=True),
            # AWS checks at creation that the role may deliver the logs.
            depends_on=self.execution.dependables(),
        )

    @property
    def arn(self) -> str:
        return self.state_machine.arn

    @property
    def predictable_arn(self) -> str:
        """The ARN built from the name, known before the state machine exists: use it inside the
        machine's own role or definition, where `arn` would be a dependency cycle."""
        return f"{self._arn_prefix}:stateMachine:{self.name}"

    def executions_arns(self) -> tuple[str, str]:
        """ARNs of this machine's executions: standard (`execution:<name>/*` covers Map children) and
        the `:<name>:*` form of express executions."""
        return (f"{self._arn_prefix}:execution:{self.name}/*", f"{self._arn_prefix}:execution:{self.name}:*")

    def grant_start_execution(self, grantee: Grantee, name: str) -> Grant:
        """Let `grantee` start executions of this state machine, nothing else: inline policy `name`."""
        return grantee.add_policy(
            name, [Statement(sid="StartExecution", actions=perms.STATE_MACHINE_START_ACTIONS, resources=(self.arn,))]
        )

    def allow_child_executions(self) -> Grant:
        """Let the machine run a Distributed Map: start itself as child executions, describe and stop them."""
        return self.execution.add_policy(
            "child-executions",
            [
                Statement(
                    sid="StartChildExecutions",
                    actions=perms.STATE_MACHINE_START_ACTIONS,
                    resources=(self.predictable_arn,),
                ),
                Statement(
                    sid="ManageChildExecutions",
                    actions=perms.STATE_MACHINE_CHILD_EXECUTION_ACTIONS,
                    resources=self.executions_arns(),
                ),
            ],
        )

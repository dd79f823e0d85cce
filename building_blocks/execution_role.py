"""The role a Lambda function or a state machine runs as, with its own encrypted log group.

Every compute construct of the platform needs the same four things: a KMS-encrypted log group with a
retention, a role only that service may assume (for this account only), permission to write exactly
those logs, and permission to send X-Ray traces. `ExecutionRole` builds them once; LambdaFunction and
StateMachine differ only in their `ExecutingService`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.iam import Grant, ServiceRole, Statement
from building_blocks.kms_key import KmsKey
from building_blocks.log_group import encrypted_log_group


@dataclass(frozen=True)
class ExecutingService:
    """How one AWS service runs code and writes its logs.

    principal: who assumes the role. log_group_prefix: the log group name before the resource name.
    log_actions: what the role needs to deliver logs; logs_scoped_to_group: True when those actions
    take the log group's ARN (Lambda writes its own streams), False when AWS offers no resource-level
    permission for them (Step Functions' log delivery API). tracing_actions: X-Ray (always Resource `*`).
    """

    principal: str
    log_group_prefix: str
    log_actions: tuple[str, ...]
    logs_scoped_to_group: bool
    tracing_actions: tuple[str, ...]


LAMBDA = ExecutingService(
    principal="lambda.amazonaws.com",
    log_group_prefix="/aws/lambda/",
    log_actions=perms.LOG_STREAM_WRITE_ACTIONS,
    logs_scoped_to_group=True,
    tracing_actions=perms.LAMBDA_TRACING_ACTIONS,
)
# Step Functions requires the /aws/vendedlogs/ prefix to keep its log-delivery resource policy small.
STEP_FUNCTIONS = ExecutingService(
    principal="states.amazonaws.com",
    log_group_prefix="/aws/vendedlogs/states/",
    log_actions=perms.LOG_DELIVERY_ACTIONS,
    logs_scoped_to_group=False,
    tracing_actions=perms.STATE_MACHINE_TRACING_ACTIONS,
)


class ExecutionRole:
    """Adds `logs` (the encrypted log group) and `role` (the service role) to `scope`.

    Not a construct of its own, so the resources keep the addresses of the construct that owns them
    (`<function>/logs`, `<function>/role`). The role starts with exactly two inline policies, `logs`
    and `tracing`; grants add the rest. It is a Grantee: pass it (or its owner) to `grant_*` methods.

    Args:
        name: names the role and, after the service's prefix, the log group.
        service: LAMBDA or STEP_FUNCTIONS.
        key: encrypts the log group (its policy gets a statement for this group only).
        log_retention_days: how long the log group keeps events.
    """

    def __init__(
        self, scope: Construct, *, name: str, service: ExecutingService, key: KmsKey, log_retention_days: int
    ) -> None:
        account = AccountContext.of(scope)
        self.service = service
        self.log_group = encrypted_log_group(
            scope, "logs", name=f"{service.log_group_prefix}{name}", key=key, retention_days=log_retention_days
        )
        self.role = ServiceRole(
            scope, "role", role_name=name, service=service.principal, source_account=account.account_id
        )
        log_resource = f"{self.log_group.arn}:*" if service.logs_scoped_to_group else "*"
        self.logs_grant = self.role.add_policy(
            "logs", [Statement(sid="WriteLogs", actions=service.log_actions, resources=(log_resource,))]
        )
        self.tracing_grant = self.role.add_policy(
            "tracing", [Statement(sid="WriteTraces", actions=service.tracing_actions, resources=("*",))]
        )

    @property
    def arn(self) -> str:
        return self.role.arn

    def add_policy(self, name: str, statements: Sequence[Statement]) -> Grant:
        """Attach one more inline policy (this makes the execution role a Grantee)."""
        return self.role.add_policy(name, statements)

    def dependables(self) -> list[Any]:
        """The log group, the role and its policies so far: what the function or state machine must
        wait for (AWS checks log delivery and DLQ permissions when it is created)."""
        return [self.log_group, *self.role.dependables()]

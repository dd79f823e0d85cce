"""A synth-time policy check: fail synth when a stack breaks the platform's baseline.

Rules (each violation names the construct path of the offending resource):
- every aws_s3_bucket has a server-side encryption configuration;
- no Allow statement in any IAM or resource policy grants a wildcard action
  (`*`, `s3:*`, `s3:Get*`). Deny statements may use wildcards: denying more is safe.

Runs as a CDKTF Aspect on the stack: it checks the stack's resolved Terraform JSON, so
resources built by hand are checked exactly like those built by our constructs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsii
from cdktf import IAspect, TerraformStack
from constructs import IConstruct

# Resource types whose attribute holds a policy document, and that attribute.
POLICY_ATTRIBUTES = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_s3_bucket_policy": "policy",
    "aws_kms_key": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_codeartifact_domain_permissions_policy": "policy_document",
    "aws_codeartifact_repository_permissions_policy": "policy_document",
}


@dataclass(frozen=True)
class Violation:
    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}"


class PolicyViolationError(RuntimeError):
    """Raised from the aspect; jsii re-raises it as RuntimeError with this message."""


def find_violations(terraform: dict[str, Any]) -> list[Violation]:
    """All baseline violations in one stack's Terraform JSON (as written to cdk.tf.json)."""
    resources: dict[str, dict[str, Any]] = terraform.get("resource", {})
    violations = list(_unencrypted_buckets(resources))
    for rtype, attribute in POLICY_ATTRIBUTES.items():
        for name, body in resources.get(rtype, {}).items():
            violations.extend(_wildcard_actions(_path(body, rtype, name), body.get(attribute)))
    for name, body in resources.get("aws_iam_role", {}).items():
        for inline in body.get("inline_policy", []) or []:
            violations.extend(_wildcard_actions(_path(body, "aws_iam_role", name), inline.get("policy")))
    return violations


def _path(body: dict[str, Any], rtype: str, name: str) -> str:
    return body.get("//", {}).get("metadata", {}).get("path", f"{rtype}.{name}")


def _unencrypted_buckets(resources: dict[str, dict[str, Any]]) -> Iterator[Violation]:
    encrypted = {
        body.get("bucket") for body in resources.get("aws_s3_bucket_server_side_encryption_configuration", {}).values()
    }
    for name, body in resources.get("aws_s3_bucket", {}).items():
        references = {f"${{aws_s3_bucket.{name}.id}}", f"${{aws_s3_bucket.{name}.bucket}}", body.get("bucket")}
        if not references & encrypted:
            yield Violation(_path(body, "aws_s3_bucket", name), "bucket has no server-side encryption configuration")


def _wildcard_actions(path: str, document: Any) -> Iterator[Violation]:
    if not isinstance(document, str):
        return
    try:
        policy = json.loads(document)
    except json.JSONDecodeError:
        return  # not literal JSON (e.g. a data source reference); nothing to inspect here
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action:
                sid = statement.get("Sid", "(no sid)")
                yield Violation(path, f"statement {sid} allows wildcard action {action!r}")
        if "NotAction" in statement:
            yield Violation(path, f"statement {statement.get('Sid', '(no sid)')} uses NotAction with Allow")


@jsii.implements(IAspect)
class PolicyGuard:
    """Aspect that raises PolicyViolationError listing every violation in the stack."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformStack):
            return
        found = find_violations(node.to_terraform())
        if found:
            self.violations.extend(found)
            lines = "\n".join(f"  {v}" for v in found)
            raise PolicyViolationError(f"policy check failed for stack {node.node.id}:\n{lines}")

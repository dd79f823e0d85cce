"""What Terraform needs in IAM to plan and apply the platform's stacks, per resource and data-source type.

One entry per Terraform type the platform stacks synthesize (tests/unit/test_bootstrap_stack.py fails naming any
type without one, so a new resource type cannot ship without its permissions):

    read    what the AWS provider 5.100 calls to refresh the type (every `terraform plan`)
    write   what it calls, besides the reads, to create, update and delete it (`terraform apply`)
    scope   each action list names the Scope whose ARN patterns it applies to: the environment's own
            resources only (`<name_prefix>-*` names; KMS keys, whose ids are random, by their tags)

`statements(access, context)` turns the table into IAM statements, one per scope, so a role's policy lists each
action once per kind of resource. No action has a wildcard; `Scope.ANY` (resource `*`) holds only actions AWS
offers no resource-level permission for, each in perms.WILDCARD_RESOURCE_ACTIONS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from building_blocks.iam import Statement

# Services the platform's roles are passed to (iam:PassRole with iam:PassedToService).
LAMBDA_SERVICE = "lambda.amazonaws.com"
STATES_SERVICE = "states.amazonaws.com"
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
EVENTS_SERVICE = "events.amazonaws.com"

# Objects the stacks declare as Terraform resources, as (bucket purpose, key prefix): the training code
# (stacks/training_pipeline.py) and the promoted models and their pointers (building_blocks/production_model.py).
MANAGED_OBJECTS = (("training", "code/"), ("production-models", "models/"))
# Where promotion copies come from (aws_s3_object_copy's source).
COPY_SOURCES = (("candidate-models", "models/"),)


class Scope(Enum):
    """A family of ARNs the platform's resources of one environment fall in (see `scope_resources`)."""

    ANY = "any"  # resource `*`: only for actions without resource-level permissions
    BUCKETS = "buckets"
    MANAGED_OBJECTS = "managed-objects"
    COPY_SOURCES = "copy-sources"
    STATE_OBJECTS = "state-objects"
    KEYS = "keys"  # by tag: aws:ResourceTag/project and /environment
    KEY_GRANTS = "key-grants"  # KEYS, and only grants a service creates for its resource (GrantIsForAWSResource)
    KEYS_READ_BY_SERVICES = "keys-read-by-services"  # KEYS, only through Lambda or Scheduler (kms:ViaService)
    NEW_KEYS = "new-keys"  # resource `*` (CreateKey has no resource), by aws:RequestTag
    NEW_KEY_TAGS = "new-key-tags"  # the tags a CreateKey request sets on its new key, by aws:RequestTag
    ALIASES = "aliases"
    ROLES = "roles"
    FUNCTIONS = "functions"
    LOG_GROUPS = "log-groups"
    ACCOUNT_LOG_GROUPS = "account-log-groups"  # DescribeLogGroups authorizes on the account's log-group:*
    QUEUES = "queues"
    TOPICS = "topics"
    STATE_MACHINES = "state-machines"
    PIPELINES = "pipelines"
    SCHEDULES = "schedules"
    EVENT_RULES = "event-rules"
    CODEARTIFACT = "codeartifact"


@dataclass(frozen=True)
class ScopeContext:
    """What the ARN patterns are made of: partition, region and account (tokens in a stack), the environment's
    name prefix, its name and project tag (for KMS key conditions), and its state bucket and key prefix."""

    partition: str
    region: str
    account: str
    name_prefix: str
    environment: str
    project: str
    state_bucket: str
    state_key_prefix: str

    def _arn(self, service: str, resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        region = self.region if regional else ""
        account = self.account if in_account else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def _objects(self, pairs: Iterable[tuple[str, str]]) -> tuple[str, ...]:
        return tuple(
            self._arn("s3", f"{self.name_prefix}-{purpose}/{prefix}*", regional=False, in_account=False)
            for purpose, prefix in pairs
        )

    def resources(self, scope: Scope) -> tuple[str, ...]:
        """The ARN patterns of `scope` in this environment."""
        p = self.name_prefix
        patterns: Mapping[Scope, tuple[str, ...]] = {
            Scope.ANY: ("*",),
            Scope.NEW_KEYS: ("*",),
            Scope.BUCKETS: (self._arn("s3", f"{p}-*", regional=False, in_account=False),),
            Scope.MANAGED_OBJECTS: self._objects(MANAGED_OBJECTS),
            Scope.COPY_SOURCES: self._objects(COPY_SOURCES),
            Scope.STATE_OBJECTS: (
                self._arn(
                    "s3",
                    f"{self.state_bucket}/{self.state_key_prefix.rstrip('/')}/*",
                    regional=False,
                    in_account=False,
                ),
            ),
            Scope.KEYS: (self._arn("kms", "key/*"),),
            Scope.KEY_GRANTS: (self._arn("kms", "key/*"),),
            Scope.KEYS_READ_BY_SERVICES: (self._arn("kms", "key/*"),),
            Scope.NEW_KEY_TAGS: (self._arn("kms", "key/*"),),
            Scope.ALIASES: (self._arn("kms", f"alias/{p}-*"),),
            Scope.ROLES: (self._arn("iam", f"role/{p}-*", regional=False),),
            Scope.FUNCTIONS: (self._arn("lambda", f"function:{p}-*"),),
            Scope.LOG_GROUPS: (
                self._arn("logs", f"log-group:/aws/lambda/{p}-*"),
                self._arn("logs", f"log-group:/aws/vendedlogs/states/{p}-*"),
            ),
            Scope.ACCOUNT_LOG_GROUPS: (self._arn("logs", "log-group:*"),),
            Scope.QUEUES: (self._arn("sqs", f"{p}-*"),),
            Scope.TOPICS: (self._arn("sns", f"{p}-*"),),
            Scope.STATE_MACHINES: (self._arn("states", f"stateMachine:{p}-*"),),
            Scope.PIPELINES: (self._arn("sagemaker", f"pipeline/{p}-*"),),
            Scope.SCHEDULES: (self._arn("scheduler", f"schedule/default/{p}-*"),),
            Scope.EVENT_RULES: (self._arn("events", f"rule/{p}-*"),),
            Scope.CODEARTIFACT: (
                self._arn("codeartifact", f"domain/{p}-*"),
                self._arn("codeartifact", f"repository/{p}-*/*"),
            ),
        }
        return patterns[scope]

    def conditions(self, scope: Scope) -> dict[str, dict[str, Any]]:
        """KMS keys have random ids: existing keys are this environment's by their tags (the provider's default
        tags), a new key by the tags its CreateKey request carries."""
        tags = {"project": self.project, "environment": self.environment}
        existing = {f"aws:ResourceTag/{key}": value for key, value in tags.items()}
        if scope is Scope.KEYS:
            return {"StringEquals": existing}
        if scope is Scope.KEY_GRANTS:
            # Only the grants a service (Lambda, SQS, CodeArtifact, ...) makes for the resource it encrypts.
            return {"StringEquals": existing, "Bool": {"kms:GrantIsForAWSResource": "true"}}
        if scope is Scope.KEYS_READ_BY_SERVICES:
            # Lambda returns a function's environment and Scheduler a schedule's target decrypted with the
            # caller's permission: a refresh needs Decrypt, but only through those services.
            services = [f"{service}.{self.region}.amazonaws.com" for service in ("lambda", "scheduler")]
            return {"StringEquals": {**existing, "kms:ViaService": services}}
        if scope is Scope.NEW_KEYS:
            return {"StringEquals": {f"aws:RequestTag/{key}": value for key, value in tags.items()}}
        if scope is Scope.NEW_KEY_TAGS:
            # A new key has no tags yet; an existing key must already be this environment's, so tagging cannot
            # bring another environment's key into KEYS. (An untagged key of someone else's still could be:
            # one account per environment closes that.)
            return {
                "StringEquals": {f"aws:RequestTag/{key}": value for key, value in tags.items()},
                "StringEqualsIfExists": existing,
            }
        return {}


@dataclass(frozen=True)
class Access:
    """Some actions on the resources of one scope."""

    scope: Scope
    actions: tuple[str, ...]


@dataclass(frozen=True)
class TypePermissions:
    """What one Terraform type needs: `read` to refresh it, `write` (besides the reads) to change it, and the
    service its role argument is passed to (iam:PassRole), if any. `note` says why an entry is empty."""

    read: tuple[Access, ...] = ()
    write: tuple[Access, ...] = ()
    passes_role_to: str | None = None
    note: str = ""


def _on(scope: Scope, *actions: str) -> Access:
    return Access(scope, actions)


# KMS use by a resource that encrypts with one of the environment's keys when it is created or changed.
_KEY_USE_FOR_CREATION = _on(Scope.KEYS, "kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
_KEY_GRANTS = _on(Scope.KEY_GRANTS, "kms:CreateGrant")
# Refreshing a resource whose configuration the service returns decrypted with the caller's permission.
_KEY_READ_BACK = _on(Scope.KEYS_READ_BY_SERVICES, "kms:Decrypt")
_TAG_KEYS = _on(Scope.KEYS, "kms:TagResource", "kms:UntagResource")

RESOURCES: Mapping[str, TypePermissions] = {
    # -- S3 ----------------------------------------------------------------------------------------------
    "aws_s3_bucket": TypePermissions(
        read=(
            _on(
                Scope.BUCKETS,
                "s3:ListBucket",  # HeadBucket
                "s3:GetBucketLocation",
                "s3:GetBucketPolicy",
                "s3:GetBucketAcl",
                "s3:GetBucketCORS",
                "s3:GetBucketWebsite",
                "s3:GetBucketVersioning",
                "s3:GetAccelerateConfiguration",
                "s3:GetBucketRequestPayment",
                "s3:GetBucketLogging",
                "s3:GetLifecycleConfiguration",
                "s3:GetReplicationConfiguration",
                "s3:GetEncryptionConfiguration",
                "s3:GetBucketObjectLockConfiguration",
                "s3:GetBucketTagging",
            ),
        ),
        write=(_on(Scope.BUCKETS, "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging"),),
    ),
    "aws_s3_bucket_lifecycle_configuration": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetLifecycleConfiguration"),),
        write=(_on(Scope.BUCKETS, "s3:PutLifecycleConfiguration"),),  # also what DeleteBucketLifecycle checks
    ),
    "aws_s3_bucket_logging": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetBucketLogging"),),
        write=(_on(Scope.BUCKETS, "s3:PutBucketLogging"),),
    ),
    "aws_s3_bucket_notification": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetBucketNotification"),),
        write=(_on(Scope.BUCKETS, "s3:PutBucketNotification"),),
    ),
    "aws_s3_bucket_ownership_controls": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetBucketOwnershipControls"),),
        write=(_on(Scope.BUCKETS, "s3:PutBucketOwnershipControls"),),
    ),
    "aws_s3_bucket_policy": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetBucketPolicy"),),
        write=(_on(Scope.BUCKETS, "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),),
    ),
    "aws_s3_bucket_public_access_block": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetBucketPublicAccessBlock"),),
        write=(_on(Scope.BUCKETS, "s3:PutBucketPublicAccessBlock"),),
    ),
    "aws_s3_bucket_server_side_encryption_configuration": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetEncryptionConfiguration"),),
        write=(_on(Scope.BUCKETS, "s3:PutEncryptionConfiguration"),),
    ),
    "aws_s3_bucket_versioning": TypePermissions(
        read=(_on(Scope.BUCKETS, "s3:GetBucketVersioning"),),
        write=(_on(Scope.BUCKETS, "s3:PutBucketVersioning"),),
    ),
    # Objects: HeadObject and tags to refresh; a versioned object's delete removes its versions.
    "aws_s3_object": TypePermissions(
        read=(_on(Scope.MANAGED_OBJECTS, "s3:GetObject", "s3:GetObjectTagging"),),
        write=(
            _on(
                Scope.MANAGED_OBJECTS,
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
            ),
            _on(Scope.BUCKETS, "s3:ListBucketVersions"),
            _KEY_USE_FOR_CREATION,
            _KEY_GRANTS,
        ),
    ),
    "aws_s3_object_copy": TypePermissions(
        read=(_on(Scope.MANAGED_OBJECTS, "s3:GetObject", "s3:GetObjectTagging"),),
        write=(
            _on(Scope.COPY_SOURCES, "s3:GetObject", "s3:GetObjectTagging"),
            _on(
                Scope.MANAGED_OBJECTS,
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
            ),
            _on(Scope.BUCKETS, "s3:ListBucketVersions"),
            _KEY_USE_FOR_CREATION,
            _KEY_GRANTS,
        ),
    ),
    # -- KMS ---------------------------------------------------------------------------------------------
    "aws_kms_key": TypePermissions(
        read=(
            _on(Scope.KEYS, "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
        ),
        write=(
            # CreateKey with tags needs TagResource on the new key too; both only with this environment's tags.
            _on(Scope.NEW_KEYS, "kms:CreateKey"),
            _on(Scope.NEW_KEY_TAGS, "kms:TagResource"),
            _on(
                Scope.KEYS,
                "kms:PutKeyPolicy",
                "kms:EnableKeyRotation",
                "kms:DisableKeyRotation",
                "kms:UpdateKeyDescription",
                "kms:EnableKey",
                "kms:DisableKey",
                "kms:ScheduleKeyDeletion",
            ),
            _TAG_KEYS,
        ),
    ),
    "aws_kms_alias": TypePermissions(
        read=(_on(Scope.ANY, "kms:ListAliases"),),
        # Alias changes are authorized on the alias and on the key it points to.
        write=(
            _on(Scope.ALIASES, "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
            _on(Scope.KEYS, "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
        ),
    ),
    # -- IAM ---------------------------------------------------------------------------------------------
    "aws_iam_role": TypePermissions(
        read=(
            _on(
                Scope.ROLES,
                "iam:GetRole",
                "iam:ListRolePolicies",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRoleTags",
            ),
        ),
        write=(
            _on(
                Scope.ROLES,
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:UpdateAssumeRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:DeleteRolePolicy",
                "iam:ListInstanceProfilesForRole",
            ),
        ),
    ),
    "aws_iam_role_policy": TypePermissions(
        read=(_on(Scope.ROLES, "iam:GetRolePolicy"),),
        write=(_on(Scope.ROLES, "iam:PutRolePolicy", "iam:DeleteRolePolicy"),),
    ),
    # -- Lambda ------------------------------------------------------------------------------------------
    "aws_lambda_function": TypePermissions(
        read=(
            _on(
                Scope.FUNCTIONS,
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionCodeSigningConfig",
                "lambda:GetFunctionConcurrency",
                "lambda:ListVersionsByFunction",
                "lambda:ListTags",
            ),
            _KEY_READ_BACK,  # the function's environment is encrypted with the stack's key
        ),
        write=(
            _on(
                Scope.FUNCTIONS,
                "lambda:CreateFunction",
                "lambda:DeleteFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:PutFunctionConcurrency",
                "lambda:DeleteFunctionConcurrency",
                "lambda:TagResource",
                "lambda:UntagResource",
            ),
            _KEY_USE_FOR_CREATION,
            _KEY_GRANTS,  # environment variables encrypted with the stack's key
        ),
        passes_role_to=LAMBDA_SERVICE,
    ),
    "aws_lambda_permission": TypePermissions(
        read=(_on(Scope.FUNCTIONS, "lambda:GetPolicy"),),
        write=(_on(Scope.FUNCTIONS, "lambda:AddPermission", "lambda:RemovePermission"),),
    ),
    # -- CloudWatch Logs ---------------------------------------------------------------------------------
    "aws_cloudwatch_log_group": TypePermissions(
        read=(
            _on(Scope.ACCOUNT_LOG_GROUPS, "logs:DescribeLogGroups"),
            _on(Scope.LOG_GROUPS, "logs:ListTagsForResource", "logs:ListTagsLogGroup"),
        ),
        write=(
            _on(
                Scope.LOG_GROUPS,
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DeleteRetentionPolicy",
                "logs:AssociateKmsKey",
                "logs:DisassociateKmsKey",
                "logs:TagResource",
                "logs:UntagResource",
                "logs:TagLogGroup",
                "logs:UntagLogGroup",
            ),
        ),
    ),
    # -- SQS, SNS ----------------------------------------------------------------------------------------
    "aws_sqs_queue": TypePermissions(
        read=(_on(Scope.QUEUES, "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),),
        write=(
            _on(
                Scope.QUEUES,
                "sqs:CreateQueue",
                "sqs:DeleteQueue",
                "sqs:SetQueueAttributes",
                "sqs:TagQueue",
                "sqs:UntagQueue",
            ),
        ),
    ),
    "aws_sqs_queue_policy": TypePermissions(
        read=(_on(Scope.QUEUES, "sqs:GetQueueAttributes"),),
        write=(_on(Scope.QUEUES, "sqs:SetQueueAttributes"),),
    ),
    "aws_sns_topic": TypePermissions(
        read=(_on(Scope.TOPICS, "sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:GetDataProtectionPolicy"),),
        write=(
            _on(
                Scope.TOPICS,
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:SetTopicAttributes",
                "sns:TagResource",
                "sns:UntagResource",
            ),
        ),
    ),
    "aws_sns_topic_policy": TypePermissions(
        read=(_on(Scope.TOPICS, "sns:GetTopicAttributes"),),
        write=(_on(Scope.TOPICS, "sns:SetTopicAttributes"),),
    ),
    # -- Step Functions, SageMaker, EventBridge ----------------------------------------------------------
    "aws_sfn_state_machine": TypePermissions(
        read=(
            _on(
                Scope.STATE_MACHINES,
                "states:DescribeStateMachine",
                "states:ListStateMachineVersions",
                "states:ListTagsForResource",
            ),
        ),
        write=(
            _on(
                Scope.STATE_MACHINES,
                "states:CreateStateMachine",
                "states:UpdateStateMachine",
                "states:DeleteStateMachine",
                "states:TagResource",
                "states:UntagResource",
            ),
            _KEY_USE_FOR_CREATION,
            _KEY_GRANTS,  # its execution data is encrypted with the stack's key
        ),
        passes_role_to=STATES_SERVICE,
    ),
    "aws_sagemaker_pipeline": TypePermissions(
        read=(_on(Scope.PIPELINES, "sagemaker:DescribePipeline", "sagemaker:ListTags"),),
        write=(
            _on(
                Scope.PIPELINES,
                "sagemaker:CreatePipeline",
                "sagemaker:UpdatePipeline",
                "sagemaker:DeletePipeline",
                "sagemaker:AddTags",
                "sagemaker:DeleteTags",
            ),
        ),
        passes_role_to=SAGEMAKER_SERVICE,
    ),
    "aws_scheduler_schedule": TypePermissions(
        read=(_on(Scope.SCHEDULES, "scheduler:GetSchedule"), _KEY_READ_BACK),
        write=(
            _on(Scope.SCHEDULES, "scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"),
            _KEY_USE_FOR_CREATION,
            _KEY_GRANTS,  # the schedule's input is encrypted with the stack's key
        ),
        passes_role_to=SCHEDULER_SERVICE,
    ),
    "aws_cloudwatch_event_rule": TypePermissions(
        read=(_on(Scope.EVENT_RULES, "events:DescribeRule", "events:ListTagsForResource"),),
        write=(
            _on(
                Scope.EVENT_RULES,
                "events:PutRule",
                "events:DeleteRule",
                "events:EnableRule",
                "events:DisableRule",
                "events:TagResource",
                "events:UntagResource",
            ),
        ),
    ),
    "aws_cloudwatch_event_target": TypePermissions(
        read=(_on(Scope.EVENT_RULES, "events:ListTargetsByRule"),),
        write=(_on(Scope.EVENT_RULES, "events:PutTargets", "events:RemoveTargets"),),
        passes_role_to=EVENTS_SERVICE,
    ),
    # -- CodeArtifact ------------------------------------------------------------------------------------
    "aws_codeartifact_domain": TypePermissions(
        read=(_on(Scope.CODEARTIFACT, "codeartifact:DescribeDomain", "codeartifact:ListTagsForResource"),),
        write=(
            _on(
                Scope.CODEARTIFACT,
                "codeartifact:CreateDomain",
                "codeartifact:DeleteDomain",
                "codeartifact:TagResource",
                "codeartifact:UntagResource",
            ),
            _KEY_USE_FOR_CREATION,
            _KEY_GRANTS,  # the domain's assets are encrypted with the stack's key (a grant)
        ),
    ),
    "aws_codeartifact_domain_permissions_policy": TypePermissions(
        read=(_on(Scope.CODEARTIFACT, "codeartifact:GetDomainPermissionsPolicy"),),
        write=(
            _on(
                Scope.CODEARTIFACT,
                "codeartifact:PutDomainPermissionsPolicy",
                "codeartifact:DeleteDomainPermissionsPolicy",
            ),
        ),
    ),
    "aws_codeartifact_repository": TypePermissions(
        read=(_on(Scope.CODEARTIFACT, "codeartifact:DescribeRepository", "codeartifact:ListTagsForResource"),),
        write=(
            _on(
                Scope.CODEARTIFACT,
                "codeartifact:CreateRepository",
                "codeartifact:UpdateRepository",
                "codeartifact:DeleteRepository",
                "codeartifact:AssociateExternalConnection",
                "codeartifact:DisassociateExternalConnection",
                "codeartifact:AssociateWithDownstreamRepository",
                "codeartifact:TagResource",
                "codeartifact:UntagResource",
            ),
        ),
    ),
    "aws_codeartifact_repository_permissions_policy": TypePermissions(
        read=(_on(Scope.CODEARTIFACT, "codeartifact:GetRepositoryPermissionsPolicy"),),
        write=(
            _on(
                Scope.CODEARTIFACT,
                "codeartifact:PutRepositoryPermissionsPolicy",
                "codeartifact:DeleteRepositoryPermissionsPolicy",
            ),
        ),
    ),
}

DATA_SOURCES: Mapping[str, TypePermissions] = {
    "aws_caller_identity": TypePermissions(note="sts:GetCallerIdentity needs no permission"),
    "aws_partition": TypePermissions(note="answered by the provider, no API call"),
    "aws_region": TypePermissions(note="answered by the provider from its configured region"),
    "aws_codeartifact_repository_endpoint": TypePermissions(
        read=(_on(Scope.CODEARTIFACT, "codeartifact:GetRepositoryEndpoint"),)
    ),
    # Another stack's outputs, read from its state object (the state key's Decrypt comes with the state access).
    "terraform_remote_state": TypePermissions(read=(_on(Scope.STATE_OBJECTS, "s3:GetObject"),)),
}


# Types only the bootstrap stack uses: an administrator applies it (`make bootstrap`), never a CI role, so they
# need no entry (and the CI roles get no permission on them).
BOOTSTRAP_ONLY_TYPES = frozenset(
    {
        ("resource", "aws_iam_openid_connect_provider"),
        ("resource", "aws_iam_policy"),
        ("resource", "aws_iam_role_policy_attachment"),
        ("data", "aws_iam_openid_connect_provider"),
    }
)


class MissingPermissionsError(LookupError):
    """A Terraform type has no entry in this module's table; the message names it."""


def entry(kind: str, terraform_type: str) -> TypePermissions:
    """The entry of one resource (`kind` "resource") or data source (`kind` "data") type."""
    if kind not in ("resource", "data"):
        raise ValueError(f"entry kind {kind!r} must be 'resource' or 'data'")
    table = RESOURCES if kind == "resource" else DATA_SOURCES
    if terraform_type not in table:
        raise MissingPermissionsError(
            f"{kind} type {terraform_type!r} has no entry in building_blocks/terraform_permissions.py: "
            "add the IAM actions the AWS provider needs to refresh and to change it"
        )
    return table[terraform_type]


READ = "read"
WRITE = "write"


def access_of(kind: str) -> dict[Scope, set[str]]:
    """Every action of the table by scope: the reads (`kind` READ), or the writes that are not also reads of
    the same scope (WRITE; a role that changes resources gets both)."""
    if kind not in (READ, WRITE):
        raise ValueError(f"access kind {kind!r} must be {READ!r} or {WRITE!r}")
    by_scope: dict[Scope, set[str]] = {}
    for permissions in (*RESOURCES.values(), *DATA_SOURCES.values()):
        for access in permissions.read if kind == READ else permissions.write:
            by_scope.setdefault(access.scope, set()).update(access.actions)
    if kind == WRITE:
        reads = access_of(READ)
        by_scope = {scope: actions - reads.get(scope, set()) for scope, actions in by_scope.items()}
    return {scope: actions for scope, actions in by_scope.items() if actions}


def statements(kind: str, context: ScopeContext) -> list[Statement]:
    """One Allow statement per scope (sid `<Kind><Scope>`, e.g. ReadBuckets), actions sorted: what refreshing
    (`kind` READ) or changing (WRITE) the platform's resources needs."""
    result = []
    for scope, actions in sorted(access_of(kind).items(), key=lambda item: item[0].value):
        sid = kind.capitalize() + "".join(part.capitalize() for part in scope.value.split("-"))
        result.append(
            Statement(
                sid=sid,
                actions=tuple(sorted(actions)),
                resources=context.resources(scope),
                conditions=context.conditions(scope),
            )
        )
    return result


def passed_services() -> tuple[str, ...]:
    """The services Terraform passes the platform's roles to (iam:PassRole, iam:PassedToService)."""
    return tuple(sorted({p.passes_role_to for p in RESOURCES.values() if p.passes_role_to}))

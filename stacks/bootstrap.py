"""Bootstrap of one real environment (dev or prod): what must exist before CI can plan and deploy it.

    state bucket      [<env>.state].bucket                 Terraform state of every stack; versioned, every old
                                                            version kept (the way back from a bad apply)
    state key         alias/<state bucket>                 its own KMS key
    access logs       <name_prefix>-state-access-logs      server access logs of the state bucket
    OIDC provider     token.actions.githubusercontent.com  made once per account ([<env>.github]
                                                            create_oidc_provider = false looks it up instead)
    roles             <name_prefix>-github-plan            read-only: pull-request plans, the drift check on main,
                                                            the promotion workflow's validate and plan jobs
                      <name_prefix>-github-apply           the deploy-on-merge job of the deploy environment
                      <name_prefix>-github-promotion       the promote job (only when promotion_environment is set)

The stack is `bootstrap-<env>`, deliberately outside the `<env>-*` pattern that `make deploy` and CI select, so no
CI run can change the roles it runs as; an administrator applies it once (`make bootstrap`, tooling/bootstrap.py),
and again when this file changes. Its own state lives in the bucket it makes (`<key_prefix>/bootstrap-<env>.tfstate`).

Trust (StringEquals on GitHub's `aud` and exact `sub` claims, never a wildcard): plan
`repo:<repo>:pull_request` and `repo:<repo>:ref:refs/heads/main`; apply `repo:<repo>:environment:<deploy
environment>`; promotion `repo:<repo>:environment:<promotion environment>`. A job that names a GitHub environment
gets the environment as its `sub` (not its branch), and AWS evaluates no other claim, so the apply and promotion
roles cannot see the branch: restrict those GitHub environments' deployment branches to `main` (Settings ->
Environments), and GitHub refuses such a job, and its token, on any other branch.

Permissions come from building_blocks/terraform_permissions.py (what Terraform needs per resource type, scoped to
`<name_prefix>-*` names and, for KMS keys, to the environment's tags): the plan role the reads and the state objects
(read), and no write at all (plans run with `-lock=false`: tooling/stack_plan.py); the apply role reads and writes,
the state objects and their `.tflock` locks, and iam:PassRole of `<name_prefix>-*` roles to the services that run
them; the promotion role the plan role's and what README "Promoting a model" lists (put `models/*` of the
production bucket, the artifact store's state object and its lock).
Explicit Denies keep the apply and promotion roles off this stack's own roles, state bucket and state key.

Left for later, rather than overreaching: the apply role can create `<name_prefix>-*` roles with any inline policy
(the platform's stacks do), so it could escalate to what such a role is allowed; a permissions boundary required
on every role it creates (iam:PermissionsBoundary) would close that, and needs the stacks to set one.
"""

from __future__ import annotations

from pathlib import Path

from cdktf import Aspects, LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from building_blocks import perms
from building_blocks import terraform_permissions as tfp
from building_blocks.account import AccountContext
from building_blocks.iam import (
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    GitHubOidcRole,
    ManagedPolicy,
    Statement,
    github_ci_subjects,
    policy_document,
)
from building_blocks.policy_guard import PolicyGuard
from building_blocks.provider_modules import install_lightweight_provider_package
from building_blocks.secure_bucket import SecureBucket, SecureBucketProps, access_log_bucket
from platform_config import ConfigError, EnvironmentConfig
from stacks.artifact_store import MODELS_PREFIX
from stacks.backend import state_backend
from stacks.provider import aws_provider

install_lightweight_provider_package()
# ruff: noqa: E402
from cdktf_cdktf_provider_aws.data_aws_iam_openid_connect_provider import DataAwsIamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider

GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
# AWS no longer checks thumbprints for GitHub's provider (it trusts the issuer's CA chain), but the API may still
# ask for one: these are the two GitHub publishes (GitHub changelog, 2023-06-27).
GITHUB_OIDC_THUMBPRINTS = ("6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd")
# The stacks whose state the promotion role writes (it applies only the artifact store).
PROMOTED_STACK = "artifact-store"


# What one managed policy may hold before it is split: IAM's 6,144 characters (whitespace not counted), less a
# margin. Measured on the synthesized JSON, whose ${data...} tokens are longer than the ARNs they resolve to.
MANAGED_POLICY_CHARACTERS = 5_000


def split_statements(statements: list[Statement], limit: int = MANAGED_POLICY_CHARACTERS) -> list[list[Statement]]:
    """`statements` in order, in as few consecutive groups as keep each group's policy under `limit` characters.
    ValueError for no statement, or one that alone exceeds `limit` (split its actions instead)."""
    if not statements:
        raise ValueError("split_statements: no statements (a managed policy needs at least one)")
    for statement in statements:
        if len(policy_document([statement]).replace(" ", "")) > limit:
            raise ValueError(f"statement {statement.sid} alone exceeds {limit} characters: split its actions")
    groups: list[list[Statement]] = [[]]
    for statement in statements:
        candidate = [*groups[-1], statement]
        if groups[-1] and len(policy_document(candidate).replace(" ", "")) > limit:
            groups.append([statement])
        else:
            groups[-1] = candidate
    return groups


def _check_environment(config: EnvironmentConfig) -> None:
    if config.is_local:
        raise ConfigError(
            config.name,
            "ENV",
            config.name,
            "the bootstrap stack is for dev and prod: local keeps state on disk and has no CI roles",
        )
    if config.github is None:
        raise ConfigError(
            config.name, "github", None, "required table with deploy_environment (and promotion_environment)"
        )


class BootstrapStack(TerraformStack):
    """The state bucket, GitHub's OIDC provider and the CI roles of one real environment (module docstring).

    Args:
        local_state_file: default None keeps this stack's state in the state bucket (S3 backend, key
            `<key_prefix>/bootstrap-<env>.tfstate`); a path keeps it in that local file, for the first apply,
            before the bucket exists.
    Raises ConfigError for `local`, or when `[<env>.github]` is missing.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        guard: PolicyGuard,
        local_state_file: Path | None = None,
    ) -> None:
        _check_environment(config)
        assert config.state is not None and config.github is not None  # loader and _check_environment
        name = config.bootstrap_stack_name
        super().__init__(scope, name)
        self.config = config
        aws_provider(self, config)
        if local_state_file is None:
            state_backend(self, config, name)
        else:
            LocalBackend(self, path=str(local_state_file))
        Aspects.of(self).add(guard)

        self.access_logs = access_log_bucket(
            self,
            "access-logs",
            bucket_name=config.resource_name("state-access-logs"),
            retention_days=config.buckets.access_log_expiration_days,
            disposable=False,
        )
        self.state = SecureBucket(
            self,
            "state",
            SecureBucketProps(
                bucket_name=config.state.bucket,
                access_log_bucket=self.access_logs,
                key_deletion_window_days=config.kms_deletion_window_days,
                noncurrent_version_expiration_days=None,
                abort_incomplete_multipart_upload_days=config.buckets.abort_incomplete_multipart_upload_days,
            ),
        )
        assert self.state.encryption_key is not None
        self.state_key = self.state.encryption_key

        if config.github.create_oidc_provider:
            provider = IamOpenidConnectProvider(
                self,
                "github-oidc",
                url=GITHUB_OIDC_URL,
                client_id_list=[GITHUB_OIDC_AUDIENCE],
                thumbprint_list=list(GITHUB_OIDC_THUMBPRINTS),
            )
            self.oidc_provider_arn = provider.arn
        else:
            self.oidc_provider_arn = DataAwsIamOpenidConnectProvider(self, "github-oidc", url=GITHUB_OIDC_URL).arn

        account = AccountContext.of(self)
        self.scope_context = tfp.ScopeContext(
            partition=account.partition,
            region=account.region,
            account=account.account_id,
            name_prefix=config.name_prefix,
            environment=config.name,
            project=config.project,
            state_bucket=config.state.bucket,
            state_key_prefix=config.state.key_prefix,
        )
        self._account = account
        repo = config.repository
        self.plan_role = self._role(
            "plan",
            github_ci_subjects(repo),
            "Read-only Terraform plans of pull requests and main (drift check, promotion validate/plan)",
        )
        self.apply_role = self._role(
            "apply",
            (f"repo:{repo}:environment:{config.github.deploy_environment}",),
            f"Deploys {config.name} from main (GitHub environment {config.github.deploy_environment})",
        )
        self.promotion_role: GitHubOidcRole | None = None
        if config.github.promotion_environment:
            self.promotion_role = self._role(
                "promotion",
                (f"repo:{repo}:environment:{config.github.promotion_environment}",),
                f"Promotes models to production (GitHub environment {config.github.promotion_environment})",
            )
        # Managed policies: the refresh is shared by all three roles, and with the changes it is more than the
        # 10,240 characters IAM allows a role's inline policies together.
        self.refresh_policy = ManagedPolicy(
            self,
            "terraform-read",
            policy_name=config.resource_name("github-terraform-read"),
            statements=tfp.statements(tfp.READ, self.scope_context),
            description=f"What Terraform needs to refresh the {config.name} stacks (plan)",
        )
        # A managed policy holds 6,144 characters: the changes are split over as many as they need.
        self.change_policies = [
            ManagedPolicy(
                self,
                f"terraform-write-{number}",
                policy_name=config.resource_name(f"github-terraform-write-{number}"),
                statements=chunk,
                description=f"What Terraform needs, besides refreshing, to change the {config.name} stacks "
                f"(apply, part {number})",
            )
            for number, chunk in enumerate(split_statements(tfp.statements(tfp.WRITE, self.scope_context)), start=1)
        ]
        self._grant_plan(self.plan_role)
        self._grant_apply(self.apply_role)
        if self.promotion_role is not None:
            self._grant_plan(self.promotion_role)
            self._grant_promotion(self.promotion_role)

        for output, value, description in (
            ("state_bucket", self.state.bucket.bucket, "Terraform state bucket of every stack of the environment"),
            ("state_key_arn", self.state_key.arn, "KMS key of the state bucket"),
            ("oidc_provider_arn", self.oidc_provider_arn, "GitHub Actions OIDC provider of the account"),
            ("plan_role_arn", self.plan_role.arn, "GitHub repository variable AWS_PLAN_ROLE_ARN_<ENV>"),
            ("apply_role_arn", self.apply_role.arn, "GitHub variable AWS_APPLY_ROLE_ARN"),
            (
                "promotion_role_arn",
                self.promotion_role.arn if self.promotion_role else "",
                "GitHub variable AWS_PROMOTION_ROLE_ARN (empty: no promotion_environment)",
            ),
        ):
            TerraformOutput(self, output, value=value, description=description)

    # -- roles -------------------------------------------------------------------------------------------

    def _role(self, kind: str, subjects: tuple[str, ...], description: str) -> GitHubOidcRole:
        return GitHubOidcRole(
            self,
            f"github-{kind}",
            role_name=self.config.resource_name(f"github-{kind}"),
            provider_arn=self.oidc_provider_arn,
            subjects=subjects,
            description=description,
        )

    def _grant_plan(self, role: GitHubOidcRole) -> None:
        """Refresh every platform resource and read the state; write nothing. Plans run with `-lock=false`
        (tooling/stack_plan.py): a plan changes no state, and applying a saved plan checks the state has not
        moved since, so no lock is needed; nor can a pull request leave one on a stack that stalls deploys."""
        self.refresh_policy.attach_to(role)
        role.add_policy("terraform-state-read", [*self._state_read_statements(), self.state_key.decrypt_statement()])
        managed = [purpose for purpose, _ in tfp.MANAGED_OBJECTS]
        reads = [self._object_key_statement("DecryptManagedObjects", ("kms:Decrypt",), managed)]
        if self.config.github is not None and self.config.github.promotion_environment:
            # `python -m promotion check` reads the candidate (README "Promoting a model").
            candidates = self.scope_context.resources(tfp.Scope.COPY_SOURCES)
            reads += [
                Statement(sid="ReadCandidates", actions=("s3:GetObject",), resources=candidates),
                self._object_key_statement(
                    "DecryptCandidates", ("kms:Decrypt",), [purpose for purpose, _ in tfp.COPY_SOURCES]
                ),
            ]
        role.add_policy("read-managed-objects", reads)

    def _grant_apply(self, role: GitHubOidcRole) -> None:
        """Refresh and change every platform resource, write the state, pass the platform's roles."""
        self.refresh_policy.attach_to(role)
        for policy in self.change_policies:
            policy.attach_to(role)
        role.add_policy(
            "terraform-state",
            [
                *self._state_read_statements(),
                self._lock_statement(),
                Statement(
                    sid="WriteState",
                    actions=("s3:PutObject",),
                    resources=self.scope_context.resources(tfp.Scope.STATE_OBJECTS),
                ),
                self.state_key.encrypt_decrypt_statement(),
            ],
        )
        role.add_policy(
            "pass-platform-roles",
            [
                Statement(
                    sid="PassPlatformRoles",
                    actions=perms.PASS_ROLE_ACTIONS,
                    resources=self.scope_context.resources(tfp.Scope.ROLES),
                    conditions={"StringEquals": {"iam:PassedToService": list(tfp.passed_services())}},
                )
            ],
        )
        role.add_policy("protect-bootstrap", self._protect_bootstrap_statements())

    def _grant_promotion(self, role: GitHubOidcRole) -> None:
        """Write the production copies and pointers (models/ only) and the artifact store's state."""
        assert self.config.state is not None
        production = f"{self.config.name_prefix}-production-models"
        store_state = self.config.state.key_for(self.config.stack_name(PROMOTED_STACK))
        role.add_policy(
            "promote-models",
            [
                Statement(
                    sid="WriteProductionModels",
                    actions=("s3:PutObject", "s3:PutObjectTagging"),
                    resources=(f"arn:{self._account.partition}:s3:::{production}/{MODELS_PREFIX}*",),
                ),
                self._object_key_statement(
                    "EncryptProductionModels", ("kms:GenerateDataKey", "kms:Decrypt"), ["production-models"]
                ),
                Statement(
                    sid="WriteArtifactStoreState",
                    actions=("s3:PutObject",),
                    resources=(f"{self.state.arn}/{store_state}",),
                ),
                self._lock_statement(store_state),  # its apply locks that state (the plan before it does not)
                self.state_key.encrypt_decrypt_statement(),
            ],
        )
        role.add_policy("protect-bootstrap", self._protect_bootstrap_statements())

    # -- statement pieces --------------------------------------------------------------------------------

    def _state_read_statements(self) -> list[Statement]:
        """List the state bucket (the S3 backend lists workspaces) and read every state object (other stacks'
        too: terraform_remote_state); the state key's actions come with them (`encrypt_decrypt_statement`)."""
        return [
            Statement(sid="ListState", actions=("s3:ListBucket",), resources=(self.state.arn,)),
            Statement(
                sid="ReadState",
                actions=("s3:GetObject",),
                resources=self.scope_context.resources(tfp.Scope.STATE_OBJECTS),
            ),
        ]

    def _lock_statement(self, state_key: str | None = None) -> Statement:
        """S3-native locking (`use_lockfile`) for an apply: create and delete the `.tflock` object of `state_key`'s
        state (default: every stack's under the key prefix), nothing else. Writing a lock object encrypts it with the
        state key, so the roles that lock also hold that key's encrypt actions."""
        assert self.config.state is not None
        states = state_key or f"{self.config.state.key_prefix.rstrip('/')}/*"
        locks = f"{self.state.arn}/{states}.tflock"
        return Statement(sid="LockState", actions=("s3:PutObject", "s3:DeleteObject"), resources=(locks,))

    def _object_key_statement(self, sid: str, actions: tuple[str, ...], purposes: list[str]) -> Statement:
        """KMS `actions` on this environment's keys, only through S3 and only for objects of the buckets
        `<name_prefix>-<purpose>` (S3 names the bucket in the encryption context; the keys live in other stacks,
        so their ARNs are not known here)."""
        buckets = [f"arn:{self._account.partition}:s3:::{self.config.resource_name(p)}" for p in purposes]
        conditions = dict(self.scope_context.conditions(tfp.Scope.KEYS))
        conditions["StringEquals"] = {
            **conditions["StringEquals"],
            "kms:ViaService": f"s3.{self.config.region}.amazonaws.com",
        }
        conditions["StringLike"] = {"kms:EncryptionContext:aws:s3:arn": [*buckets, *(f"{b}/*" for b in buckets)]}
        return Statement(
            sid=sid,
            actions=actions,
            resources=self.scope_context.resources(tfp.Scope.KEYS),
            conditions=conditions,
        )

    def _protect_bootstrap_statements(self) -> list[Statement]:
        """Denies: the `<name_prefix>-*` scopes of the apply role also match this stack's roles and, when named
        so, its buckets; CI must never change the roles it runs as, the state's bucket or key, or old state."""
        iam_arn = f"arn:{self._account.partition}:iam::{self._account.account_id}"
        github = self.config.resource_name("github-")
        roles = (f"{iam_arn}:role/{github}*", f"{iam_arn}:policy/{github}*")
        buckets = (self.state.arn, self.access_logs.arn)
        bucket_writes = sorted(
            action
            for action in tfp.access_of(tfp.WRITE)[tfp.Scope.BUCKETS]
            if not action.startswith(("s3:Get", "s3:List"))
        )
        key_writes = sorted(tfp.access_of(tfp.WRITE)[tfp.Scope.KEYS] - set(perms.KEY_USE_ACTIONS))
        return [
            Statement(sid="DenyBootstrapRoles", effect="Deny", actions=("iam:*",), resources=roles),
            Statement(
                sid="DenyBootstrapBuckets",
                effect="Deny",
                actions=(*bucket_writes, "s3:PutBucketAcl", "s3:PutBucketObjectLockConfiguration"),
                resources=buckets,
            ),
            Statement(
                # The bootstrap's own state lives under the same key prefix as the stacks' states CI writes.
                sid="DenyBootstrapState",
                effect="Deny",
                actions=("s3:PutObject", "s3:DeleteObject"),
                resources=(f"{self.state.arn}/{self.config.state.key_for(self.config.bootstrap_stack_name)}*",),
            ),
            Statement(
                sid="DenyStateHistoryDeletion",
                effect="Deny",
                actions=("s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold"),
                resources=(f"{self.state.arn}/*", f"{self.access_logs.arn}/*"),
            ),
            Statement(
                sid="DenyStateKeyChanges", effect="Deny", actions=tuple(key_writes), resources=(self.state_key.arn,)
            ),
        ]

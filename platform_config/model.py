"""The typed environment configuration every stack is built from.

One frozen dataclass per TOML table of platform_config/environments.toml: the platform-wide keys at
the top of an environment's table, then one sub-table per concern (`[<env>.buckets]`,
`[<env>.data_pipeline]`, ...). Each field declares its rule beside it (platform_config.settings);
`platform_config.load` reads the file generically, so a new setting is one field here plus its line
in the TOML. A new stack adds its own settings class and a field for it on EnvironmentConfig.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import available_timezones

from platform_config.naming import bucket_name_problem, is_account_id, is_region
from platform_config.schedule_expression import schedule_expression_problem
from platform_config.settings import Invalid, runtime, setting
from training.model_naming import check_model_name

ENVIRONMENTS = ("local", "dev", "prod")

# The longest bucket purpose the stacks use; the name prefix must leave room for it.
LONGEST_BUCKET_PURPOSE = "artifact-access-logs"

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def _region(value: str) -> str | None:
    return None if is_region(value) else "not an AWS region code (like 'eu-west-1')"


def _name_prefix(prefix: str) -> str | None:
    longest = f"{prefix}-{LONGEST_BUCKET_PURPOSE}"
    problem = bucket_name_problem(longest)
    return f"gives invalid bucket name {longest!r}: {problem}" if problem else None


def _repository(value: str) -> str | None:
    return None if value.count("/") == 1 and all(value.split("/")) else "must be 'owner/name'"


def _account_ids(ids: tuple[str, ...]) -> None:
    for account in ids:
        if not is_account_id(account):
            raise Invalid("not a 12-digit account id string", value=account)


def _tags(tags: Mapping[str, str]) -> None:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise Invalid("tag keys are 1-128 and values 0-256 characters", part=key, value=value)
        if key.lower().startswith("aws:"):
            raise Invalid("the 'aws:' tag prefix is reserved", part=key, value=value)


def _non_empty(value: str) -> str | None:
    return None if value else "required non-empty string"


@dataclass(frozen=True)
class EmulatorCredentials:
    """The local emulator's fixed dummy credentials (it accepts any; these are what every tool sends)."""

    access_key_id: str = "test"
    secret_access_key: str = "test"


@dataclass(frozen=True, kw_only=True)
class StateBackend:
    """`[<env>.state]`: where dev/prod keep Terraform state, an S3 bucket with native lock files."""

    bucket: str = setting(
        check=bucket_name_problem, doc="the state bucket (made by `make bootstrap`, stacks/bootstrap.py)"
    )
    key_prefix: str = setting(check=_non_empty, doc="state objects are <key_prefix>/<stack>.tfstate")
    region: str = setting(check=_region, doc="the state bucket's region")

    def key_for(self, stack_name: str) -> str:
        """State object key of one stack, e.g. 'ml-platform/dev/dev-artifact-store.tfstate'."""
        return f"{self.key_prefix.rstrip('/')}/{stack_name}.tfstate"


@dataclass(frozen=True, kw_only=True)
class BucketSettings:
    """`[<env>.buckets]`: retention of every stack's buckets (building_blocks.secure_bucket)."""

    noncurrent_version_expiration_days: int = setting(between=(1, 3650), doc="old object versions are kept this long")
    abort_incomplete_multipart_upload_days: int = setting(between=(1, 3650), doc="unfinished uploads are aborted")
    access_log_expiration_days: int = setting(between=(1, 3650), doc="server access logs are kept this long")


@dataclass(frozen=True, kw_only=True)
class DataPipelineSettings:
    """`[<env>.data_pipeline]`: the processor Lambda and the backfill state machine (stacks/data_pipeline.py)."""

    processor_reserved_concurrency: int = setting(between=(1, 1000), doc="most concurrent processor runs")
    processor_memory_mb: int = setting(between=(128, 10240), doc="processor Lambda memory")
    processor_timeout_seconds: int = setting(between=(1, 900), doc="processor Lambda timeout")
    backfill_max_concurrency: int = setting(between=(1, 10000), doc="objects the backfill processes at once")
    backfill_tolerated_failure_percentage: int = setting(between=(0, 100), doc="failed objects a backfill tolerates")


TRIGGERS = ("scheduler", "eventbridge-rule")
# General-purpose and compute families without local instance storage: the pipeline encrypts job volumes with
# a KMS key (VolumeKmsKeyId), which SageMaker refuses for instance types with local NVMe storage (m5d, g4dn, ...).
_INSTANCE_TYPE = re.compile(r"^ml\.(t3|m4|m5|m6i|m7i|c4|c5|c6i|c7i|r5|r6i|r7i)\.([0-9]*x)?(large|medium|small)$")


def _model_name(value: str) -> str | None:
    try:
        check_model_name(value)  # the artifact contract's rule, as the pipeline's scripts check it
    except ValueError as exc:
        return str(exc)
    return None


def _instance_type(value: str) -> str | None:
    if _INSTANCE_TYPE.match(value):
        return None
    return (
        "not a SageMaker instance type of a family without local storage (t3, m4, m5, m6i, m7i, c4, c5, c6i, c7i, "
        "r5, r6i, r7i), like 'ml.m5.large': the pipeline encrypts job volumes with its KMS key"
    )


def _time_zone(value: str) -> str | None:
    zones = available_timezones()
    return None if not zones or value in zones else "not an IANA time zone (like 'UTC' or 'Europe/Dublin')"


def _version_base(value: str) -> str | None:
    return None if re.fullmatch(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", value) else "must be '<major>.<minor>'"


@dataclass(frozen=True, kw_only=True)
class TrainingSettings:
    """`[<env>.training]`: the SageMaker pipeline and what starts it (stacks/training.py)."""

    model_name: str = setting(check=_model_name, doc="name of the model the pipeline trains (models/<name>/)")
    dataset: str = setting(check=_non_empty, doc="the processed dataset it trains on (datasets.toml)")
    label: str = setting(check=_non_empty, doc="the dataset's bool column the model predicts")
    model_version_base: str = setting(check=_version_base, doc="major.minor of versions the pipeline numbers")
    quality_metric: str = setting(one_of=("auc", "accuracy"), doc="held-out metric the quality gate checks")
    quality_threshold: float = setting(between=(0.0, 1.0), doc="candidates below it are not published")
    processing_instance_type: str = setting(check=_instance_type, doc="instance of the processing steps")
    training_instance_type: str = setting(check=_instance_type, doc="instance of the training step")
    max_runtime_minutes: int = setting(between=(5, 1440), doc="each job is stopped after this long")
    run_retention_days: int = setting(between=(1, 3650), doc="intermediate run data (splits, evaluation) is kept")
    trigger: str = setting(one_of=TRIGGERS, doc="EventBridge Scheduler, or the seed's EventBridge rule")
    schedule_enabled: bool = setting(doc="false deploys the schedule disabled")
    schedule_expression: str = setting(check=schedule_expression_problem, doc="cron(6 fields) or rate(...)")
    schedule_timezone: str = setting(check=_time_zone, doc="time zone of the cron (scheduler trigger only)")
    flexible_window_minutes: int = setting(between=(0, 1440), doc="scheduler may start this late; 0 = exactly")
    retry_attempts: int = setting(between=(0, 185), doc="retries when starting the pipeline fails")
    max_event_age_minutes: int = setting(between=(1, 1440), doc="a start not delivered by then goes to the DLQ")


@dataclass(frozen=True, kw_only=True)
class InferenceSettings:
    """`[<env>.inference]`: the Step Functions inference workflow and its two Lambdas (stacks/inference.py)."""

    id_column: str = setting(check=_non_empty, doc="the batch column that identifies a row in the predictions")
    preprocess_memory_mb: int = setting(between=(128, 10240), doc="preprocess Lambda memory")
    predict_memory_mb: int = setting(between=(128, 10240), doc="predict Lambda memory")
    timeout_seconds: int = setting(between=(1, 900), doc="timeout of each inference Lambda")
    reserved_concurrency: int = setting(between=(1, 1000), doc="most concurrent runs of each inference Lambda")
    retry_max_attempts: int = setting(between=(0, 10), doc="retries of a step after a Lambda service error")
    preprocessed_retention_days: int = setting(between=(1, 3650), doc="cleaned batches (preprocessed/) are kept")


# CodeArtifact's name rules (API reference, CreateDomain / CreateRepository).
_CODEARTIFACT_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{1,99}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}$")


def _codeartifact_repository(value: str) -> str | None:
    if _CODEARTIFACT_REPOSITORY.match(value):
        return None
    return (
        "not a CodeArtifact repository name (2-100 letters, digits, '.', '_' or '-', starting with a letter or digit)"
    )


def _organization_id(value: str) -> str | None:
    if not value or _ORGANIZATION_ID.match(value):
        return None
    return "not an AWS Organizations id (like 'o-a1b2c3d4e5'); leave it empty to limit the domain to this account"


def _principal_arns(arns: tuple[str, ...]) -> None:
    for arn in arns:
        if not _IAM_PRINCIPAL_ARN.match(arn):
            raise Invalid("not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)", value=arn)


@dataclass(frozen=True, kw_only=True)
class DependenciesSettings:
    """`[<env>.dependencies]`: the CodeArtifact domain and its two repositories (stacks/dependencies.py)."""

    repository: str = setting(check=_codeartifact_repository, doc="the team repository pip, pipenv and twine use")
    store_repository: str = setting(
        check=_codeartifact_repository, doc="holds the public:pypi connection; the team repository's upstream"
    )
    organization_id: str = setting(
        "", check=_organization_id, doc="empty: only this account may use the domain; o-...: that organization"
    )
    login_token_minutes: int = setting(between=(15, 720), doc="how long a `make pip-login` token lasts")
    publisher_principals: tuple[str, ...] = setting(
        (), check=_principal_arns, doc="who may assume the publisher role (IAM ARNs); empty: the account's IAM"
    )


# GitHub's rules for an environment name (Settings -> Environments): at most 255 characters, no control characters.
_GITHUB_ENVIRONMENT_MAX = 255


def _github_environment(value: str) -> str | None:
    if not value:
        return "required non-empty GitHub environment name"
    if len(value) > _GITHUB_ENVIRONMENT_MAX:
        return f"a GitHub environment name has at most {_GITHUB_ENVIRONMENT_MAX} characters, this one {len(value)}"
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return "a GitHub environment name may not contain control characters"
    # The role's trust pins the OIDC subject exactly; IAM would read these as wildcards in a StringLike.
    if "*" in value or "?" in value:
        return "may not contain '*' or '?': the role trusts this exact name"
    return None


def _optional_github_environment(value: str) -> str | None:
    return _github_environment(value) if value else None


@dataclass(frozen=True, kw_only=True)
class GitHubSettings:
    """`[<env>.github]`: the GitHub Actions OIDC roles the bootstrap stack makes (stacks/bootstrap.py).

    The repository they trust is the top-level `repository` key."""

    create_oidc_provider: bool = setting(
        True, doc="false when another environment's bootstrap in this AWS account already made GitHub's provider"
    )
    deploy_environment: str = setting(
        check=_github_environment, doc="the GitHub environment of the deploy-on-merge jobs (the apply role's subject)"
    )
    promotion_environment: str = setting(
        "", check=_optional_github_environment, doc="the promote job's GitHub environment; empty: no promotion role"
    )


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    """One validated environment. Built by `platform_config.load`, never by hand in stacks."""

    name: str = runtime(doc="local, dev or prod (from $ENV)")
    project: str = setting(doc="the project tag on every resource")
    repository: str = setting(check=_repository, doc="the GitHub repository, owner/name (tags, OIDC)")
    region: str = setting(check=_region, doc="the AWS region every stack deploys to")
    name_prefix: str = setting(check=_name_prefix, doc="prefix of every named resource (bucket names are global)")
    log_retention_days: int = setting(one_of=LOG_RETENTION_DAYS, doc="CloudWatch Logs retention of every log group")
    kms_deletion_window_days: int = setting(between=(7, 30), doc="waiting period before a KMS key is deleted")
    allowed_account_ids: tuple[str, ...] = setting((), check=_account_ids, doc="Terraform refuses other accounts")
    tags: Mapping[str, str] = setting(MappingProxyType({}), check=_tags, doc="extra tags on every resource")
    buckets: BucketSettings = setting(doc="retention of every bucket")
    data_pipeline: DataPipelineSettings = setting(doc="the data-pipeline stack")
    training: TrainingSettings = setting(doc="the training stack")
    inference: InferenceSettings = setting(doc="the inference stack")
    dependencies: DependenciesSettings = setting(doc="the dependencies stack (CodeArtifact)")
    state: StateBackend | None = setting(None, doc="dev/prod only: the S3 state backend")
    github: GitHubSettings | None = setting(None, doc="dev/prod only: the GitHub OIDC roles of the bootstrap stack")
    emulator_port: int | None = setting(None, between=(1024, 65535), doc="local only: the emulator's port")
    local_state_dir: Path | None = runtime(doc="local only: where Terraform state is kept")

    @property
    def is_local(self) -> bool:
        """True for the embedded emulator environment (disposable resources, local state)."""
        return self.name == "local"

    @property
    def emulator_url(self) -> str:
        """Endpoint of the local AWS emulator; only meaningful for `local`."""
        if self.emulator_port is None:
            raise ValueError(f"environment {self.name!r} has no emulator")
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def emulator_credentials(self) -> EmulatorCredentials:
        """The dummy credentials the provider and tools use against the emulator (local only)."""
        if not self.is_local:
            raise ValueError(f"environment {self.name!r} has no emulator")
        return EmulatorCredentials()

    def stack_name(self, component: str) -> str:
        """Stack names start with the environment, so `local-*` selects one environment."""
        return f"{self.name}-{component}"

    @property
    def bootstrap_stack_name(self) -> str:
        """`bootstrap-<env>` (stacks/bootstrap.py): deliberately outside `stack_name`'s `<env>-*`, which deploys and
        CI select, so no CI run can change the roles it runs as."""
        return f"bootstrap-{self.name}"

    def resource_name(self, purpose: str) -> str:
        """Name of a named AWS resource, e.g. 'mlp-dev-candidate-models'."""
        return f"{self.name_prefix}-{purpose}"

    def default_tags(self) -> dict[str, str]:
        """Tags the provider puts on every resource (user tags cannot override these four)."""
        return {
            **self.tags,
            "project": self.project,
            "environment": self.name,
            "managed-by": "cdktf",
            "repository": self.repository,
        }


def merge_tables(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`, sub-table by sub-table ([defaults.buckets] + [dev.buckets])."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged

"""The bootstrap stack: state bucket, GitHub OIDC provider, and the plan/apply/promotion roles CI assumes."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from building_blocks import perms
from building_blocks import terraform_permissions as tfp
from building_blocks.iam import Statement, policy_document
from platform_config import ConfigError, EnvironmentConfig
from stacks import bootstrap as bootstrap_stack
from tests.conftest import Synthesized, at_path, load_config, policy_statements, resources_of, synth_app
from tests.unit.test_config import load_error, write_config
from tooling import checkov_scan

REPO = Path(__file__).resolve().parents[2]
OIDC = "token.actions.githubusercontent.com"
REPO_NAME = "example-org/ml-platform"
# Verbs of actions that change nothing (kms:Decrypt reads what is encrypted).
READ_VERBS = ("Get", "List", "Describe", "Decrypt")
# IAM's quotas: a role's inline policies together, and one managed policy (characters, whitespace not counted).
INLINE_QUOTA, MANAGED_QUOTA = 10_240, 6_144


def synth_bootstrap(config: EnvironmentConfig, outdir: Path, local_state_file: Path | None = None) -> dict[str, Any]:
    from cdktf import App

    from building_blocks.policy_guard import PolicyGuard
    from stacks.bootstrap import BootstrapStack

    app = App(outdir=str(outdir))
    stack = BootstrapStack(app, config=config, guard=PolicyGuard(), local_state_file=local_state_file)
    app.synth()
    return json.loads((outdir / "stacks" / stack.node.id / "cdk.tf.json").read_text())


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """`bootstrap("prod")` synthesizes the bootstrap stack of an environment once per module; keyword arguments
    replace [<env>.github] settings."""
    cache: dict[tuple[str, tuple[tuple[str, Any], ...]], dict[str, Any]] = {}

    def get(env: str, **github: Any) -> dict[str, Any]:
        key = (env, tuple(sorted(github.items())))
        if key not in cache:
            config = load_config(env)
            if github:
                assert config.github is not None
                config = dataclasses.replace(config, github=dataclasses.replace(config.github, **github))
            cache[key] = synth_bootstrap(config, tmp_path_factory.mktemp(f"bootstrap-{env}"))
        return cache[key]

    return get


def role_ref(terraform: dict[str, Any], kind: str) -> str:
    return at_path(terraform, f"github-{kind}/role").ref("id")


def role_statements(terraform: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Every statement the role holds: its inline policies and the managed policies attached to it."""
    role = role_ref(terraform, kind)
    documents = [b["policy"] for b in resources_of(terraform, "aws_iam_role_policy").values() if b["role"] == role]
    role_name = at_path(terraform, f"github-{kind}/role").ref("name")
    for attachment in resources_of(terraform, "aws_iam_role_policy_attachment").values():
        if attachment["role"] == role_name:
            address = attachment["policy_arn"].removeprefix("${").removesuffix(".arn}")
            documents.append(resources_of(terraform, "aws_iam_policy")[address.split(".")[1]]["policy"])
    return [statement for document in documents for statement in json.loads(document)["Statement"]]


def allowed(terraform: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(action, statement) for every action the role's Allow statements grant."""
    for statement in role_statements(terraform, kind):
        if statement["Effect"] == "Allow":
            for action in statement["Action"]:
                yield action, statement


def is_read(action: str) -> bool:
    return action.split(":")[1].startswith(READ_VERBS)


def state_key_arn(terraform: dict[str, Any]) -> str:
    return at_path(terraform, "state/key/key").ref("arn")


def state_bucket_arn(terraform: dict[str, Any]) -> str:
    return at_path(terraform, "state/bucket").ref("arn")


# -- trust ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env, kind, subjects",
    [
        ("dev", "plan", [f"repo:{REPO_NAME}:pull_request", f"repo:{REPO_NAME}:ref:refs/heads/main"]),
        ("dev", "apply", [f"repo:{REPO_NAME}:environment:dev"]),
        ("prod", "plan", [f"repo:{REPO_NAME}:pull_request", f"repo:{REPO_NAME}:ref:refs/heads/main"]),
        ("prod", "apply", [f"repo:{REPO_NAME}:environment:prod"]),
        ("prod", "promotion", [f"repo:{REPO_NAME}:environment:production"]),
    ],
)
def test_only_github_jobs_with_the_exact_audience_and_subjects_can_assume_each_role(
    bootstrap: Callable[..., dict[str, Any]], env: str, kind: str, subjects: list[str]
) -> None:
    terraform = bootstrap(env)
    role = at_path(terraform, f"github-{kind}/role").body
    assert role["name"] == f"mlp-{env}-github-{kind}"
    assert role["max_session_duration"] == 3600
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Principal"] == {"Federated": [at_path(terraform, "github-oidc").ref("arn")]}
    assert statement["Condition"] == {"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": subjects}}


def test_dev_has_no_promotion_role(bootstrap: Callable[..., dict[str, Any]]) -> None:
    terraform = bootstrap("dev")
    names = {body["name"] for body in resources_of(terraform, "aws_iam_role").values()}
    assert names == {"mlp-dev-github-plan", "mlp-dev-github-apply"}
    assert terraform["output"]["promotion_role_arn"]["value"] == ""


def test_the_oidc_provider_is_github_s_with_the_sts_audience(bootstrap: Callable[..., dict[str, Any]]) -> None:
    provider = at_path(bootstrap("prod"), "github-oidc").body
    assert provider["url"] == f"https://{OIDC}"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert provider["thumbprint_list"]  # GitHub's published ones: the API may still ask for one


def test_an_account_that_already_has_the_provider_looks_it_up(bootstrap: Callable[..., dict[str, Any]]) -> None:
    terraform = bootstrap("prod", create_oidc_provider=False)
    assert "aws_iam_openid_connect_provider" not in terraform["resource"]
    (lookup,) = terraform["data"]["aws_iam_openid_connect_provider"].values()
    assert lookup["url"] == f"https://{OIDC}"
    trust = json.loads(at_path(terraform, "github-apply/role").body["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Federated": ["${data.aws_iam_openid_connect_provider.github-oidc.arn}"]}


@pytest.mark.parametrize("subject", ["repo:org/app:*", "repo:org/app:ref:refs/heads/?ain", "org/app", "repo:a b"])
def test_a_trust_refuses_a_subject_pattern(subject: str) -> None:
    from building_blocks.iam import github_oidc_trust

    with pytest.raises(ValueError, match=re.escape(repr(subject))):
        github_oidc_trust("arn:aws:iam::123456789012:oidc-provider/x", [subject])


# -- the state bucket ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_state_bucket_is_versioned_encrypted_with_its_own_key_logged_and_protected(
    bootstrap: Callable[..., dict[str, Any]], env: str
) -> None:
    terraform = bootstrap(env)
    bucket = at_path(terraform, "state/bucket")
    assert bucket.body["bucket"] == f"mlp-{env}-terraform-state"
    assert bucket.body["lifecycle"]["prevent_destroy"] is True
    assert bucket.body.get("force_destroy", False) is False
    assert at_path(terraform, "state/key/key").body["lifecycle"]["prevent_destroy"] is True
    versioning = at_path(terraform, "state/versioning").body["versioning_configuration"]
    assert versioning == {"status": "Enabled"}
    (rule,) = at_path(terraform, "state/encryption").body["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": state_key_arn(terraform),
    }
    block = at_path(terraform, "state/public-access").body
    assert all(block[flag] for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls"))
    assert block["restrict_public_buckets"] is True
    logging = at_path(terraform, "state/access-logs").body
    assert logging["target_bucket"] == at_path(terraform, "access-logs/bucket").ref("id")
    policy = policy_statements(at_path(terraform, "state/policy").body["policy"])
    assert policy["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_state_bucket_keeps_every_old_version(bootstrap: Callable[..., dict[str, Any]]) -> None:
    rules = at_path(bootstrap("prod"), "state/lifecycle").body["rule"]
    assert [rule["id"] for rule in rules] == ["abort-incomplete-multipart-uploads"]
    assert not any("noncurrent_version_expiration" in rule or "expiration" in rule for rule in rules)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_bootstrap_keeps_its_own_state_in_the_bucket_it_makes(
    bootstrap: Callable[..., dict[str, Any]], env: str
) -> None:
    terraform = bootstrap(env)
    assert terraform["terraform"]["backend"]["s3"] == {
        "bucket": f"mlp-{env}-terraform-state",
        "key": f"ml-platform/{env}/bootstrap-{env}.tfstate",
        "region": "eu-west-1",
        "encrypt": False,  # no SSE-S3 header: the bucket's own KMS key applies
        "use_lockfile": True,
    }
    assert terraform["terraform"]["required_providers"]["aws"] == {"source": "aws", "version": "5.100.0"}
    (provider,) = terraform["provider"]["aws"]
    assert provider["default_tags"][0]["tags"]["environment"] == env


def test_a_first_run_keeps_the_state_in_a_local_file(tmp_path: Path) -> None:
    state_file = tmp_path / "bootstrap.tfstate"
    terraform = synth_bootstrap(load_config("dev"), tmp_path / "out", local_state_file=state_file)
    assert terraform["terraform"]["backend"] == {"local": {"path": str(state_file)}}


# -- permissions ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_plan_role_writes_nothing(bootstrap: Callable[..., dict[str, Any]], env: str) -> None:
    """Plans run with -lock=false (tooling/stack_plan.py), so not even a lock file: a pull request cannot leave
    a lock that stalls the deploys."""
    terraform = bootstrap(env)
    writes = {(action, tuple(s["Resource"])) for action, s in allowed(terraform, "plan") if not is_read(action)}
    assert writes == set()


def _scoped_to_environment(resource: str, statement: dict[str, Any], env: str, terraform: dict[str, Any]) -> bool:
    if resource in (state_key_arn(terraform), state_bucket_arn(terraform)) or resource.startswith(
        state_bucket_arn(terraform) + f"/ml-platform/{env}/"
    ):
        return True
    if resource.endswith(":key/*") or (resource == "*" and "kms:CreateKey" in statement["Action"]):
        tags = statement["Condition"]["StringEquals"]
        return any(tags.get(f"aws:{kind}Tag/environment") == env for kind in ("Resource", "Request"))
    if resource == "*":
        return set(statement["Action"]) <= perms.WILDCARD_RESOURCE_ACTIONS
    if resource.endswith(":log-group:*"):
        return statement["Action"] == ["logs:DescribeLogGroups"]
    return f"mlp-{env}-" in resource


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_apply_permission_is_scoped_to_the_environment(
    bootstrap: Callable[..., dict[str, Any]], env: str
) -> None:
    terraform = bootstrap(env)
    for action, statement in allowed(terraform, "apply"):
        assert "*" not in action, action
        for resource in statement["Resource"]:
            assert _scoped_to_environment(resource, statement, env, terraform), f"{action} on {resource}"


def test_the_apply_role_passes_platform_roles_only_to_the_services_that_run_them(
    bootstrap: Callable[..., dict[str, Any]],
) -> None:
    terraform = bootstrap("dev")
    (passing,) = [s for action, s in allowed(terraform, "apply") if action == "iam:PassRole"]
    assert passing["Resource"] == ["arn:${data.aws_partition.partition.partition}:iam::"
                                   "${data.aws_caller_identity.account.account_id}:role/mlp-dev-*"]  # fmt: skip
    services = passing["Condition"]["StringEquals"]["iam:PassedToService"]
    assert set(services) == {f"{s}.amazonaws.com" for s in ("lambda", "states", "sagemaker", "scheduler", "events")}


@pytest.mark.parametrize("kind", ["apply", "promotion"])
def test_ci_roles_cannot_change_the_bootstrap_s_roles_bucket_key_or_state_history(
    bootstrap: Callable[..., dict[str, Any]], kind: str
) -> None:
    terraform = bootstrap("prod")
    denies = {s["Sid"]: s for s in role_statements(terraform, kind) if s["Effect"] == "Deny"}
    assert denies["DenyBootstrapRoles"]["Action"] == ["iam:*"]
    assert any(r.endswith(":role/mlp-prod-github-*") for r in denies["DenyBootstrapRoles"]["Resource"])
    assert state_bucket_arn(terraform) in denies["DenyBootstrapBuckets"]["Resource"]
    assert {"s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketVersioning"} <= set(
        denies["DenyBootstrapBuckets"]["Action"]
    )
    assert "s3:DeleteObjectVersion" in denies["DenyStateHistoryDeletion"]["Action"]
    assert denies["DenyStateKeyChanges"]["Resource"] == [state_key_arn(terraform)]
    assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} <= set(denies["DenyStateKeyChanges"]["Action"])


def test_the_promotion_role_writes_only_production_models_and_the_artifact_store_state(
    bootstrap: Callable[..., dict[str, Any]],
) -> None:
    terraform = bootstrap("prod")
    state = state_bucket_arn(terraform)
    s3_writes = {
        (action, resource)
        for action, statement in allowed(terraform, "promotion")
        if action.startswith("s3:") and not is_read(action)
        for resource in statement["Resource"]
    }
    assert s3_writes == {
        ("s3:PutObject", "arn:${data.aws_partition.partition.partition}:s3:::mlp-prod-production-models/models/*"),
        (
            "s3:PutObjectTagging",
            "arn:${data.aws_partition.partition.partition}:s3:::mlp-prod-production-models/models/*",
        ),
        ("s3:PutObject", f"{state}/ml-platform/prod/prod-artifact-store.tfstate"),
        # The lock of the artifact store's state only: never another stack's (a running deploy's).
        ("s3:PutObject", f"{state}/ml-platform/prod/prod-artifact-store.tfstate.tflock"),
        ("s3:DeleteObject", f"{state}/ml-platform/prod/prod-artifact-store.tfstate.tflock"),
    }
    others = {a for a, _ in allowed(terraform, "promotion") if not is_read(a) and not a.startswith(("s3:", "kms:"))}
    assert others == set()
    # Encrypting with a platform key only through S3, for the production bucket's objects.
    (encrypt,) = [s for s in role_statements(terraform, "promotion") if s.get("Sid") == "EncryptProductionModels"]
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [
            "arn:${data.aws_partition.partition.partition}:s3:::mlp-prod-production-models",
            "arn:${data.aws_partition.partition.partition}:s3:::mlp-prod-production-models/*",
        ]
    }


def test_the_promotion_role_can_do_what_the_plan_role_can(bootstrap: Callable[..., dict[str, Any]]) -> None:
    terraform = bootstrap("prod")
    plan = {(a, tuple(s["Resource"])) for a, s in allowed(terraform, "plan")}
    promotion = {(a, tuple(s["Resource"])) for a, s in allowed(terraform, "promotion")}
    assert plan <= promotion


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_no_bootstrap_policy_allows_a_wildcard_action_or_an_unlisted_wildcard_resource(
    bootstrap: Callable[..., dict[str, Any]], env: str
) -> None:
    terraform = bootstrap(env)
    for kind in ("plan", "apply", "promotion") if env == "prod" else ("plan", "apply"):
        for action, statement in allowed(terraform, kind):
            assert "*" not in action, f"{kind}: {action}"
            if "*" in statement["Resource"]:
                assert action in perms.WILDCARD_RESOURCE_ACTIONS, f"{kind}: {action} on *"
                assert statement.get("Condition") or action != "kms:CreateKey"


def _resolved(document: str) -> str:
    """The policy as IAM stores it: tokens replaced by values as long as real ones, whitespace dropped."""
    values = {
        r"\$\{data\.aws_partition\.[^}]+\}": "aws",
        r"\$\{data\.aws_caller_identity\.[^}]+\}": "123456789012",
        r"\$\{data\.aws_region\.[^}]+\}": "eu-west-1",
        r"\$\{aws_kms_key\.[^}]+\}": "arn:aws:kms:eu-west-1:123456789012:key/" + "0" * 36,
        r"\$\{aws_s3_bucket\.[^}]+\}": "arn:aws:s3:::" + "x" * 63,
    }
    for pattern, value in values.items():
        document = re.sub(pattern, value, document)
    assert "${" not in document, document
    return json.dumps(json.loads(document), separators=(",", ":"))


def test_every_role_stays_within_iam_policy_size_quotas(bootstrap: Callable[..., dict[str, Any]]) -> None:
    terraform = bootstrap("prod")
    for body in resources_of(terraform, "aws_iam_policy").values():
        assert len(_resolved(body["policy"])) <= MANAGED_QUOTA * 0.9, body["name"]
    for kind in ("plan", "apply", "promotion"):
        role = role_ref(terraform, kind)
        inline = [b["policy"] for b in resources_of(terraform, "aws_iam_role_policy").values() if b["role"] == role]
        assert sum(len(_resolved(document)) for document in inline) <= INLINE_QUOTA * 0.9, kind


# -- coverage: a new resource type cannot ship without its permissions ----------------------------------------


def _trigger_variant(config: EnvironmentConfig) -> EnvironmentConfig:
    training = dataclasses.replace(
        config.training, trigger="eventbridge-rule", schedule_timezone="UTC", flexible_window_minutes=0
    )
    return dataclasses.replace(config, training=training)


def _types(stacks: dict[str, dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (kind, terraform_type)
        for terraform in stacks.values()
        for kind, block in (("resource", "resource"), ("data", "data"))
        for terraform_type in terraform.get(block, {})
    }


def test_every_type_the_platform_stacks_synthesize_has_permissions(
    synthesized: Callable[[str], Synthesized], tmp_path: Path
) -> None:
    """dev and prod, with both training triggers (EventBridge Scheduler, and the seed's EventBridge rule)."""
    types: set[tuple[str, str]] = set()
    for env in ("dev", "prod"):
        types |= _types(synthesized(env).stacks)
        variant = _trigger_variant(synthesized(env).config)
        types |= _types(synth_app(variant, tmp_path / f"{env}-eventbridge-rule").stacks)
    assert ("resource", "aws_cloudwatch_event_target") in types and ("resource", "aws_scheduler_schedule") in types
    missing = []
    for kind, terraform_type in sorted(types):
        try:
            tfp.entry(kind, terraform_type)
        except tfp.MissingPermissionsError as exc:
            missing.append(str(exc))
    assert missing == []


def test_every_provider_type_the_code_imports_has_permissions() -> None:
    """Also the types only some configurations synthesize (a promotion's aws_s3_object_copy)."""
    imported = re.compile(r"from cdktf_cdktf_provider_aws\.(\w+) import")
    found = set()
    for path in [*REPO.glob("building_blocks/*.py"), *REPO.glob("stacks/*.py")]:
        for module in imported.findall(path.read_text()):
            if module != "provider":
                kind = "data" if module.startswith("data_aws_") else "resource"
                found.add((kind, "aws_" + module.removeprefix("data_aws_").removeprefix("aws_")))
    assert ("resource", "aws_s3_object_copy") in found
    missing = [
        f"{kind} {name}" for kind, name in sorted(found - tfp.BOOTSTRAP_ONLY_TYPES) if not _has_entry(kind, name)
    ]
    assert missing == []


def _has_entry(kind: str, terraform_type: str) -> bool:
    try:
        tfp.entry(kind, terraform_type)
    except tfp.MissingPermissionsError:
        return False
    return True


def test_a_missing_entry_is_named() -> None:
    with pytest.raises(tfp.MissingPermissionsError, match="resource type 'aws_glue_job' has no entry"):
        tfp.entry("resource", "aws_glue_job")


def test_every_entry_names_explicit_actions_or_says_why_it_needs_none() -> None:
    for name, permissions in {**tfp.RESOURCES, **tfp.DATA_SOURCES}.items():
        actions = [a for access in (*permissions.read, *permissions.write) for a in access.actions]
        assert actions or permissions.note, name
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", a) for a in actions), name
        for access in (*permissions.read, *permissions.write):
            if access.scope is tfp.Scope.ANY:
                assert set(access.actions) <= perms.WILDCARD_RESOURCE_ACTIONS, name


# -- checkov, configuration, environments --------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_checkov_finds_no_failed_checks_in_the_bootstrap_stack(
    bootstrap: Callable[..., dict[str, Any]], env: str, tmp_path: Path
) -> None:
    stack_dir = tmp_path / "stacks" / f"bootstrap-{env}"
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(bootstrap(env)))
    result = checkov_scan.scan(tmp_path / "stacks")
    assert result.ok, "\n".join(finding.line() for finding in result.failed)
    assert result.scanned_files == {f"bootstrap-{env}/cdk.tf.json"}


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("deploy_environment", "", "required non-empty"),
        ("deploy_environment", "x" * 256, "at most 255 characters"),
        ("deploy_environment", "prod\u0007", "control characters"),
        ("promotion_environment", "prod*", "may not contain '*'"),
    ],
)
def test_bad_github_settings_are_named(tmp_path: Path, key: str, value: str, reason: str) -> None:
    error = load_error(write_config(tmp_path, **{f"prod.github.{key}": value}), env="prod")
    assert (error.key, error.value) == (f"github.{key}", value)
    assert reason in str(error)


def test_local_has_no_bootstrap(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bootstrap stack is for dev and prod"):
        synth_bootstrap(load_config("local", LOCAL_STATE_DIR=str(tmp_path)), tmp_path)


def test_an_environment_without_github_settings_is_named(tmp_path: Path) -> None:
    config = dataclasses.replace(load_config("dev"), github=None)
    with pytest.raises(ConfigError) as caught:
        synth_bootstrap(config, tmp_path)
    assert caught.value.key == "github"


def test_a_refresh_may_decrypt_only_what_lambda_and_scheduler_return_decrypted(
    bootstrap: Callable[..., dict[str, Any]],
) -> None:
    """GetFunction returns the function's KMS-encrypted environment, GetSchedule its encrypted target, decrypted
    with the caller's permission; the plan role's Decrypt on the environment's keys is only through them."""
    terraform = bootstrap("dev")
    (statement,) = [s for s in role_statements(terraform, "plan") if s.get("Sid") == "ReadKeysReadByServices"]
    assert statement["Action"] == ["kms:Decrypt"]
    region = "${data.aws_region.region.name}"
    assert statement["Condition"]["StringEquals"] == {
        "aws:ResourceTag/project": "ml-platform",
        "aws:ResourceTag/environment": "dev",
        "kms:ViaService": [f"lambda.{region}.amazonaws.com", f"scheduler.{region}.amazonaws.com"],
    }


def test_the_apply_role_makes_only_service_grants_and_tags_only_its_own_or_new_keys(
    bootstrap: Callable[..., dict[str, Any]],
) -> None:
    statements = {s["Sid"]: s for s in role_statements(bootstrap("dev"), "apply") if "Sid" in s}
    assert statements["WriteKeyGrants"]["Action"] == ["kms:CreateGrant"]
    assert statements["WriteKeyGrants"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert not [s for s in statements.values() if "kms:CreateGrant" in s["Action"] and s["Sid"] != "WriteKeyGrants"]
    tagging = statements["WriteNewKeyTags"]["Condition"]
    assert tagging["StringEqualsIfExists"] == {
        "aws:ResourceTag/project": "ml-platform",
        "aws:ResourceTag/environment": "dev",
    }


@pytest.mark.parametrize("kind", ["apply", "promotion"])
def test_ci_roles_cannot_write_the_bootstrap_stacks_own_state(
    bootstrap: Callable[..., dict[str, Any]], kind: str
) -> None:
    terraform = bootstrap("prod")
    (deny,) = [s for s in role_statements(terraform, kind) if s.get("Sid") == "DenyBootstrapState"]
    assert (deny["Effect"], deny["Action"]) == ("Deny", ["s3:PutObject", "s3:DeleteObject"])
    assert deny["Resource"] == [f"{state_bucket_arn(terraform)}/ml-platform/prod/bootstrap-prod.tfstate*"]


def test_the_changes_are_split_over_managed_policies_that_each_fit() -> None:
    statements = [
        Statement(sid=f"S{n}", actions=("s3:GetObject",), resources=(f"arn:aws:s3:::b{n}/*",)) for n in range(200)
    ]
    groups = bootstrap_stack.split_statements(statements, limit=2_000)
    assert [s for group in groups for s in group] == statements
    assert len(groups) > 1
    assert all(len(policy_document(group).replace(" ", "")) <= 2_000 for group in groups)
    with pytest.raises(ValueError, match="statement S0 alone exceeds 100 characters"):
        bootstrap_stack.split_statements(statements, limit=100)
    with pytest.raises(ValueError, match="no statements"):
        bootstrap_stack.split_statements([])

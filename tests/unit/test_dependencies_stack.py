"""The dependencies stack: a KMS-encrypted CodeArtifact domain limited to its account, a store repository holding
public:pypi, the team repository with the store as upstream, and policies that let readers read and only the
publisher publish."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import platform_config
from building_blocks import perms
from building_blocks.codeartifact import CodeArtifactDomain, PackageRepository
from building_blocks.kms_key import KmsKey
from platform_config import ConfigError
from tests.conftest import Synthesized, at_path, load_config, only, policy_statements, synth_app, synth_stack
from tests.unit.test_config import write_config

ENVS = ("local", "dev", "prod")
READ_ACTIONS = set(perms.REPOSITORY_READ_ACTIONS + perms.PACKAGE_READ_ACTIONS)
PUBLISH_ACTIONS = set(perms.PACKAGE_PUBLISH_ACTIONS)
ACCOUNT_ROOT = "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}:root"


def stack(synthesized: Callable[[str], Synthesized], env: str = "dev") -> dict[str, Any]:
    return synthesized(env).stack("dependencies")


def ref(terraform: dict[str, Any], path: str, attribute: str = "arn") -> str:
    return at_path(terraform, path).ref(attribute)


def allowed_actions_by_principal(document: str) -> dict[str, set[str]]:
    """What each principal of a resource policy's Allow statements may do."""
    allowed: dict[str, set[str]] = {}
    for statement in json.loads(document)["Statement"]:
        if statement["Effect"] == "Allow":
            for principal in statement["Principal"]["AWS"]:
                allowed.setdefault(principal, set()).update(statement["Action"])
    return allowed


@pytest.mark.parametrize("env", ENVS)
def test_domain_is_encrypted_with_the_stacks_own_rotating_key(synthesized: Callable[[str], Synthesized], env: str):
    terraform = stack(synthesized, env)
    domain = only(terraform, "aws_codeartifact_domain")
    assert domain["domain"] == f"{synthesized(env).config.name_prefix}-packages"
    assert domain["encryption_key"] == ref(terraform, "key/key")
    key = at_path(terraform, "key/key").body
    assert key["enable_key_rotation"] is True
    assert at_path(terraform, "key/alias").body["name"] == f"alias/{synthesized(env).config.name_prefix}-packages"


@pytest.mark.parametrize("env", ENVS)
def test_store_holds_the_pypi_connection_and_the_team_repository_resolves_through_it(
    synthesized: Callable[[str], Synthesized], env: str
):
    terraform, settings = stack(synthesized, env), synthesized(env).config.dependencies
    store = at_path(terraform, "store/repository").body
    team = at_path(terraform, "repository/repository").body
    assert (store["repository"], team["repository"]) == (settings.store_repository, settings.repository)
    assert store["external_connections"] == {"external_connection_name": "public:pypi"}
    assert "upstream" not in store
    assert team["upstream"] == [{"repository_name": ref(terraform, "store/repository", "repository")}]
    assert "external_connections" not in team
    for repository in (store, team):
        assert repository["domain"] == ref(terraform, "domain/domain", "domain")


def test_domain_policy_lets_only_the_account_use_the_domain(synthesized: Callable[[str], Synthesized]):
    terraform = stack(synthesized)
    policy = only(terraform, "aws_codeartifact_domain_permissions_policy")
    assert policy["domain"] == ref(terraform, "domain/domain", "domain")
    statements = policy_statements(policy["policy_document"])
    assert set(statements) == {"UseDomainInsideAccount", "DenyOutsideAccount"}
    use = statements["UseDomainInsideAccount"]
    assert use["Principal"] == {"AWS": [ACCOUNT_ROOT]}
    assert set(use["Action"]) == set(perms.DOMAIN_USE_ACTIONS)
    assert use["Resource"] == [ref(terraform, "domain/domain")]
    deny = statements["DenyOutsideAccount"]
    assert (deny["Effect"], deny["Action"], deny["Principal"]) == ("Deny", ["codeartifact:*"], {"AWS": ["*"]})
    assert deny["Condition"] == {
        "StringNotEquals": {"aws:PrincipalAccount": "${data.aws_caller_identity.account.account_id}"}
    }


def test_an_organization_id_opens_the_domain_to_that_organization_only(stack_for_constructs: Any):
    key = KmsKey(stack_for_constructs, "key", alias_name="packages", description="packages")
    CodeArtifactDomain(stack_for_constructs, "domain", domain_name="packages", key=key, organization_id="o-a1b2c3d4e5")
    policy = only(synth_stack(stack_for_constructs), "aws_codeartifact_domain_permissions_policy")
    statements = policy_statements(policy["policy_document"])
    use, deny = statements["UseDomainInsideOrganization"], statements["DenyOutsideOrganization"]
    assert use["Principal"] == {"AWS": ["*"]}
    assert use["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}


@pytest.mark.parametrize("env", ENVS)
def test_repository_policy_lets_consumers_read_and_only_the_publisher_publish(
    synthesized: Callable[[str], Synthesized], env: str
):
    terraform = stack(synthesized, env)
    policy = at_path(terraform, "repository/policy").body
    assert policy["repository"] == ref(terraform, "repository/repository", "repository")
    allowed = allowed_actions_by_principal(policy["policy_document"])
    reader, publisher = ref(terraform, "reader/role"), ref(terraform, "publisher/role")
    (training,) = set(allowed) - {reader, publisher}
    assert "cross-stack-output-aws_iam_rolepipeline_role" in training  # the training pipeline's role
    assert allowed[reader] == allowed[training] == READ_ACTIONS
    assert allowed[publisher] == READ_ACTIONS | PUBLISH_ACTIONS
    assert not any("*" in action for actions in allowed.values() for action in actions)

    deny = policy_statements(policy["policy_document"])["OnlyPublishersChangePackages"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": ["*"]}
    assert PUBLISH_ACTIONS | {"codeartifact:DeletePackageVersions"} <= set(deny["Action"])
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [publisher]}}


@pytest.mark.parametrize("env", ENVS)
def test_only_public_pypi_fills_the_store(synthesized: Callable[[str], Synthesized], env: str):
    terraform = stack(synthesized, env)
    policy = at_path(terraform, "store/policy").body
    assert policy["repository"] == ref(terraform, "store/repository", "repository")
    (deny,) = json.loads(policy["policy_document"])["Statement"]  # no principal is granted anything on it
    assert (deny["Sid"], deny["Effect"], deny["Principal"]) == ("OnlyPublishersChangePackages", "Deny", {"AWS": ["*"]})
    assert PUBLISH_ACTIONS | {"codeartifact:CopyPackageVersions"} <= set(deny["Action"])
    assert "Condition" not in deny  # no publisher is excepted


@pytest.mark.parametrize("env", ENVS)
def test_each_consumer_gets_a_token_for_the_domain_and_reads_of_the_team_repository_only(
    synthesized: Callable[[str], Synthesized], env: str
):
    terraform = stack(synthesized, env)
    domain, repository = ref(terraform, "domain/domain"), ref(terraform, "repository/repository")
    policies = {body["name"]: body for body in terraform["resource"]["aws_iam_role_policy"].values()}
    assert set(policies) == {"read-packages", "read-packages-training", "publish-packages"}
    assert policies["read-packages"]["role"] == ref(terraform, "reader/role", "name")
    assert policies["publish-packages"]["role"] == ref(terraform, "publisher/role", "name")
    for name, body in policies.items():
        statements = policy_statements(body["policy"])
        login = statements["LogInToDomain"]
        assert (login["Action"], login["Resource"]) == (
            ["codeartifact:DescribeDomain", "codeartifact:GetAuthorizationToken"],
            [domain],
        )
        bearer = statements["GetServiceBearerTokenForCodeArtifact"]
        assert bearer["Action"] == ["sts:GetServiceBearerToken"]
        assert bearer["Condition"] == {"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}
        assert statements["UseRepository"]["Resource"] == [repository]
        packages = statements["PublishPackages" if name == "publish-packages" else "ReadPackages"]
        (package_arn,) = packages["Resource"]
        assert package_arn.endswith(
            f":package/{ref(terraform, 'domain/domain', 'domain')}/"
            f"{ref(terraform, 'repository/repository', 'repository')}/*"
        )
        may_publish = bool(PUBLISH_ACTIONS & set(packages["Action"]))
        assert may_publish is (name == "publish-packages"), name


def test_the_publisher_is_assumable_from_the_account_and_the_reader_also_by_the_repositorys_ci_jobs(
    synthesized: Callable[[str], Synthesized],
):
    terraform = stack(synthesized)
    publisher = at_path(terraform, "publisher/role").body
    assert publisher["name"] == "mlp-dev-packages-publisher"
    (trust,) = json.loads(publisher["assume_role_policy"])["Statement"]
    assert (trust["Action"], trust["Principal"]) == (["sts:AssumeRole"], {"AWS": [ACCOUNT_ROOT]})
    reader = at_path(terraform, "reader/role").body
    assert reader["name"] == "mlp-dev-packages-reader"
    account, ci = json.loads(reader["assume_role_policy"])["Statement"]
    assert (account["Action"], account["Principal"]) == (["sts:AssumeRole"], {"AWS": [ACCOUNT_ROOT]})
    # pr.yml's install-through-codeartifact job: GitHub's OIDC provider (made by the bootstrap stack), this
    # repository's pull requests and main only, audience STS.
    assert ci["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert ci["Principal"] == {
        "Federated": [
            "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}"
            ":oidc-provider/token.actions.githubusercontent.com"
        ]
    }
    assert ci["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                "repo:example-org/ml-platform:pull_request",
                "repo:example-org/ml-platform:ref:refs/heads/main",
            ],
        }
    }


def test_the_local_reader_trusts_no_github_provider(synthesized: Callable[[str], Synthesized]):
    reader = at_path(stack(synthesized, "local"), "reader/role").body
    assert [statement["Sid"] for statement in json.loads(reader["assume_role_policy"])["Statement"]] == ["TrustAccount"]


@pytest.mark.parametrize("env", ENVS)
def test_outputs_name_the_repository_its_endpoint_and_the_exact_login_command(
    synthesized: Callable[[str], Synthesized], env: str
):
    terraform, config = stack(synthesized, env), synthesized(env).config
    outputs = {name: body["value"] for name, body in terraform["output"].items()}
    (data,) = terraform["data"]["aws_codeartifact_repository_endpoint"].values()
    assert (data["format"], data["repository"]) == ("pypi", ref(terraform, "repository/repository", "repository"))
    assert outputs["pypi_endpoint"].endswith(".repository_endpoint}")
    assert outputs["repository_name"] == ref(terraform, "repository/repository", "repository")
    assert outputs["domain_name"] == ref(terraform, "domain/domain", "domain")
    owner = ref(terraform, "domain/domain", "owner")
    expected = (
        f"aws codeartifact login --tool pip --domain {config.name_prefix}-packages --domain-owner {owner} "
        f"--repository ml-packages --region {config.region}"
    )
    if env == "local":
        expected += " --endpoint-url http://127.0.0.1:4566"
    assert outputs["login_command"] == expected


def test_a_repository_with_upstreams_cannot_also_hold_an_external_connection(stack_for_constructs: Any):
    key = KmsKey(stack_for_constructs, "key", alias_name="packages", description="packages")
    domain = CodeArtifactDomain(stack_for_constructs, "domain", domain_name="packages", key=key)
    store = PackageRepository(
        stack_for_constructs,
        "store",
        domain=domain,
        repository_name="store",
        description="s",
        external_connection="public:pypi",
    )
    with pytest.raises(ValueError, match="upstreams or an external connection, not both"):
        PackageRepository(
            stack_for_constructs,
            "team",
            domain=domain,
            repository_name="team",
            description="t",
            upstreams=[store],
            external_connection="public:pypi",
        )
    with pytest.raises(ValueError, match=r"unknown external connection 'public:pypy' \(known: public:pypi\)"):
        PackageRepository(
            stack_for_constructs,
            "other",
            domain=domain,
            repository_name="other",
            description="o",
            external_connection="public:pypy",
        )


def test_a_name_prefix_that_is_no_domain_name_fails_synth_naming_the_key(tmp_path: Path):
    config = platform_config.load("dev", path=write_config(tmp_path, **{"dev.name_prefix": "9lives"}), environ={})
    with pytest.raises(ConfigError) as caught:
        synth_app(config, tmp_path / "out")
    assert caught.value.key == "name_prefix"
    assert "CodeArtifact domain name '9lives-packages' must be 2-50 lowercase letters" in str(caught.value)


def test_the_store_and_the_team_repository_must_differ(tmp_path: Path):
    path = write_config(tmp_path, **{"dev.dependencies.store_repository": "ml-packages"})
    with pytest.raises(ConfigError, match=r"dependencies.store_repository = 'ml-packages': must differ"):
        synth_app(platform_config.load("dev", path=path, environ={}), tmp_path / "out")


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("dependencies.organization_id", "org-1", "not an AWS Organizations id"),
        ("dependencies.repository", "-packages", "not a CodeArtifact repository name"),
        ("dependencies.login_token_minutes", 5, "15"),
    ],
)
def test_bad_dependencies_settings_are_refused_naming_the_key(tmp_path: Path, key: str, value: Any, reason: str):
    path = write_config(tmp_path, **{f"dev.{key}": value})
    with pytest.raises(ConfigError) as caught:
        platform_config.load("dev", path=path, environ={})
    assert caught.value.key == key
    assert reason in str(caught.value)


def test_the_reader_may_make_every_call_of_make_pip_login_and_the_demo(synthesized: Callable[[str], Synthesized]):
    """The emulator does not enforce IAM: this keeps the tooling's CodeArtifact calls inside the reader's grant."""
    from tests.unit.test_pip_login import FakeCodeArtifact
    from tooling.packages import login

    codeartifact = FakeCodeArtifact()
    login(load_config("dev"), codeartifact)
    called = {call for call, _ in codeartifact.calls} | {"list_package_versions", "describe_repository"}
    needed = {"codeartifact:" + "".join(word.capitalize() for word in call.split("_")) for call in called}
    terraform = stack(synthesized)
    policies = {body["name"]: body for body in terraform["resource"]["aws_iam_role_policy"].values()}
    granted = {a for st in policy_statements(policies["read-packages"]["policy"]).values() for a in st["Action"]}
    assert needed <= granted, needed - granted


def test_publisher_principals_replace_the_account_in_the_publishers_trust(tmp_path: Path):
    release = "arn:aws:iam::123456789012:role/release"
    path = write_config(tmp_path, **{"dev.dependencies.publisher_principals": [release]})
    terraform = synth_app(platform_config.load("dev", path=path, environ={}), tmp_path / "out").stack("dependencies")
    (trust,) = json.loads(at_path(terraform, "publisher/role").body["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"AWS": [release]}
    reader_trust = json.loads(at_path(terraform, "reader/role").body["assume_role_policy"])["Statement"][0]
    assert reader_trust["Principal"] == {"AWS": [ACCOUNT_ROOT]}


def test_an_organization_id_lets_the_organization_read_the_team_repository_but_not_publish(tmp_path: Path):
    path = write_config(tmp_path, **{"dev.dependencies.organization_id": "o-a1b2c3d4e5"})
    terraform = synth_app(platform_config.load("dev", path=path, environ={}), tmp_path / "out").stack("dependencies")
    statements = policy_statements(at_path(terraform, "repository/policy").body["policy_document"])
    organization = statements["ReadPackagesInOrganization"]
    assert organization["Principal"] == {"AWS": ["*"]}
    assert organization["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    assert set(organization["Action"]) == READ_ACTIONS


@pytest.mark.parametrize("arn", ["arn:aws:iam::123:role/x", "arn:aws:s3:::bucket", "release"])
def test_a_publisher_principal_that_is_no_iam_arn_is_refused(tmp_path: Path, arn: str):
    path = write_config(tmp_path, **{"dev.dependencies.publisher_principals": [arn]})
    with pytest.raises(ConfigError) as caught:
        platform_config.load("dev", path=path, environ={})
    assert caught.value.key == "dependencies.publisher_principals"
    assert "not an IAM role or user ARN" in str(caught.value)

"""The built-in CodeArtifact backend: the control plane through boto3, the PyPI data plane through twine and pip.

Every test makes its own domain on the session emulator; the two wheels are built once for the module.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import moto.backends
import pytest
from botocore.exceptions import ClientError
from codeartifact_support import (
    Wheel,
    basic,
    build_wheels,
    pip_install,
    request,
    twine_upload,
    upload,
    with_credentials,
)
from moto.core.base_backend import BackendDict

from emulator import EmulatorServer
from emulator.services.codeartifact.models import CodeArtifactBackend

Aws = Callable[[str], Any]
Name = Callable[[str], str]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "codeartifact:*"}]}
)


@pytest.fixture(scope="module")
def ca(aws: Aws) -> Any:
    return aws("codeartifact")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Wheel]:
    """``team``: ca-team-tool 1.0.0; ``store``: CA_Store.Lib 0.2.0 (an odd spelling of ca-store-lib)."""
    built = build_wheels(
        tmp_path_factory.mktemp("wheels"),
        [("ca-team-tool", "1.0.0", "ca_team_tool"), ("CA_Store.Lib", "0.2.0", "ca_store_lib")],
    )
    return dict(zip(["team", "store"], built, strict=True))


@pytest.fixture
def domain(ca: Any, name: Name) -> str:
    return str(ca.create_domain(domain=name("ca"))["domain"]["name"])


@pytest.fixture
def layout(ca: Any, domain: str) -> dict[str, Any]:
    """The platform's two repositories: ``store`` with public:pypi, ``team`` with the store as upstream."""
    ca.create_repository(domain=domain, repository="store", description="public packages")
    store = ca.associate_external_connection(domain=domain, repository="store", externalConnection="public:pypi")
    team = ca.create_repository(domain=domain, repository="team", upstreams=[{"repositoryName": "store"}])
    return {"store": store["repository"], "team": team["repository"]}


def error(call: Callable[[], Any]) -> tuple[int, str, str, dict[str, Any]]:
    """``(HTTP status, error code, message, whole response)`` of a call that must fail."""
    with pytest.raises(ClientError) as failure:
        call()
    response = failure.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
        response,
    )


def endpoint(ca: Any, domain: str, repository: str) -> str:
    return str(ca.get_repository_endpoint(domain=domain, repository=repository, format="pypi")["repositoryEndpoint"])


def token(ca: Any, domain: str) -> str:
    return str(ca.get_authorization_token(domain=domain)["authorizationToken"])


def backend() -> CodeArtifactBackend:
    return moto.backends.get_backend("codeartifact")[ACCOUNT_ID][REGION]  # type: ignore[call-overload, no-any-return]


# -- domains


def test_domain_is_described_listed_and_deleted_with_aws_shapes(ca: Any, name: Name) -> None:
    domain_name = name("ca")
    created = ca.create_domain(domain=domain_name)["domain"]
    arn = f"arn:aws:codeartifact:{REGION}:{ACCOUNT_ID}:domain/{domain_name}"
    managed_key = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{uuid.uuid5(uuid.NAMESPACE_URL, arn)}"

    assert {key: value for key, value in created.items() if key != "createdTime"} == {
        "name": domain_name,
        "owner": ACCOUNT_ID,
        "arn": arn,
        "status": "Active",
        "encryptionKey": managed_key,  # the stand-in for AWS's managed key: stable for the domain's ARN
        "repositoryCount": 0,
        "assetSizeBytes": 0,
        "s3BucketArn": f"arn:aws:s3:::assets-{ACCOUNT_ID}-{REGION}",
    }
    assert datetime.now(UTC) - created["createdTime"] < timedelta(minutes=1)
    assert ca.describe_domain(domain=domain_name, domainOwner=ACCOUNT_ID)["domain"] == created
    listed = [domain for domain in ca.list_domains()["domains"] if domain["name"] == domain_name]
    assert listed == [{key: created[key] for key in ("name", "owner", "arn", "status", "createdTime", "encryptionKey")}]

    deleted = ca.delete_domain(domain=domain_name)["domain"]
    assert deleted == {**created, "status": "Deleted"}
    status, code, message, response = error(lambda: ca.describe_domain(domain=domain_name))
    assert (status, code, message) == (404, "ResourceNotFoundException", f"Domain {domain_name} not found")
    assert (response["resourceId"], response["resourceType"]) == (domain_name, "domain")
    status, code, message, _ = error(lambda: ca.delete_domain(domain=domain_name))
    assert (status, code, message) == (404, "ResourceNotFoundException", f"Domain {domain_name} not found")


def test_create_domain_refuses_an_invalid_name_and_an_existing_one(ca: Any, domain: str) -> None:
    status, code, message, response = error(lambda: ca.create_domain(domain="Bad_Name"))
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("Domain name Bad_Name is invalid: it must match [a-z][a-z0-9\\-]{0,48}[a-z0-9]")
    assert response["reason"] == "FIELD_VALIDATION_FAILED"

    status, code, message, _ = error(lambda: ca.create_domain(domain=domain))
    assert (status, code, message) == (409, "ConflictException", f"Domain {domain} already exists")


def test_domain_encryption_key_is_resolved_to_the_kms_key_arn(ca: Any, aws: Aws, name: Name) -> None:
    kms = aws("kms")
    key = kms.create_key()["KeyMetadata"]
    alias = f"alias/{name('ca')}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{alias}"

    for given in (key["KeyId"], key["Arn"], alias, alias_arn):
        assert ca.create_domain(domain=name("ca"), encryptionKey=given)["domain"]["encryptionKey"] == key["Arn"]

    elsewhere = key["Arn"].replace(f":{REGION}:", ":eu-west-1:")
    for missing in ("alias/nope", str(uuid.uuid4()), elsewhere):
        status, code, message, response = error(
            lambda missing=missing: ca.create_domain(domain=name("ca"), encryptionKey=missing)
        )
        assert (status, code, message) == (400, "ValidationException", f"KMS key not found: {missing}")
        assert response["reason"] == "ENCRYPTION_KEY_ERROR"


def test_list_domains_pages_by_max_results(ca: Any, name: Name) -> None:
    mine = sorted(ca.create_domain(domain=name("ca"))["domain"]["name"] for _ in range(3))
    seen, next_token = [], None
    while True:
        page = ca.list_domains(maxResults=2, **({"nextToken": next_token} if next_token else {}))
        assert len(page["domains"]) <= 2
        seen += [domain["name"] for domain in page["domains"]]
        next_token = page.get("nextToken")
        if not next_token:
            break
    assert [domain for domain in seen if domain in mine] == mine
    assert len(seen) == len(set(seen))


def test_delete_domain_is_refused_while_it_has_repositories(ca: Any, domain: str, layout: dict[str, Any]) -> None:
    status, code, message, _ = error(lambda: ca.delete_domain(domain=domain))
    assert (status, code) == (409, "ConflictException")
    assert message == f"Domain {domain} still has repositories (store, team): delete them first"


def test_a_domain_of_another_owner_is_not_found(ca: Any, domain: str) -> None:
    status, code, message, _ = error(lambda: ca.describe_domain(domain=domain, domainOwner="210987654321"))
    assert (status, code, message) == (
        404,
        "ResourceNotFoundException",
        f"Domain {domain} of account 210987654321 not found",
    )
    status, code, message, _ = error(lambda: ca.create_repository(domain="nope-domain", repository="team"))
    assert (status, code, message) == (404, "ResourceNotFoundException", "Domain nope-domain not found")


# -- repositories


def test_two_repository_layout_store_with_public_pypi_and_team_with_the_store_upstream(
    ca: Any, domain: str, layout: dict[str, Any]
) -> None:
    base = {"administratorAccount": ACCOUNT_ID, "domainName": domain, "domainOwner": ACCOUNT_ID}
    store = ca.describe_repository(domain=domain, repository="store")["repository"]
    assert {key: value for key, value in store.items() if key != "createdTime"} == {
        **base,
        "name": "store",
        "arn": f"arn:aws:codeartifact:{REGION}:{ACCOUNT_ID}:repository/{domain}/store",
        "description": "public packages",
        "upstreams": [],
        "externalConnections": [
            {"externalConnectionName": "public:pypi", "packageFormat": "pypi", "status": "Available"}
        ],
    }
    team = ca.describe_repository(domain=domain, repository="team")["repository"]
    assert (team["upstreams"], team["externalConnections"]) == ([{"repositoryName": "store"}], [])
    assert layout["team"] == team

    in_domain = ca.list_repositories_in_domain(domain=domain)["repositories"]
    assert [(repository["name"], repository["arn"]) for repository in in_domain] == [
        ("store", store["arn"]),
        ("team", team["arn"]),
    ]
    assert [
        r["name"] for r in ca.list_repositories_in_domain(domain=domain, repositoryPrefix="te")["repositories"]
    ] == ["team"]
    assert {store["arn"], team["arn"]} <= {r["arn"] for r in ca.list_repositories()["repositories"]}
    assert ca.describe_domain(domain=domain)["domain"]["repositoryCount"] == 2


def test_create_repository_refuses_an_invalid_name_and_an_existing_one(ca: Any, domain: str) -> None:
    status, code, message, _ = error(lambda: ca.create_repository(domain=domain, repository="-team"))
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("Repository name -team is invalid")
    ca.create_repository(domain=domain, repository="team")
    status, code, message, response = error(lambda: ca.create_repository(domain=domain, repository="team"))
    assert (status, code, message) == (409, "ConflictException", f"Repository team already exists in domain {domain}")
    assert (response["resourceId"], response["resourceType"]) == ("team", "repository")


def test_upstreams_keep_their_order_must_exist_and_are_at_most_ten(ca: Any, domain: str) -> None:
    for repository in ("a", "b", "c"):
        ca.create_repository(domain=domain, repository=f"up-{repository}")
    upstreams = [{"repositoryName": f"up-{repository}"} for repository in ("c", "a", "b")]
    created = ca.create_repository(domain=domain, repository="team", upstreams=upstreams)["repository"]
    assert created["upstreams"] == upstreams

    status, code, message, response = error(
        lambda: ca.create_repository(domain=domain, repository="other", upstreams=[{"repositoryName": "nope"}])
    )
    assert (status, code, message) == (
        404,
        "ResourceNotFoundException",
        f"Upstream repository nope not found in domain {domain}",
    )
    assert (response["resourceId"], response["resourceType"]) == ("nope", "repository")

    many = [{"repositoryName": f"up-{index}"} for index in range(11)]
    for upstream in many:
        ca.create_repository(domain=domain, repository=upstream["repositoryName"])
    status, code, message, _ = error(lambda: ca.create_repository(domain=domain, repository="wide", upstreams=many))
    assert (status, code, message) == (400, "ValidationException", "Repository wide lists 11 upstreams; at most 10")


def test_update_repository_replaces_upstreams_and_refuses_a_cycle(ca: Any, domain: str) -> None:
    for repository in ("ra", "rb", "rc"):
        ca.create_repository(domain=domain, repository=repository)
    ca.update_repository(domain=domain, repository="ra", upstreams=[{"repositoryName": "rb"}])
    ca.update_repository(domain=domain, repository="rb", upstreams=[{"repositoryName": "rc"}])

    status, code, message, _ = error(
        lambda: ca.update_repository(domain=domain, repository="rc", upstreams=[{"repositoryName": "ra"}])
    )
    assert (status, code, message) == (
        400,
        "ValidationException",
        "Upstreams of repository rc would form a cycle: rc -> ra -> rb -> rc",
    )
    status, _, message, _ = error(
        lambda: ca.update_repository(domain=domain, repository="rc", upstreams=[{"repositoryName": "rc"}])
    )
    assert (status, message) == (400, "Upstreams of repository rc would form a cycle: rc -> rc")

    described = ca.update_repository(domain=domain, repository="ra", description="only the description")["repository"]
    assert (described["description"], described["upstreams"]) == ("only the description", [{"repositoryName": "rb"}])
    replaced = ca.update_repository(domain=domain, repository="ra", upstreams=[{"repositoryName": "rc"}])["repository"]
    assert replaced["upstreams"] == [{"repositoryName": "rc"}]
    assert ca.update_repository(domain=domain, repository="ra", upstreams=[])["repository"]["upstreams"] == []


def test_a_repository_holds_upstreams_or_an_external_connection_never_both(
    ca: Any, domain: str, layout: dict[str, Any]
) -> None:
    status, code, message, _ = error(
        lambda: ca.associate_external_connection(domain=domain, repository="team", externalConnection="public:pypi")
    )
    assert (status, code) == (400, "ValidationException")
    assert message.startswith(
        "Repository team has upstreams (store), so it cannot have the external connection public:pypi: "
        "a repository holds upstreams or an external connection, never both"
    )
    ca.create_repository(domain=domain, repository="other")
    status, code, message, _ = error(
        lambda: ca.update_repository(domain=domain, repository="store", upstreams=[{"repositoryName": "other"}])
    )
    assert (status, code) == (400, "ValidationException")
    assert message.startswith(
        "Repository store has the external connection public:pypi, so it cannot have upstreams: "
        "a repository holds upstreams or an external connection, never both"
    )


def test_external_connections_are_known_names_and_one_per_repository(ca: Any, domain: str) -> None:
    ca.create_repository(domain=domain, repository="npm-store")
    status, code, message, _ = error(
        lambda: ca.associate_external_connection(domain=domain, repository="npm-store", externalConnection="public:x")
    )
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("External connection public:x is not known; known: public:pypi, public:npmjs, ")

    associated = ca.associate_external_connection(
        domain=domain, repository="npm-store", externalConnection="public:npmjs"
    )["repository"]
    assert associated["externalConnections"] == [
        {"externalConnectionName": "public:npmjs", "packageFormat": "npm", "status": "Available"}
    ]
    status, code, message, _ = error(
        lambda: ca.associate_external_connection(
            domain=domain, repository="npm-store", externalConnection="public:pypi"
        )
    )
    assert (status, code, message) == (
        409,
        "ConflictException",
        "Repository npm-store already has the external connection public:npmjs; a repository has at most one",
    )
    status, code, message, _ = error(
        lambda: ca.disassociate_external_connection(
            domain=domain, repository="npm-store", externalConnection="public:pypi"
        )
    )
    assert (status, code, message) == (
        404,
        "ResourceNotFoundException",
        "External connection public:pypi is not associated with repository npm-store",
    )
    disassociated = ca.disassociate_external_connection(
        domain=domain, repository="npm-store", externalConnection="public:npmjs"
    )
    assert disassociated["repository"]["externalConnections"] == []


def test_delete_repository_is_refused_while_another_lists_it_as_upstream(
    ca: Any, domain: str, layout: dict[str, Any]
) -> None:
    status, code, message, _ = error(lambda: ca.delete_repository(domain=domain, repository="store"))
    assert (status, code) == (409, "ConflictException")
    assert message.startswith("Repository store is an upstream of team")

    assert ca.delete_repository(domain=domain, repository="team")["repository"]["name"] == "team"
    ca.delete_repository(domain=domain, repository="store")
    status, code, message, _ = error(lambda: ca.describe_repository(domain=domain, repository="store"))
    assert (status, code, message) == (
        404,
        "ResourceNotFoundException",
        f"Repository store not found in domain {domain}",
    )
    assert ca.delete_domain(domain=domain)["domain"]["status"] == "Deleted"


# -- permissions policies


def test_domain_policy_has_revisions_for_optimistic_locking(ca: Any, domain: str) -> None:
    arn = ca.describe_domain(domain=domain)["domain"]["arn"]
    status, code, message, _ = error(lambda: ca.get_domain_permissions_policy(domain=domain))
    assert (status, code, message) == (404, "ResourceNotFoundException", f"No permissions policy on domain {domain}")

    first = ca.put_domain_permissions_policy(domain=domain, policyDocument=POLICY)["policy"]
    assert (first["resourceArn"], first["document"]) == (arn, POLICY)  # the document verbatim
    status, code, message, _ = error(
        lambda: ca.put_domain_permissions_policy(domain=domain, policyDocument=POLICY, policyRevision="stale")
    )
    assert (status, code) == (409, "ConflictException")
    assert message == f"Policy revision stale is not the current revision ({first['revision']}) of {arn}"

    second = ca.put_domain_permissions_policy(domain=domain, policyDocument=POLICY, policyRevision=first["revision"])
    assert second["policy"]["revision"] != first["revision"]
    assert ca.get_domain_permissions_policy(domain=domain)["policy"] == second["policy"]
    status, code, _, _ = error(
        lambda: ca.delete_domain_permissions_policy(domain=domain, policyRevision=first["revision"])
    )
    assert (status, code) == (409, "ConflictException")
    deleted = ca.delete_domain_permissions_policy(domain=domain, policyRevision=second["policy"]["revision"])
    assert deleted["policy"] == second["policy"]
    status, code, _, _ = error(lambda: ca.delete_domain_permissions_policy(domain=domain))
    assert (status, code) == (404, "ResourceNotFoundException")


def test_policy_document_must_be_json_with_a_statement(ca: Any, domain: str) -> None:
    for document, expected in (
        ("{not json", "Policy document is not valid JSON: "),
        ('{"Version": "2012-10-17"}', "Policy document has no Statement"),
    ):
        status, code, message, _ = error(
            lambda document=document: ca.put_domain_permissions_policy(domain=domain, policyDocument=document)
        )
        assert (status, code) == (400, "ValidationException")
        assert message.startswith(expected)


def test_repository_policy_round_trips_and_goes_with_its_repository(ca: Any, domain: str) -> None:
    arn = ca.create_repository(domain=domain, repository="team")["repository"]["arn"]
    put = ca.put_repository_permissions_policy(domain=domain, repository="team", policyDocument=POLICY)["policy"]
    assert (put["resourceArn"], put["document"]) == (arn, POLICY)
    assert ca.get_repository_permissions_policy(domain=domain, repository="team")["policy"] == put
    status, code, _, _ = error(
        lambda: ca.delete_repository_permissions_policy(domain=domain, repository="team", policyRevision="stale")
    )
    assert (status, code) == (409, "ConflictException")

    ca.delete_repository(domain=domain, repository="team")
    ca.create_repository(domain=domain, repository="team")
    status, code, message, _ = error(lambda: ca.get_repository_permissions_policy(domain=domain, repository="team"))
    assert (status, code, message) == (404, "ResourceNotFoundException", "No permissions policy on repository team")


# -- tags


def test_tags_of_domains_and_repositories(ca: Any, name: Name) -> None:
    domain = ca.create_domain(domain=name("ca"), tags=[{"key": "team", "value": "ml"}])["domain"]
    repository = ca.create_repository(
        domain=domain["name"], repository="team", tags=[{"key": "tier", "value": "internal"}]
    )["repository"]

    assert ca.list_tags_for_resource(resourceArn=domain["arn"])["tags"] == [{"key": "team", "value": "ml"}]
    ca.tag_resource(resourceArn=domain["arn"], tags=[{"key": "team", "value": "data"}, {"key": "env", "value": "dev"}])
    assert ca.list_tags_for_resource(resourceArn=domain["arn"])["tags"] == [
        {"key": "team", "value": "data"},
        {"key": "env", "value": "dev"},
    ]
    ca.untag_resource(resourceArn=domain["arn"], tagKeys=["team", "absent"])
    assert ca.list_tags_for_resource(resourceArn=domain["arn"])["tags"] == [{"key": "env", "value": "dev"}]
    assert ca.list_tags_for_resource(resourceArn=repository["arn"])["tags"] == [{"key": "tier", "value": "internal"}]

    unknown = f"{domain['arn']}-gone"
    status, code, message, response = error(lambda: ca.list_tags_for_resource(resourceArn=unknown))
    assert (status, code, message) == (404, "ResourceNotFoundException", f"Resource {unknown} not found")
    assert response["resourceId"] == unknown
    status, _, _, _ = error(lambda: ca.tag_resource(resourceArn=unknown, tags=[{"key": "a", "value": "b"}]))
    assert status == 404


# -- endpoint and token


def test_repository_endpoint_is_the_emulators_pypi_url_on_the_host_the_client_used(
    ca: Any, domain: str, layout: dict[str, Any], emulator_server: EmulatorServer, client_at: Callable[[str, str], Any]
) -> None:
    path = f"/_codeartifact/{domain}-{ACCOUNT_ID}/{REGION}/pypi/team/"
    assert endpoint(ca, domain, "team") == f"{emulator_server.url}{path}"
    localhost = client_at(f"http://localhost:{emulator_server.port}", "codeartifact")
    assert endpoint(localhost, domain, "team") == f"http://localhost:{emulator_server.port}{path}"

    status, code, message, _ = error(lambda: ca.get_repository_endpoint(domain=domain, repository="team", format="npm"))
    assert (status, code, message) == (
        400,
        "ValidationException",
        "format npm is not served: the emulator serves pypi repository endpoints only",
    )
    status, code, _, _ = error(lambda: ca.get_repository_endpoint(domain=domain, repository="nope", format="pypi"))
    assert (status, code) == (404, "ResourceNotFoundException")


def test_authorization_token_lasts_12_hours_by_default_and_900_to_43200_seconds(ca: Any, domain: str) -> None:
    def lasts(**duration: int) -> float:
        issued = ca.get_authorization_token(domain=domain, **duration)
        assert len(issued["authorizationToken"]) >= 32
        return float((issued["expiration"] - datetime.now(UTC)).total_seconds())

    assert 43190 < lasts() <= 43200
    assert 43190 < lasts(durationSeconds=0) <= 43200
    assert 890 < lasts(durationSeconds=900) <= 900
    for duration in (899, 43201):
        status, code, message, _ = error(
            lambda duration=duration: ca.get_authorization_token(domain=domain, durationSeconds=duration)
        )
        assert (status, code, message) == (
            400,
            "ValidationException",
            f"durationSeconds {duration} is invalid: 0 or 900 to 43200",
        )
    status, code, _, _ = error(lambda: ca.get_authorization_token(domain="nope-domain"))
    assert (status, code) == (404, "ResourceNotFoundException")


# -- data plane


def test_twine_publishes_and_pip_installs_through_the_team_repository_and_its_upstream(
    ca: Any, domain: str, layout: dict[str, Any], wheels: dict[str, Wheel], tmp_path: Path
) -> None:
    secret = token(ca, domain)
    for repository in ("store", "team"):
        published = twine_upload(endpoint(ca, domain, repository), secret, wheels[repository].path)
        assert published.returncode == 0, published.stdout + published.stderr

    index = with_credentials(endpoint(ca, domain, "team"), secret) + "simple/"
    installed = pip_install(index, tmp_path / "site", "ca-team-tool==1.0.0", "ca-store-lib==0.2.0")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (tmp_path / "site" / "ca_team_tool.py").read_text() == "NAME = 'ca-team-tool'\n"
    assert (tmp_path / "site" / "ca_store_lib.py").read_text() == "NAME = 'CA_Store.Lib'\n"

    again = twine_upload(endpoint(ca, domain, "store"), secret, wheels["store"].path)
    assert again.returncode == 1
    assert "409 Conflict" in again.stdout + again.stderr

    def packages(repository: str) -> list[str]:
        listed = ca.list_packages(domain=domain, repository=repository)["packages"]
        return [package["package"] for package in listed]

    assert (packages("team"), packages("store")) == (["ca-team-tool"], ["ca-store-lib"])
    versions = ca.list_package_versions(domain=domain, repository="store", format="pypi", package="CA_Store.Lib")
    assert (versions["package"], versions["defaultDisplayVersion"]) == ("ca-store-lib", "0.2.0")
    assert [(v["version"], v["status"]) for v in versions["versions"]] == [("0.2.0", "Published")]
    described = ca.describe_package_version(
        domain=domain, repository="store", format="pypi", package="ca-store-lib", packageVersion="0.2.0"
    )["packageVersion"]
    assert (described["packageName"], described["summary"]) == (
        "ca-store-lib",
        "ca_store_lib, a CodeArtifact test package",
    )
    size = len(wheels["team"].content) + len(wheels["store"].content)
    assert ca.describe_domain(domain=domain)["domain"]["assetSizeBytes"] == size


def test_simple_index_lists_own_projects_then_upstreams_and_links_files_with_sha256(
    ca: Any, domain: str, layout: dict[str, Any], wheels: dict[str, Wheel]
) -> None:
    auth = basic(token(ca, domain))
    store, team = endpoint(ca, domain, "store"), endpoint(ca, domain, "team")
    assert upload(store, auth, wheels["store"]).status == 200
    assert upload(team, auth, wheels["team"]).status == 200

    index = request(team + "simple/", auth)
    assert (index.status, index.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert index.text.index('<a href="ca-team-tool/">') < index.text.index('<a href="ca-store-lib/">')

    wheel = wheels["store"]
    page = request(team + "simple/CA_Store.Lib/", auth)  # any spelling of the name
    link = f'<a href="0.2.0/{wheel.path.name}#sha256={wheel.sha256}" data-requires-python="&gt;=3.9">'
    assert page.status == 200
    assert link in page.text

    file = request(f"{team}simple/ca-store-lib/0.2.0/{wheel.path.name}", auth)
    assert (file.status, file.headers["Content-Type"], file.body) == (200, "application/octet-stream", wheel.content)
    head = request(f"{team}simple/ca-store-lib/0.2.0/{wheel.path.name}", auth, method="HEAD")
    assert (head.status, head.body) == (200, b"")


def test_uploading_the_same_file_again_is_409_and_a_wrong_sha256_is_400(
    ca: Any, domain: str, layout: dict[str, Any], wheels: dict[str, Wheel]
) -> None:
    auth, team, wheel = basic(token(ca, domain)), endpoint(ca, domain, "team"), wheels["team"]
    assert upload(team, auth, wheel).status == 200
    again = upload(team, auth, wheel)
    assert (again.status, again.text) == (
        409,
        f"{wheel.path.name} already exists in ca-team-tool 1.0.0 of repository team\n",
    )

    wrong = "0" * 64
    mismatch = upload(endpoint(ca, domain, "store"), auth, wheel, sha256=wrong)
    assert (mismatch.status, mismatch.text) == (
        400,
        f"sha256_digest {wrong} does not match the uploaded file's sha256 {wheel.sha256}\n",
    )
    assert ca.list_packages(domain=domain, repository="store")["packages"] == []


def test_package_listings_name_what_is_missing(
    ca: Any, domain: str, layout: dict[str, Any], wheels: dict[str, Wheel]
) -> None:
    assert upload(endpoint(ca, domain, "team"), basic(token(ca, domain)), wheels["team"]).status == 200
    assert ca.list_packages(domain=domain, repository="team", format="npm")["packages"] == []
    assert [
        p["package"] for p in ca.list_packages(domain=domain, repository="team", packagePrefix="ca-")["packages"]
    ] == ["ca-team-tool"]
    status, code, message, response = error(
        lambda: ca.list_package_versions(domain=domain, repository="store", format="pypi", package="ca-team-tool")
    )
    assert (status, code, message) == (
        404,
        "ResourceNotFoundException",
        "Package ca-team-tool (pypi) not found in repository store",
    )
    assert response["resourceType"] == "package"
    status, code, message, _ = error(
        lambda: ca.describe_package_version(
            domain=domain, repository="team", format="pypi", package="ca-team-tool", packageVersion="9.9"
        )
    )
    assert (status, code, message) == (
        404,
        "ResourceNotFoundException",
        "Version 9.9 of package ca-team-tool not found in repository team",
    )


def test_a_missing_token_user_or_a_wrong_or_expired_token_is_401(ca: Any, domain: str, name: Name) -> None:
    ca.create_repository(domain=domain, repository="team")
    index = endpoint(ca, domain, "team") + "simple/"
    other = ca.create_domain(domain=name("ca"))["domain"]["name"]
    expired = token(ca, domain)
    grants = backend().tokens
    grants[expired] = replace(grants[expired], expiration=datetime.now(UTC) - timedelta(seconds=1))

    for headers, reason in (
        ({}, "authentication required: HTTP Basic, user aws, password a CodeArtifact authorization token"),
        (basic(token(ca, domain), user="admin"), "user admin is not aws"),
        (basic("not-a-token"), "unknown authorization token"),
        (basic(token(ca, other)), f"the authorization token was issued for domain {other}-{ACCOUNT_ID}, not this one"),
        (basic(expired), "the authorization token expired at "),
    ):
        answer = request(index, headers)
        assert (answer.status, answer.headers["WWW-Authenticate"]) == (401, 'Basic realm="codeartifact"')
        assert answer.text.startswith(reason)
    assert request(index, basic(token(ca, domain))).status == 200


def test_a_project_missing_everywhere_is_404_and_public_pypi_is_not_fetched(
    ca: Any, domain: str, layout: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="emulator.codeartifact")
    auth = basic(token(ca, domain))
    missing = request(endpoint(ca, domain, "team") + "simple/requests/", auth)
    assert (missing.status, missing.text) == (404, "project requests not found in repository team or its upstreams\n")
    assert [record.getMessage() for record in caplog.records if record.name == "emulator.codeartifact"] == [
        f"requests not found in {domain}/team or its upstreams; the public:pypi external connection of store is "
        "not fetched (the emulator is offline)"
    ]


def test_an_unknown_domain_or_repository_is_404(ca: Any, domain: str) -> None:
    auth = basic(token(ca, domain))
    ca.create_repository(domain=domain, repository="team")
    team = endpoint(ca, domain, "team")
    unknown_repository = request(team.replace("/pypi/team/", "/pypi/nope/") + "simple/", auth)
    assert (unknown_repository.status, unknown_repository.text) == (
        404,
        f"repository nope not found in domain {domain}\n",
    )
    unknown_domain = request(team.replace(f"/{domain}-", "/nope-domain-") + "simple/", auth)
    assert (unknown_domain.status, unknown_domain.text) == (
        404,
        f"domain nope-domain of account {ACCOUNT_ID} not found in {REGION}\n",
    )


def test_state_is_per_account_and_region_and_reset_with_moto(ca: Any, domain: str) -> None:
    backends = moto.backends.get_backend("codeartifact")  # type: ignore[call-overload]
    assert backends in BackendDict._instances  # what /moto-api/reset walks
    token(ca, domain)
    assert domain in backends[ACCOUNT_ID][REGION].domains
    assert domain not in backends[ACCOUNT_ID]["eu-west-1"].domains
    backends[ACCOUNT_ID][REGION].reset()  # what /moto-api/reset does to it (the whole reset would hit other tests)
    assert (backends[ACCOUNT_ID][REGION].domains, backends[ACCOUNT_ID][REGION].tokens) == ({}, {})
    status, code, _, _ = error(lambda: ca.describe_domain(domain=domain))
    assert (status, code) == (404, "ResourceNotFoundException")

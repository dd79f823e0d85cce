"""A whole service moto lacks, served by a ServiceBackendExtension: a toy CodeArtifact.

The toy answers ListDomains from an in-memory list and DescribeDomain with the domain or
AWS's ResourceNotFoundException (HTTP 404). Issue #10's real CodeArtifact backend plugs in
the same way (see emulator/README.md, "Adding a service backend").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import moto.backends
import pytest
from botocore.exceptions import ClientError
from moto.backend_index import backend_url_patterns
from moto.core.base_backend import BaseBackend
from moto.core.responses import ActionResult

from emulator import EmulatorServer, ExtensionInstallError, ServiceBackendExtension, ServiceResponse
from emulator.extension import active_names
from emulator.service_backend import ResourceNotFound

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class ToyDomains(BaseBackend):
    """One account and region's domains; every new backend starts with ``ml-platform``."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.domains: dict[str, dict[str, Any]] = {}
        self.add("ml-platform")

    def add(self, name: str) -> None:
        arn = f"arn:aws:codeartifact:{self.region_name}:{self.account_id}:domain/{name}"
        self.domains[name] = {
            "name": name,
            "owner": self.account_id,
            "arn": arn,
            "status": "Active",
            "createdTime": CREATED,
        }


class ToyCodeArtifactResponse(ServiceResponse):
    service = "codeartifact"

    def list_domains(self) -> ActionResult:
        return ActionResult({"domains": list(self.backend.domains.values())})

    def describe_domain(self) -> ActionResult:
        name = self._get_param("domain")
        domain = self.backend.domains.get(name)
        if domain is None:
            raise ResourceNotFound(f"Domain {name} not found", resourceId=name, resourceType="domain")
        return ActionResult({"domain": domain})


class ToyCodeArtifact(ServiceBackendExtension):
    name = "test-toy-codeartifact"
    service = "codeartifact"
    backend_class = ToyDomains
    response_class = ToyCodeArtifactResponse


def _error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as failure:
        call()
    return dict(failure.value.response)


def test_toy_codeartifact_answers_boto3_with_aws_json_and_errors_then_uninstalls(
    emulator_server: EmulatorServer, client_at: Callable[[str, str], Any]
) -> None:
    session_client = client_at(emulator_server.url, "codeartifact")
    for _installation in range(2):  # a second installation works on a server that outlived the first
        toy = ToyCodeArtifact()
        with EmulatorServer(port=0, extensions=[toy]) as server:
            client = client_at(server.url, "codeartifact")
            toy.backends[ACCOUNT_ID][REGION].add("team")

            domains = client.list_domains()["domains"]
            assert [domain["name"] for domain in domains] == ["ml-platform", "team"]
            assert domains[0]["createdTime"] == CREATED  # a JSON timestamp, parsed back by botocore
            assert domains[1]["arn"] == f"arn:aws:codeartifact:{REGION}:{ACCOUNT_ID}:domain/team"
            assert client.describe_domain(domain="team")["domain"]["status"] == "Active"

            missing = _error(lambda client=client: client.describe_domain(domain="nope"))
            assert missing["Error"]["Code"] == "ResourceNotFoundException"
            assert missing["Error"]["Message"] == "Domain nope not found"
            assert missing["ResponseMetadata"]["HTTPStatusCode"] == 404
            assert (missing["resourceId"], missing["resourceType"]) == ("nope", "domain")

            unimplemented = _error(lambda client=client: client.create_domain(domain="new"))
            assert unimplemented["Error"]["Code"] == "NotImplementedException"
            assert "does not implement CreateDomain" in unimplemented["Error"]["Message"]
            assert unimplemented["ResponseMetadata"]["HTTPStatusCode"] == 501

            assert moto.backends.get_backend("codeartifact") is toy.backends  # type: ignore[call-overload]
            assert [d["name"] for d in session_client.list_domains()["domains"]] == ["ml-platform", "team"]

            toy.backends.clear()  # what /moto-api/reset does to every BackendDict: fresh state
            assert [d["name"] for d in client.list_domains()["domains"]] == ["ml-platform"]

        assert not toy.installed
        assert "test-toy-codeartifact" not in active_names()
        assert not [key for key, _pattern in backend_url_patterns if key.startswith("codeartifact")]
        with pytest.raises(ModuleNotFoundError):
            moto.backends.get_backend("codeartifact")  # type: ignore[call-overload]
        gone = _error(session_client.list_domains)  # moto without the toy: no backend at all
        assert gone["ResponseMetadata"]["HTTPStatusCode"] == 500


class ToyS3Response(ServiceResponse):
    service = "s3"


class ToyS3(ServiceBackendExtension):
    name = "test-toy-s3"
    service = "s3"
    backend_class = ToyDomains
    response_class = ToyS3Response


def test_a_service_moto_already_serves_is_refused_naming_the_extension() -> None:
    toy = ToyS3()
    with pytest.raises(ExtensionInstallError, match=r"^test-toy-s3: s3 is already served \(by 's3'\)"):
        toy.install(server=None)  # type: ignore[arg-type]
    assert not toy.installed
    assert not [key for key, _pattern in backend_url_patterns if key.startswith("s3#")]

"""A whole service moto lacks, served by a ServiceBackendExtension: a toy Managed Grafana.

The toy answers ListWorkspaces from an in-memory list and DescribeWorkspace with the workspace or
AWS's ResourceNotFoundException (HTTP 404), and is installed and uninstalled twice: the machinery,
apart from any real service. The built-in CodeArtifact backend (emulator/services/codeartifact/,
tests in test_codeartifact_backend.py) is the worked example of emulator/README.md, "Adding a
service backend"; it is installed with every server, so the toy serves another service moto lacks.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import moto.backends
import pytest
from botocore.exceptions import ClientError
from moto.backend_index import backend_url_patterns
from moto.core.base_backend import BaseBackend
from moto.core.common_types import TYPE_RESPONSE
from moto.core.request import Request
from moto.core.responses import ActionResult

from emulator import EmulatorServer, ExtensionInstallError, ServiceBackendExtension, ServiceResponse
from emulator.extension import active_names
from emulator.service_backend import ResourceNotFound

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class ToyWorkspaces(BaseBackend):
    """One account and region's workspaces; every new backend starts with ``ml-platform``."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.add("ml-platform")

    def add(self, workspace_id: str) -> None:
        self.workspaces[workspace_id] = {
            "id": workspace_id,
            "name": workspace_id,
            "endpoint": f"{workspace_id}.grafana-workspace.{self.region_name}.amazonaws.com",
            "status": "ACTIVE",
            "created": CREATED,
        }


class ToyGrafanaResponse(ServiceResponse):
    service = "grafana"

    def list_workspaces(self) -> ActionResult:
        return ActionResult({"workspaces": list(self.backend.workspaces.values())})

    def describe_workspace(self) -> ActionResult:
        workspace_id = self._get_param("workspaceId")
        workspace = self.backend.workspaces.get(workspace_id)
        if workspace is None:
            raise ResourceNotFound(
                f"Workspace {workspace_id} not found", resourceId=workspace_id, resourceType="WORKSPACE"
            )
        return ActionResult({"workspace": workspace})

    def serve_data_path(self, request: Request) -> TYPE_RESPONSE:
        """A data plane without SigV4: echoes what reached it."""
        return 200, {"Content-Type": "text/plain"}, f"toy data plane: {request.method} {request.path}"


class ToyGrafana(ServiceBackendExtension):
    name = "test-toy-grafana"
    service = "grafana"
    backend_class = ToyWorkspaces
    response_class = ToyGrafanaResponse
    data_path_prefixes = ("/_toy-grafana/",)


def _get(url: str, headers: dict[str, str]) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as failure:
        call()
    return dict(failure.value.response)


def test_toy_grafana_answers_boto3_with_aws_json_and_errors_then_uninstalls(
    emulator_server: EmulatorServer, client_at: Callable[[str, str], Any]
) -> None:
    session_client = client_at(emulator_server.url, "grafana")
    for _installation in range(2):  # a second installation works on a server that outlived the first
        toy = ToyGrafana()
        with EmulatorServer(port=0, extensions=[toy]) as server:
            client = client_at(server.url, "grafana")
            toy.backends[ACCOUNT_ID][REGION].add("team")

            workspaces = client.list_workspaces()["workspaces"]
            assert [workspace["id"] for workspace in workspaces] == ["ml-platform", "team"]
            assert workspaces[0]["created"] == CREATED  # a JSON timestamp, parsed back by botocore
            assert workspaces[1]["endpoint"] == f"team.grafana-workspace.{REGION}.amazonaws.com"
            assert client.describe_workspace(workspaceId="team")["workspace"]["status"] == "ACTIVE"

            missing = _error(lambda client=client: client.describe_workspace(workspaceId="nope"))
            assert missing["Error"]["Code"] == "ResourceNotFoundException"
            assert missing["Error"]["Message"] == "Workspace nope not found"
            assert missing["ResponseMetadata"]["HTTPStatusCode"] == 404
            assert (missing["resourceId"], missing["resourceType"]) == ("nope", "WORKSPACE")

            unimplemented = _error(
                lambda client=client: client.create_workspace(
                    accountAccessType="CURRENT_ACCOUNT", permissionType="SERVICE_MANAGED", authenticationProviders=[]
                )
            )
            assert unimplemented["Error"]["Code"] == "NotImplementedException"
            assert "does not implement CreateWorkspace" in unimplemented["Error"]["Message"]
            assert unimplemented["ResponseMetadata"]["HTTPStatusCode"] == 501

            assert moto.backends.get_backend("grafana") is toy.backends  # type: ignore[call-overload]
            assert [w["id"] for w in session_client.list_workspaces()["workspaces"]] == ["ml-platform", "team"]

            toy.backends.clear()  # what /moto-api/reset does to every BackendDict: fresh state
            assert [w["id"] for w in client.list_workspaces()["workspaces"]] == ["ml-platform"]

            basic = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}  # not SigV4: moto alone would pick S3
            data_plane = _get(f"{server.url}/_toy-grafana/a/b/", basic)
            assert data_plane == (200, "toy data plane: GET /_toy-grafana/a/b/")

        assert not toy.installed
        assert "test-toy-grafana" not in active_names()
        assert not [key for key, _pattern in backend_url_patterns if key.startswith("grafana")]
        with pytest.raises(ModuleNotFoundError):
            moto.backends.get_backend("grafana")  # type: ignore[call-overload]
        gone = _error(session_client.list_workspaces)  # moto without the toy: no backend at all
        assert gone["ResponseMetadata"]["HTTPStatusCode"] == 500
        status, body = _get(f"{emulator_server.url}/_toy-grafana/a/b/", basic)
        assert (status, "<Code>NoSuchBucket</Code>" in body) == (404, True)  # S3's again, as without the toy


class ToyS3Response(ServiceResponse):
    service = "s3"


class ToyS3(ServiceBackendExtension):
    name = "test-toy-s3"
    service = "s3"
    backend_class = ToyWorkspaces
    response_class = ToyS3Response


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("/toy/", r"data path prefix '/toy/' is not one path segment starting with '_'"),
        ("/_toy/more/", r"data path prefix '/_toy/more/' is not one path segment starting with '_'"),
        ("/_codeartifact/", r"data path prefix '/_codeartifact/' is taken by codeartifact"),
    ],
)
def test_a_data_path_prefix_s3_could_shadow_or_another_service_holds_is_refused(
    emulator_server: EmulatorServer, prefix: str, message: str
) -> None:
    toy = ToyGrafana()
    toy.data_path_prefixes = (prefix,)
    with pytest.raises(ExtensionInstallError, match=rf"^test-toy-grafana: {message}"):
        toy.install(server=emulator_server)
    assert not toy.installed
    assert not [key for key, _pattern in backend_url_patterns if key.startswith("grafana")]


def test_a_service_moto_already_serves_is_refused_naming_the_extension() -> None:
    toy = ToyS3()
    with pytest.raises(ExtensionInstallError, match=r"^test-toy-s3: s3 is already served \(by 's3'\)"):
        toy.install(server=None)  # type: ignore[arg-type]
    assert not toy.installed
    assert not [key for key, _pattern in backend_url_patterns if key.startswith("s3#")]

"""CodeArtifact operations: one method per operation of botocore's model, over ``CodeArtifactBackend``.

Parameters are read by member name (``self._get_param("domainOwner")``) whatever their location
(query string, JSON body); results go through ``ActionResult`` so the model serializes them.
Requests under ``/_codeartifact/`` are the PyPI data plane (``pypi.py``), not operations.
"""

from __future__ import annotations

from typing import Any

import moto.backends
from moto.core.common_types import TYPE_RESPONSE
from moto.core.request import Request
from moto.core.responses import ActionResult

from emulator.service_backend import ServiceResponse, ValidationError
from emulator.services.codeartifact import pypi
from emulator.services.codeartifact.models import CodeArtifactBackend, Domain, Repository, page
from emulator.services.codeartifact.packages import PYPI


class CodeArtifactResponse(ServiceResponse):
    """The operations Terraform's aws provider 5.100 calls, plus the package listings a publish is checked with."""

    service = "codeartifact"

    @property
    def ca(self) -> CodeArtifactBackend:
        """This request's backend (account and region from its SigV4 credentials)."""
        return self.backend  # type: ignore[no-any-return]

    def _domain(self) -> Domain:
        return self.ca.domain(self._get_param("domain"), self._get_param("domainOwner"))

    def _repository(self) -> Repository:
        return self.ca.repository(
            self._get_param("domain"), self._get_param("domainOwner"), self._get_param("repository")
        )

    def _upstreams(self) -> list[str] | None:
        upstreams = self._get_param("upstreams")
        return None if upstreams is None else [upstream["repositoryName"] for upstream in upstreams]

    def _page(self, key: str, items: list[Any]) -> ActionResult:
        found, next_token = page(items, self._get_param("maxResults"), self._get_param("nextToken"))
        return ActionResult({key: found, "nextToken": next_token} if next_token else {key: found})

    def call_action(self) -> Any:
        """The operation under the backend's lock: its result is serialized before a data-plane upload changes
        what it reads (sizes, package lists)."""
        with self.ca.lock:
            return super().call_action()

    def serve_data_path(self, request: Request) -> TYPE_RESPONSE:
        """The PyPI repository endpoints (``pypi.serve``)."""
        return pypi.serve(request, moto.backends.get_backend(self.service))  # type: ignore[call-overload]

    # -- domains

    def create_domain(self) -> ActionResult:
        domain = self.ca.create_domain(
            self._get_param("domain"), self._get_param("encryptionKey"), self._get_param("tags")
        )
        return ActionResult({"domain": domain.description_dict()})

    def describe_domain(self) -> ActionResult:
        return ActionResult({"domain": self._domain().description_dict()})

    def list_domains(self) -> ActionResult:
        return self._page("domains", [domain.summary_dict() for domain in self.ca.list_domains()])

    def delete_domain(self) -> ActionResult:
        domain = self.ca.delete_domain(self._get_param("domain"), self._get_param("domainOwner"))
        return ActionResult({"domain": domain.description_dict(status="Deleted")})

    # -- repositories

    def create_repository(self) -> ActionResult:
        repository = self.ca.create_repository(
            self._get_param("domain"),
            self._get_param("domainOwner"),
            self._get_param("repository"),
            self._get_param("description"),
            self._upstreams() or [],
            self._get_param("tags"),
        )
        return ActionResult({"repository": repository.description_dict()})

    def describe_repository(self) -> ActionResult:
        return ActionResult({"repository": self._repository().description_dict()})

    def list_repositories(self) -> ActionResult:
        repositories = self.ca.list_repositories(prefix=self._get_param("repositoryPrefix") or "")
        return self._page("repositories", [repository.summary_dict() for repository in repositories])

    def list_repositories_in_domain(self) -> ActionResult:
        repositories = self.ca.list_repositories(
            self._get_param("domain"),
            self._get_param("domainOwner"),
            self._get_param("administratorAccount"),
            self._get_param("repositoryPrefix") or "",
        )
        return self._page("repositories", [repository.summary_dict() for repository in repositories])

    def update_repository(self) -> ActionResult:
        repository = self.ca.update_repository(
            self._get_param("domain"),
            self._get_param("domainOwner"),
            self._get_param("repository"),
            self._get_param("description"),
            self._upstreams(),
        )
        return ActionResult({"repository": repository.description_dict()})

    def delete_repository(self) -> ActionResult:
        repository = self.ca.delete_repository(
            self._get_param("domain"), self._get_param("domainOwner"), self._get_param("repository")
        )
        return ActionResult({"repository": repository.description_dict()})

    def associate_external_connection(self) -> ActionResult:
        repository = self.ca.associate_external_connection(
            self._get_param("domain"),
            self._get_param("domainOwner"),
            self._get_param("repository"),
            self._get_param("externalConnection"),
        )
        return ActionResult({"repository": repository.description_dict()})

    def disassociate_external_connection(self) -> ActionResult:
        repository = self.ca.disassociate_external_connection(
            self._get_param("domain"),
            self._get_param("domainOwner"),
            self._get_param("repository"),
            self._get_param("externalConnection"),
        )
        return ActionResult({"repository": repository.description_dict()})

    # -- permissions policies

    def put_domain_permissions_policy(self) -> ActionResult:
        policy = self.ca.put_policy(
            self._domain(), self._get_param("policyRevision"), self._get_param("policyDocument")
        )
        return ActionResult({"policy": policy.to_dict()})

    def get_domain_permissions_policy(self) -> ActionResult:
        return ActionResult({"policy": self.ca.get_policy(self._domain()).to_dict()})

    def delete_domain_permissions_policy(self) -> ActionResult:
        policy = self.ca.delete_policy(self._domain(), self._get_param("policyRevision"))
        return ActionResult({"policy": policy.to_dict()})

    def put_repository_permissions_policy(self) -> ActionResult:
        policy = self.ca.put_policy(
            self._repository(), self._get_param("policyRevision"), self._get_param("policyDocument")
        )
        return ActionResult({"policy": policy.to_dict()})

    def get_repository_permissions_policy(self) -> ActionResult:
        return ActionResult({"policy": self.ca.get_policy(self._repository()).to_dict()})

    def delete_repository_permissions_policy(self) -> ActionResult:
        policy = self.ca.delete_policy(self._repository(), self._get_param("policyRevision"))
        return ActionResult({"policy": policy.to_dict()})

    # -- tags

    def tag_resource(self) -> ActionResult:
        self.ca.tag_resource(self._get_param("resourceArn"), self._get_param("tags") or [])
        return ActionResult({})

    def untag_resource(self) -> ActionResult:
        self.ca.untag_resource(self._get_param("resourceArn"), self._get_param("tagKeys") or [])
        return ActionResult({})

    def list_tags_for_resource(self) -> ActionResult:
        tags = self.ca.tagged(self._get_param("resourceArn")).tags
        return ActionResult({"tags": [{"key": key, "value": value} for key, value in tags.items()]})

    # -- endpoint and token

    def get_repository_endpoint(self) -> ActionResult:
        """The data plane URL on the host and scheme this request reached (``pypi.endpoint_url``)."""
        repository = self._repository()
        package_format = self._get_param("format")
        if package_format != PYPI:
            raise ValidationError(
                f"format {package_format} is not served: the emulator serves pypi repository endpoints only",
                reason="FIELD_VALIDATION_FAILED",
            )
        base = f"{self.parsed_url.scheme}://{self.parsed_url.netloc}"
        domain = repository.domain
        return ActionResult(
            {"repositoryEndpoint": pypi.endpoint_url(base, domain.name, domain.owner, self.region, repository.name)}
        )

    def get_authorization_token(self) -> ActionResult:
        token, grant = self.ca.get_authorization_token(
            self._get_param("domain"), self._get_param("domainOwner"), self._get_param("durationSeconds")
        )
        return ActionResult({"authorizationToken": token, "expiration": grant.expiration})

    # -- packages (what was published through the data plane)

    def list_packages(self) -> ActionResult:
        repository = self._repository()
        package_format, prefix = self._get_param("format"), self._get_param("packagePrefix") or ""
        with self.ca.lock:
            packages = [
                package.summary_dict()
                for name, package in sorted(repository.packages.items())
                if package_format in (None, PYPI) and name.startswith(prefix)
            ]
        return self._page("packages", packages)

    def list_package_versions(self) -> ActionResult:
        """Versions in publish order; ``defaultDisplayVersion`` is the latest published (AWS: the greatest)."""
        repository = self._repository()
        package = self.ca.package(repository, self._get_param("format"), self._get_param("package"))
        with self.ca.lock:
            versions = [version.summary_dict(repository.name) for version in package.versions.values()]
        status = self._get_param("status")
        versions = [version for version in versions if status in (None, version["status"])]
        found, next_token = page(versions, self._get_param("maxResults"), self._get_param("nextToken"))
        result: dict[str, Any] = {"format": PYPI, "package": package.name, "versions": found}
        if versions:
            result["defaultDisplayVersion"] = versions[-1]["version"]
        return ActionResult({**result, "nextToken": next_token} if next_token else result)

    def describe_package_version(self) -> ActionResult:
        repository = self._repository()
        name = self._get_param("package")
        version = self.ca.package_version(
            repository, self._get_param("format"), name, self._get_param("packageVersion")
        )
        description = {
            "format": PYPI,
            "packageName": self.ca.package(repository, PYPI, name).name,
            "displayName": name,
            "version": version.version,
            "publishedTime": version.published_time,
            "revision": version.revision,
            "status": "Published",
            "origin": version.summary_dict(repository.name)["origin"],
        }
        if version.summary:
            description["summary"] = version.summary
        return ActionResult({"packageVersion": description})

"""CodeArtifact state of one account and region: domains, repositories, policies, tags, tokens, packages.

Names, shapes and errors follow botocore's model of the service (``codeartifact/2018-09-22``) and
what AWS answers; the platform's own rule is on top: a repository holds upstreams or an external
connection, never both (a store repository with ``public:pypi`` is the upstream of team repositories).
Only the ``pypi`` format stores packages (``packages.py``; published through the data plane, ``pypi.py``).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.base_backend import BaseBackend

from emulator.service_backend import Conflict, ResourceNotFound, ValidationError
from emulator.services.codeartifact.packages import PYPI, Package, PackageVersion, StoredFile, normalize_project

DOMAIN_NAME = re.compile(r"[a-z][a-z0-9\-]{0,48}[a-z0-9]")
REPOSITORY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{1,99}")
MAX_UPSTREAMS = 10
# AWS's public external connections and the package format of each.
EXTERNAL_CONNECTIONS = {
    "public:pypi": "pypi",
    "public:npmjs": "npm",
    "public:maven-central": "maven",
    "public:maven-googleandroid": "maven",
    "public:maven-gradleplugins": "maven",
    "public:maven-commonsware": "maven",
    "public:maven-clojars": "maven",
    "public:nuget-org": "nuget",
    "public:ruby-gems-org": "ruby",
    "public:crates-io": "cargo",
}
TOKEN_SECONDS_DEFAULT = 43200  # 12 h, AWS's default and maximum
TOKEN_SECONDS_MIN = 900


def now() -> datetime:
    """The current time, timezone-aware (the model serializes it as a timestamp)."""
    return datetime.now(UTC)


@dataclass
class ResourcePolicy:
    """A domain's or repository's permissions policy: the document verbatim and an opaque revision."""

    resource_arn: str
    document: str
    revision: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def to_dict(self) -> dict[str, Any]:
        return {"resourceArn": self.resource_arn, "revision": self.revision, "document": self.document}


@dataclass(eq=False)  # identity: a repository and its domain refer to each other
class Repository:
    """A repository of a domain: upstreams (in search order) or one external connection, and packages."""

    name: str
    domain: Domain = field(repr=False)
    description: str | None
    upstreams: list[str]
    arn: str
    external_connection: str | None = None
    created_time: datetime = field(default_factory=now)
    tags: dict[str, str] = field(default_factory=dict)
    policy: ResourcePolicy | None = None
    packages: dict[str, Package] = field(default_factory=dict)

    @property
    def asset_size_bytes(self) -> int:
        return sum(
            len(f.content) for p in self.packages.values() for v in p.versions.values() for f in v.files.values()
        )

    def summary_dict(self) -> dict[str, Any]:
        summary = {
            "name": self.name,
            "administratorAccount": self.domain.owner,
            "domainName": self.domain.name,
            "domainOwner": self.domain.owner,
            "arn": self.arn,
            "createdTime": self.created_time,
        }
        return summary if self.description is None else {**summary, "description": self.description}

    def description_dict(self) -> dict[str, Any]:
        connections = [
            {"externalConnectionName": name, "packageFormat": EXTERNAL_CONNECTIONS[name], "status": "Available"}
            for name in [self.external_connection]
            if name
        ]
        return {
            **self.summary_dict(),
            "upstreams": [{"repositoryName": name} for name in self.upstreams],
            "externalConnections": connections,
        }


@dataclass(eq=False)
class Domain:
    """A domain: its repositories by name (creation order), encryption key ARN, policy and tags."""

    name: str
    owner: str
    arn: str
    encryption_key: str
    s3_bucket_arn: str
    created_time: datetime = field(default_factory=now)
    tags: dict[str, str] = field(default_factory=dict)
    policy: ResourcePolicy | None = None
    repositories: dict[str, Repository] = field(default_factory=dict)

    def summary_dict(self, status: str = "Active") -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "arn": self.arn,
            "status": status,
            "createdTime": self.created_time,
            "encryptionKey": self.encryption_key,
        }

    def description_dict(self, status: str = "Active") -> dict[str, Any]:
        return {
            **self.summary_dict(status),
            "repositoryCount": len(self.repositories),
            "assetSizeBytes": sum(repository.asset_size_bytes for repository in self.repositories.values()),
            "s3BucketArn": self.s3_bucket_arn,
        }


@dataclass(frozen=True)
class AuthorizationToken:
    """What a token issued by GetAuthorizationToken opens: one domain of one owner, until ``expiration``."""

    domain: str
    owner: str
    expiration: datetime


def page(items: Sequence[Any], max_results: int | None, next_token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the token of the next (an offset), or None after the last."""
    start = 0
    if next_token:
        if not next_token.isdigit() or int(next_token) > len(items):
            raise ValidationError(f"Invalid nextToken {next_token}", reason="FIELD_VALIDATION_FAILED")
        start = int(next_token)
    end = len(items) if not max_results else start + max_results
    return list(items[start:end]), (str(end) if end < len(items) else None)


def _field_error(message: str) -> ValidationError:
    return ValidationError(message, reason="FIELD_VALIDATION_FAILED")


def _validate_policy(document: str) -> None:
    try:
        parsed = json.loads(document)
    except ValueError as exc:
        raise _field_error(f"Policy document is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise _field_error("Policy document has no Statement")


def _tags(tags: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in tags or ()}


class CodeArtifactBackend(BaseBackend):
    """Domains (by name) of one account and region, their repositories, and the tokens issued for them.

    Requests run on the server's threads: every public method holds the backend's lock.
    """

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.domains: dict[str, Domain] = {}
        self.tokens: dict[str, AuthorizationToken] = {}
        self.lock = threading.RLock()

    # -- domains

    def _arn(self, resource: str) -> str:
        return f"arn:{self.partition}:codeartifact:{self.region_name}:{self.account_id}:{resource}"

    def domain(self, name: str, owner: str | None = None) -> Domain:
        """The domain ``name`` (of ``owner``, default this account); ResourceNotFound otherwise."""
        found = self.domains.get(name) if owner in (None, self.account_id) else None
        if found is None:
            where = "" if owner in (None, self.account_id) else f" of account {owner}"
            raise ResourceNotFound(f"Domain {name}{where} not found", resourceId=name, resourceType="domain")
        return found

    def _kms_key_arn(self, key: str) -> str:
        """The ARN of the KMS key ``key`` names (key id, key ARN, alias name or alias ARN) in this account and
        region; ValidationException "KMS key not found" otherwise (the text Terraform retries on)."""
        from moto.kms.models import kms_backends

        kms = kms_backends[self.account_id][self.region_name]
        found = None
        arn_parts = key.split(":", 5)
        if not key.startswith("arn:") or (
            len(arn_parts) == 6 and arn_parts[3:5] == [self.region_name, self.account_id]
        ):
            alias = kms.get_alias_name(key)
            key_id = kms.get_key_id_from_alias(alias) if alias.startswith("alias/") else kms.get_key_id(key)
            found = kms.keys.get(key_id) if key_id else None
        if found is None:
            raise ValidationError(f"KMS key not found: {key}", reason="ENCRYPTION_KEY_ERROR")
        return str(found.arn)

    def create_domain(self, name: str, encryption_key: str | None, tags: list[dict[str, str]] | None) -> Domain:
        """A new domain; without ``encryption_key``, a stable stand-in for AWS's managed key
        (``arn:aws:kms:<region>:<account>:key/<uuid5 of the domain ARN>``)."""
        if not DOMAIN_NAME.fullmatch(name):
            raise _field_error(f"Domain name {name} is invalid: it must match {DOMAIN_NAME.pattern}")
        with self.lock:
            if name in self.domains:
                raise Conflict(f"Domain {name} already exists", resourceId=name, resourceType="domain")
            arn = self._arn(f"domain/{name}")
            if encryption_key:
                key = self._kms_key_arn(encryption_key)
            else:  # AWS uses its managed key aws/codeartifact: a stable stand-in
                key_id = uuid.uuid5(uuid.NAMESPACE_URL, arn)
                key = f"arn:{self.partition}:kms:{self.region_name}:{self.account_id}:key/{key_id}"
            bucket = f"arn:{self.partition}:s3:::assets-{self.account_id}-{self.region_name}"
            domain = Domain(name, self.account_id, arn, key, bucket, tags=_tags(tags))
            self.domains[name] = domain
            return domain

    def list_domains(self) -> list[Domain]:
        with self.lock:
            return sorted(self.domains.values(), key=lambda domain: domain.name)

    def delete_domain(self, name: str, owner: str | None) -> Domain:
        """Remove the domain (its policy and tokens go with it); ConflictException while it has repositories."""
        with self.lock:
            domain = self.domain(name, owner)
            if domain.repositories:
                raise Conflict(
                    f"Domain {name} still has repositories ({', '.join(domain.repositories)}): delete them first",
                    resourceId=name,
                    resourceType="domain",
                )
            del self.domains[name]
            self.tokens = {token: grant for token, grant in self.tokens.items() if grant.domain != name}
            return domain

    # -- repositories

    def repository(self, domain: str, owner: str | None, name: str) -> Repository:
        """The repository ``name`` of the domain; ResourceNotFound for either missing."""
        found = self.domain(domain, owner).repositories.get(name)
        if found is None:
            raise ResourceNotFound(
                f"Repository {name} not found in domain {domain}", resourceId=name, resourceType="repository"
            )
        return found

    def _check_upstreams(self, domain: Domain, name: str, upstreams: list[str]) -> None:
        if len(upstreams) > MAX_UPSTREAMS:
            raise _field_error(f"Repository {name} lists {len(upstreams)} upstreams; at most {MAX_UPSTREAMS}")
        for upstream in upstreams:
            if upstream not in domain.repositories and upstream != name:
                raise ResourceNotFound(
                    f"Upstream repository {upstream} not found in domain {domain.name}",
                    resourceId=upstream,
                    resourceType="repository",
                )
        repeated = sorted({upstream for upstream in upstreams if upstreams.count(upstream) > 1})
        if repeated:
            raise _field_error(f"Upstream repositories listed more than once: {', '.join(repeated)}")
        cycle = _cycle(domain, name, upstreams)
        if cycle:
            raise _field_error(f"Upstreams of repository {name} would form a cycle: {' -> '.join(cycle)}")
        current = domain.repositories.get(name)
        if upstreams and current is not None and current.external_connection:
            raise _field_error(
                f"Repository {name} has the external connection {current.external_connection}, so it cannot have "
                "upstreams: a repository holds upstreams or an external connection, never both (put the connection "
                "on a store repository and make that store the upstream)"
            )

    def create_repository(
        self,
        domain: str,
        owner: str | None,
        name: str,
        description: str | None,
        upstreams: list[str],
        tags: list[dict[str, str]] | None,
    ) -> Repository:
        if not REPOSITORY_NAME.fullmatch(name):
            raise _field_error(f"Repository name {name} is invalid: it must match {REPOSITORY_NAME.pattern}")
        with self.lock:
            parent = self.domain(domain, owner)
            if name in parent.repositories:
                raise Conflict(
                    f"Repository {name} already exists in domain {domain}", resourceId=name, resourceType="repository"
                )
            self._check_upstreams(parent, name, upstreams)
            arn = self._arn(f"repository/{domain}/{name}")
            repository = Repository(name, parent, description, list(upstreams), arn, tags=_tags(tags))
            parent.repositories[name] = repository
            return repository

    def list_repositories(
        self, domain: str | None = None, owner: str | None = None, administrator: str | None = None, prefix: str = ""
    ) -> list[Repository]:
        """Repositories of one domain, or of every domain of this account, by name."""
        with self.lock:
            domains = [self.domain(domain, owner)] if domain is not None else list(self.domains.values())
            found = [
                repository
                for parent in domains
                for repository in parent.repositories.values()
                if repository.name.startswith(prefix) and administrator in (None, parent.owner)
            ]
            return sorted(found, key=lambda repository: (repository.name, repository.domain.name))

    def update_repository(
        self, domain: str, owner: str | None, name: str, description: str | None, upstreams: list[str] | None
    ) -> Repository:
        """Change the description (when given) and replace the upstreams (when given)."""
        with self.lock:
            repository = self.repository(domain, owner, name)
            if upstreams is not None:
                self._check_upstreams(repository.domain, name, upstreams)
                repository.upstreams = list(upstreams)
            if description is not None:
                repository.description = description
            return repository

    def delete_repository(self, domain: str, owner: str | None, name: str) -> Repository:
        """Remove the repository with its packages and policy; ConflictException while another lists it upstream."""
        with self.lock:
            repository = self.repository(domain, owner, name)
            dependants = [other.name for other in repository.domain.repositories.values() if name in other.upstreams]
            if dependants:
                raise Conflict(
                    f"Repository {name} is an upstream of {', '.join(dependants)}: remove it from their upstreams "
                    "or delete them first",
                    resourceId=name,
                    resourceType="repository",
                )
            del repository.domain.repositories[name]
            return repository

    def associate_external_connection(self, domain: str, owner: str | None, name: str, connection: str) -> Repository:
        with self.lock:
            repository = self.repository(domain, owner, name)
            if connection not in EXTERNAL_CONNECTIONS:
                raise _field_error(
                    f"External connection {connection} is not known; known: {', '.join(EXTERNAL_CONNECTIONS)}"
                )
            if repository.external_connection:
                raise Conflict(
                    f"Repository {name} already has the external connection {repository.external_connection}; "
                    "a repository has at most one",
                    resourceId=name,
                    resourceType="repository",
                )
            if repository.upstreams:
                raise _field_error(
                    f"Repository {name} has upstreams ({', '.join(repository.upstreams)}), so it cannot have the "
                    f"external connection {connection}: a repository holds upstreams or an external connection, "
                    "never both (put the connection on a store repository and make that store the upstream)"
                )
            repository.external_connection = connection
            return repository

    def disassociate_external_connection(
        self, domain: str, owner: str | None, name: str, connection: str
    ) -> Repository:
        with self.lock:
            repository = self.repository(domain, owner, name)
            if repository.external_connection != connection:
                raise ResourceNotFound(
                    f"External connection {connection} is not associated with repository {name}",
                    resourceId=connection,
                    resourceType="repository",
                )
            repository.external_connection = None
            return repository

    # -- permissions policies (of a domain or a repository)

    def put_policy(self, holder: Domain | Repository, revision: str | None, document: str) -> ResourcePolicy:
        """Replace the policy; ConflictException when ``revision`` is given and is not the current one."""
        _validate_policy(document)
        with self.lock:
            _check_revision(holder, revision)
            holder.policy = ResourcePolicy(holder.arn, document)
            return holder.policy

    def get_policy(self, holder: Domain | Repository) -> ResourcePolicy:
        with self.lock:
            if holder.policy is None:
                raise _no_policy(holder)
            return holder.policy

    def delete_policy(self, holder: Domain | Repository, revision: str | None) -> ResourcePolicy:
        with self.lock:
            policy = self.get_policy(holder)
            _check_revision(holder, revision)
            holder.policy = None
            return policy

    # -- tags

    def tagged(self, arn: str) -> Domain | Repository:
        """The domain or repository whose ARN is ``arn``; ResourceNotFound otherwise."""
        with self.lock:
            for domain in self.domains.values():
                if domain.arn == arn:
                    return domain
                for repository in domain.repositories.values():
                    if repository.arn == arn:
                        return repository
        kind = "repository" if ":repository/" in arn else "domain"
        raise ResourceNotFound(f"Resource {arn} not found", resourceId=arn, resourceType=kind)

    def tag_resource(self, arn: str, tags: list[dict[str, str]]) -> None:
        with self.lock:
            self.tagged(arn).tags.update(_tags(tags))

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            resource = self.tagged(arn)
            for key in keys:
                resource.tags.pop(key, None)

    # -- authorization tokens

    def get_authorization_token(
        self, domain: str, owner: str | None, duration_seconds: int | None
    ) -> tuple[str, AuthorizationToken]:
        """A new random token for the domain; ``duration_seconds`` 0 or 900..43200 (default and 0: 12 h,
        since the emulator's credentials never expire)."""
        seconds = TOKEN_SECONDS_DEFAULT if not duration_seconds else duration_seconds
        if not TOKEN_SECONDS_MIN <= seconds <= TOKEN_SECONDS_DEFAULT:
            raise _field_error(
                f"durationSeconds {duration_seconds} is invalid: 0 or {TOKEN_SECONDS_MIN} to {TOKEN_SECONDS_DEFAULT}"
            )
        with self.lock:
            parent = self.domain(domain, owner)
            issued = now()
            # expired tokens are kept for a while, so that a refusal can say "expired" rather than "unknown"
            kept = issued - timedelta(seconds=TOKEN_SECONDS_DEFAULT)
            self.tokens = {token: grant for token, grant in self.tokens.items() if grant.expiration > kept}
            token = secrets.token_urlsafe(48)
            self.tokens[token] = AuthorizationToken(parent.name, parent.owner, issued + timedelta(seconds=seconds))
            return token, self.tokens[token]

    def token_refusal(self, domain: Domain, token: str) -> str | None:
        """Why ``token`` does not open ``domain`` (one line), or None when it does."""
        with self.lock:
            grant = self.tokens.get(token)
        if grant is None:
            return "unknown authorization token"
        if (grant.domain, grant.owner) != (domain.name, domain.owner):
            return f"the authorization token was issued for domain {grant.domain}-{grant.owner}, not this one"
        if grant.expiration <= now():
            return f"the authorization token expired at {grant.expiration.isoformat()}"
        return None

    # -- packages (pypi only)

    def search_order(self, repository: Repository) -> list[Repository]:
        """The repository, then its upstreams depth first in their listed order, each repository once."""
        order: list[Repository] = []

        def visit(current: Repository) -> None:
            if current in order:
                return
            order.append(current)
            for upstream in current.upstreams:
                visit(current.domain.repositories[upstream])

        with self.lock:
            visit(repository)
        return order

    def publish(
        self, repository: Repository, name: str, version: str, summary: str | None, stored: StoredFile
    ) -> PackageVersion:
        """Add a file to the package version (created on first upload); ConflictException for a file name that
        the version already has."""
        with self.lock:
            package = repository.packages.setdefault(normalize_project(name), Package(normalize_project(name)))
            package_version = package.versions.setdefault(version, PackageVersion(version, summary))
            if stored.filename in package_version.files:
                raise Conflict(
                    f"{stored.filename} already exists in {package.name} {version} of repository {repository.name}",
                    resourceId=stored.filename,
                    resourceType="asset",
                )
            package_version.files[stored.filename] = stored
            return package_version

    def package(self, repository: Repository, package_format: str, name: str) -> Package:
        found = repository.packages.get(normalize_project(name)) if package_format == PYPI else None
        if found is None:
            raise ResourceNotFound(
                f"Package {name} ({package_format}) not found in repository {repository.name}",
                resourceId=name,
                resourceType="package",
            )
        return found

    def package_version(self, repository: Repository, package_format: str, name: str, version: str) -> PackageVersion:
        found = self.package(repository, package_format, name).versions.get(version)
        if found is None:
            raise ResourceNotFound(
                f"Version {version} of package {name} not found in repository {repository.name}",
                resourceId=version,
                resourceType="package-version",
            )
        return found


def _cycle(domain: Domain, name: str, upstreams: list[str]) -> list[str] | None:
    """The repositories of a cycle ``name -> ... -> name`` that giving ``name`` these upstreams would close."""
    seen: set[str] = set()

    def path_back(start: str) -> list[str] | None:
        if start == name:
            return [start]
        if start in seen:
            return None
        seen.add(start)
        for upstream in domain.repositories[start].upstreams:
            found = path_back(upstream)
            if found:
                return [start, *found]
        return None

    for upstream in upstreams:
        found = path_back(upstream)
        if found:
            return [name, *found]
    return None


def _check_revision(holder: Domain | Repository, revision: str | None) -> None:
    current = holder.policy.revision if holder.policy else None
    if revision is not None and revision != current:
        raise Conflict(
            f"Policy revision {revision} is not the current revision ({current or 'no policy'}) of {holder.arn}",
            resourceId=holder.name,
            resourceType="repository" if isinstance(holder, Repository) else "domain",
        )


def _no_policy(holder: Domain | Repository) -> ResourceNotFound:
    kind = "repository" if isinstance(holder, Repository) else "domain"
    return ResourceNotFound(f"No permissions policy on {kind} {holder.name}", resourceId=holder.name, resourceType=kind)

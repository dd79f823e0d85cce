"""CodeArtifact's PyPI data plane: the repository endpoint twine uploads to and pip installs from.

AWS serves it at ``https://<domain>-<owner>.d.codeartifact.<region>.amazonaws.com/pypi/<repo>/``;
the emulator has one host, so it lives under ``<scheme>://<host>/_codeartifact/<domain>-<owner>/<region>/pypi/<repo>/``
(``DATA_PATH_PREFIX`` is the extension's data path prefix: ``service-backend-dispatch`` sends these
requests here although they carry HTTP Basic auth, not SigV4). The account and region come from the path.

* Auth: HTTP Basic, user ``aws``, password a token from GetAuthorizationToken for that domain and owner,
  unexpired; otherwise 401 with ``WWW-Authenticate: Basic realm="codeartifact"`` and the reason.
* ``POST <endpoint>``: the legacy upload API (``:action=file_upload``, multipart) twine uses. The
  ``sha256_digest`` must match the file (400); the same file name again is 409 (a published file is never replaced).
* ``GET <endpoint>simple/``: the PEP 503 index of the projects the repository sees (its own, then its
  upstreams'); ``simple/<project>/``: links ``<version>/<file>#sha256=...`` (with ``data-requires-python``);
  ``simple/<project>/<version>/<file>``: the file. HEAD is answered like GET (werkzeug drops the body).
* An external connection is never fetched from (the emulator is offline): a project missing everywhere is
  404, with one line in the ``emulator.codeartifact`` log when ``public:pypi`` would have been asked.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from moto.core.common_types import TYPE_RESPONSE
from moto.core.request import Request

from emulator.service_backend import Conflict
from emulator.services.codeartifact.models import CodeArtifactBackend, Domain, Repository
from emulator.services.codeartifact.packages import PYPI, StoredFile, normalize_project

LOGGER = logging.getLogger("emulator.codeartifact")
DATA_PATH_PREFIX = "/_codeartifact/"
REALM = 'Basic realm="codeartifact"'
_PATH = re.compile(
    r"/_codeartifact/(?P<domain>[a-z][a-z0-9-]*)-(?P<owner>[0-9]{12})/(?P<region>[a-z0-9-]+)"
    r"/pypi/(?P<repository>[^/]+)/(?P<rest>.*)"
)
_PROJECT = re.compile(r"simple/(?P<project>[^/]+)/?")
_FILE = re.compile(r"simple/(?P<project>[^/]+)/(?P<version>[^/]+)/(?P<filename>[^/]+)")
_HTML = "text/html; charset=utf-8"


def endpoint_url(base_url: str, domain: str, owner: str, region: str, repository: str) -> str:
    """The repository's PyPI endpoint on the emulator reached at ``base_url`` (``http://127.0.0.1:4566``)."""
    return f"{base_url.rstrip('/')}{DATA_PATH_PREFIX}{domain}-{owner}/{region}/pypi/{repository}/"


def _text(status: int, message: str, **headers: str) -> TYPE_RESPONSE:
    return status, {"Content-Type": "text/plain; charset=utf-8", **headers}, message + "\n"


def _page(title: str, links: list[str]) -> TYPE_RESPONSE:
    body = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html><head><meta name="pypi:repository-version" content="1.0">',
            f"<title>{html.escape(title)}</title></head><body>",
            *(f"{link}<br/>" for link in links),
            "</body></html>",
            "",
        ]
    )
    return 200, {"Content-Type": _HTML}, body


def serve(request: Request, backends: Any) -> TYPE_RESPONSE:
    """Answer a request under ``DATA_PATH_PREFIX``; ``backends`` is the service's ``BackendDict``."""
    match = _PATH.fullmatch(request.path)
    if match is None:
        return _text(
            404,
            f"{request.path} is not a repository endpoint path: /_codeartifact/<domain>-<owner>/<region>/pypi/<repo>/",
        )
    owner, region = match["owner"], match["region"]
    if region not in backends[owner]:
        return _text(404, f"unknown region {region}")
    backend: CodeArtifactBackend = backends[owner][region]
    with backend.lock:
        domain = backend.domains.get(match["domain"])
    if domain is None:
        return _text(404, f"domain {match['domain']} of account {owner} not found in {region}")
    refusal = _refusal(request, backend, domain)
    if refusal is not None:
        return _text(401, refusal, **{"WWW-Authenticate": REALM})
    with backend.lock:
        repository = domain.repositories.get(match["repository"])
    if repository is None:
        return _text(404, f"repository {match['repository']} not found in domain {domain.name}")
    route = _route(request.method, match["rest"])
    if route is None:
        return _text(404, f"no such resource: {match['rest'] or '/'} ({request.method})")
    handler, arguments = route
    return handler(request, backend, repository, **arguments)


def _refusal(request: Request, backend: CodeArtifactBackend, domain: Domain) -> str | None:
    """Why the request's credentials do not open ``domain``, or None."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "authentication required: HTTP Basic, user aws, password a CodeArtifact authorization token"
    try:
        user, _, token = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return "malformed HTTP Basic credentials"
    if user != "aws":
        return f"user {user} is not aws"
    return backend.token_refusal(domain, token)


def _route(method: str, rest: str) -> tuple[Callable[..., TYPE_RESPONSE], dict[str, str]] | None:
    if method == "POST":
        return (_upload, {}) if rest == "" else None
    if method not in ("GET", "HEAD"):
        return None
    if rest == "simple/":
        return _index, {}
    for pattern, handler in ((_PROJECT, _project), (_FILE, _file)):
        found = pattern.fullmatch(rest)
        if found:
            return handler, found.groupdict()
    return None


def _upload(request: Request, backend: CodeArtifactBackend, repository: Repository) -> TYPE_RESPONSE:
    form, content = request.form, request.files.get("content")
    if form.get(":action") != "file_upload":
        return _text(400, f":action {form.get(':action')} is not supported: only file_upload (twine upload)")
    missing = [field for field in ("name", "version") if not form.get(field)] + ([] if content else ["content"])
    if missing:
        return _text(400, f"the upload lacks {', '.join(missing)}")
    assert content is not None
    filename = content.filename or ""
    if not filename or "/" in filename or "\\" in filename:
        return _text(400, f"invalid file name {filename!r}")
    data = content.read()
    digest = hashlib.sha256(data).hexdigest()
    given = form.get("sha256_digest")
    if given and given.lower() != digest:
        return _text(400, f"sha256_digest {given} does not match the uploaded file's sha256 {digest}")
    stored = StoredFile(filename, data, digest, form.get("requires_python") or None)
    try:
        backend.publish(repository, form["name"], form["version"], form.get("summary") or None, stored)
    except Conflict as exc:
        return _text(409, exc.message)
    return _text(200, f"published {filename} to {repository.domain.name}/{repository.name}")


def _index(_request: Request, backend: CodeArtifactBackend, repository: Repository) -> TYPE_RESPONSE:
    with backend.lock:
        names = dict.fromkeys(name for source in backend.search_order(repository) for name in source.packages)
    links = [f'<a href="{quote(name)}/">{html.escape(name)}</a>' for name in names]
    return _page(f"Simple index of {repository.name}", links)


def _project(_request: Request, backend: CodeArtifactBackend, repository: Repository, project: str) -> TYPE_RESPONSE:
    name = normalize_project(project)
    with backend.lock:
        chain = backend.search_order(repository)
        files = {
            stored.filename: (version.version, stored)
            for source in reversed(chain)  # the first repository in search order wins a file name
            if name in source.packages
            for version in source.packages[name].versions.values()
            for stored in version.files.values()
        }
    if not files:
        return _not_found(chain, repository, name)
    links = []
    for filename, (version, stored) in sorted(files.items()):
        requires = f' data-requires-python="{html.escape(stored.requires_python)}"' if stored.requires_python else ""
        href = f"{quote(version)}/{quote(filename)}#sha256={stored.sha256}"
        links.append(f'<a href="{href}"{requires}>{html.escape(filename)}</a>')
    return _page(f"Links for {name}", links)


def _file(
    _request: Request, backend: CodeArtifactBackend, repository: Repository, project: str, version: str, filename: str
) -> TYPE_RESPONSE:
    name = normalize_project(project)
    with backend.lock:
        chain = backend.search_order(repository)
        found = next(
            (
                source.packages[name].versions[version].files[filename]
                for source in chain
                if name in source.packages
                and version in source.packages[name].versions
                and filename in source.packages[name].versions[version].files
            ),
            None,
        )
    if found is None:
        return _text(404, f"{filename} of {name} {version} not found in repository {repository.name} or its upstreams")
    return 200, {"Content-Type": "application/octet-stream"}, found.content


def _not_found(chain: list[Repository], repository: Repository, name: str) -> TYPE_RESPONSE:
    connected = [source.name for source in chain if source.external_connection == f"public:{PYPI}"]
    if connected:
        LOGGER.info(
            "%s not found in %s/%s or its upstreams; the public:pypi external connection of %s is not fetched "
            "(the emulator is offline)",
            name,
            repository.domain.name,
            repository.name,
            ", ".join(connected),
        )
    return _text(404, f"project {name} not found in repository {repository.name} or its upstreams")

"""Whole AWS services that moto lacks, served by the emulator as if moto had them.

A service backend is the usual moto pair, a ``BaseBackend`` subclass holding the state
(one instance per account and region, in a ``BackendDict``) and a ``BaseResponse``
subclass with one method per operation, plus a ``ServiceBackendExtension`` that
registers them while installed. moto 5.2.5's server dispatches on two module-level
hooks, both read at request time:

* ``moto/backend_index.py`` ``backend_url_patterns``: ``(key, host regex)`` pairs.
  ``moto/moto_server/werkzeug_app.py`` ``DomainDispatcherApplication.get_application``
  infers the host ``<signing name>.<region>.amazonaws.com`` from the SigV4 credential
  scope (``infer_service_region_host``) and ``get_backend_for_host`` returns the first
  key whose regex matches. Every dispatcher keeps a reference to this list, so it is
  changed in place (appended to, then removed from);
* ``moto/backends.py`` ``get_backend(key)``: ``create_backend_app(key)`` builds, and
  caches per dispatcher in ``app_instances``, a Flask app from
  ``get_backend(key)[...]``'s ``flask_paths``. The built-in ``service-backend-dispatch``
  extension (``emulator/patches/service_backend_dispatch.py``) wraps it to consult
  ``registered(key)`` here first.

A service may also have a data plane that AWS serves on its own hosts without SigV4 (a
package repository's endpoint, called by pip with HTTP Basic auth). Here it lives under a
path prefix of the emulator's one host, ``ServiceBackendExtension.data_path_prefixes``
(e.g. ``/_codeartifact/``): the dispatcher cannot infer a service from such a request
(no credential scope) and would send it to S3, so ``service-backend-dispatch`` also wraps
``infer_service_region_host`` to answer ``data_path_host(path)`` first, and
``ServiceResponse`` hands those paths to ``serve_data_path`` instead of the model's router.

Each installation registers under a fresh dispatch key (``codeartifact#1``), whose
"backend" is just the routes to the response class (the non-``BackendDict`` branch of
``create_backend_app``), so a dispatcher that outlives an uninstall never serves from a
Flask app built for an older installation. ``get_backend(<service>)`` returns the
service's ``BackendDict``, as for moto's own services.

Requests are parsed and responses serialized by moto from botocore's model of the
service (``automated_parameter_parsing``, ``ActionResult``), so a response method
returns ``ActionResult({...})`` with the output shape's members and raises a
``ServiceException`` whose ``code`` is an error shape of the model, which sets the HTTP
status (``ResourceNotFound``/``Conflict``/``ValidationError`` below). Server mode only: ``mock_aws`` does
not know these services.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from moto.core.base_backend import BackendDict, BaseBackend, backend_lock
from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import ServiceException
from moto.core.request import Request
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores

from emulator.errors import ExtensionInstallError
from emulator.moto_version import SUPPORTED_MOTO_VERSION

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

DISPATCH_EXTENSION = "service-backend-dispatch"
NOT_IMPLEMENTED_STATUS = 501  # botocore does not retry it: an unimplemented operation fails at once
# One path segment starting with "_": no S3 bucket name starts with "_", so a data path never shadows
# a path-style bucket (S3 is the dispatcher's fallback for requests it cannot place).
DATA_PATH_PREFIX_PATTERN = re.compile(r"/_[A-Za-z0-9][A-Za-z0-9._-]*/")


class ServiceError(ServiceException):
    """An AWS error of an emulator service: ``code`` names an error shape of the service model.

    ``members`` are further fields of that shape, e.g. ``resourceId="d", resourceType="domain"``.
    """

    def __init__(self, message: str, **members: Any) -> None:
        super().__init__(message)
        for member, value in members.items():
            setattr(self, member, value)


class ResourceNotFound(ServiceError):
    """``ResourceNotFoundException`` (HTTP status from the service model, e.g. 404).

    ``ResourceNotFound("Domain d not found", resourceId="d", resourceType="domain")``
    """

    code = "ResourceNotFoundException"


class Conflict(ServiceError):
    """``ConflictException`` (HTTP status from the service model, e.g. 409); ``members`` as above."""

    code = "ConflictException"


class ValidationError(ServiceError):
    """``ValidationException`` (HTTP status from the service model, e.g. 400); ``members`` as above,
    e.g. ``reason="FIELD_VALIDATION_FAILED"`` where the shape has one."""

    code = "ValidationException"


class ServiceResponse(BaseResponse):
    """Base response class of an emulator service: set ``service`` (botocore's name).

    Write one method per operation, named in snake case (``list_domains``), that reads
    parameters with ``self._get_param("domain")`` and returns ``ActionResult({...})``.
    ``self.backend`` is the backend of the caller's account and region. An operation
    without a method answers HTTP 501 ``NotImplementedException`` naming it.

    A request whose path starts with one of the extension's ``data_path_prefixes`` goes to
    ``serve_data_path`` instead (no model, no SigV4: the method parses the request itself).
    """

    service: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(service_name=self.service)
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> Any:
        """This request's backend: ``moto.backends.get_backend(service)[account][region]``."""
        import moto.backends

        return moto.backends.get_backend(self.service)[self.current_account][self.region]  # type: ignore[call-overload]

    def _dispatch(self, request: Request, full_url: str | None = None, headers: Any = None) -> TYPE_RESPONSE:
        """moto's dispatch, or ``serve_data_path`` for a path under this service's data path prefixes.

        Data paths skip ``setup_class``, which reads the body as the model's parameters (and would
        consume a multipart upload's file stream).
        """
        if data_path_service(request.path) == self.service:
            return self.serve_data_path(request)
        return super()._dispatch(request, full_url, headers)

    def serve_data_path(self, request: Request) -> TYPE_RESPONSE:
        """Answer a data-plane request: ``(status, headers, body)``. Override it with ``data_path_prefixes``."""
        return 404, {"Content-Type": "text/plain"}, f"the emulator's {self.service} serves no data path {request.path}"

    def call_action(self) -> Any:
        """moto's dispatch, after refusing operations this class does not implement."""
        action = self._get_action()
        if action and not callable(getattr(type(self), camelcase_to_underscores(action), None)):
            message = f"the emulator's {self.service} backend does not implement {action}"
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "NotImplementedException"}
            return NOT_IMPLEMENTED_STATUS, headers, json.dumps({"message": message})
        return super().call_action()


@dataclass(frozen=True)
class _Routes:
    """What ``create_backend_app`` reads from a backend: Flask paths to the response class."""

    flask_paths: Mapping[str, Callable[..., Any]]


_lock = threading.Lock()
_keys = itertools.count(1)
_services: dict[str, BackendDict[Any]] = {}
_routes: dict[str, dict[str, _Routes]] = {}
_data_paths: dict[str, tuple[str, str]] = {}  # prefix -> (service, the host the dispatcher should infer)


def registered(key: str) -> Any:
    """What ``moto.backends.get_backend(key)`` should return for an emulator service, else None.

    A service name gives its ``BackendDict``; a dispatch key gives ``{"global": routes}``.
    """
    with _lock:  # not `or`: a BackendDict is empty (falsy) until used and after /moto-api/reset
        return _services[key] if key in _services else _routes.get(key)


def _data_path(path: str) -> tuple[str, str] | None:
    """(service, signing host) of the registered data path prefix ``path`` is under, else None."""
    with _lock:
        return next((entry for prefix, entry in _data_paths.items() if path.startswith(prefix)), None)


def data_path_host(path: str) -> str | None:
    """The host moto's dispatcher should infer for ``path`` when it is under a registered data path prefix
    (the service's signing host, which its URL patterns match), else None."""
    entry = _data_path(path)
    return entry[1] if entry else None


def data_path_service(path: str) -> str | None:
    """The service whose data path prefix ``path`` is under, else None."""
    entry = _data_path(path)
    return entry[0] if entry else None


def signing_host(service: str, region: str = "us-east-1") -> str:
    """The host moto's dispatcher infers for ``service`` (its SigV4 signing name), e.g.
    ``codeartifact.us-east-1.amazonaws.com``; raises ``botocore`` ``UnknownServiceError``."""
    from moto.core.utils import get_service_model

    metadata = get_service_model(service).metadata
    return f"{metadata.get('signingName') or metadata['endpointPrefix']}.{region}.amazonaws.com"


def default_url_pattern(service: str) -> str:
    """Host regex for ``service`` in moto's own form, e.g. ``https?://codeartifact\\.(.+)\\.amazonaws\\.com``."""
    prefix = signing_host(service).split(".", 1)[0]
    return rf"https?://{re.escape(prefix)}\.(.+)\.amazonaws\.com"


class ServiceBackendExtension:
    """An extension that serves a whole service moto lacks.

    Subclasses set ``name``, ``service`` (botocore's name, as in ``boto3.client(service)``),
    ``backend_class`` (a ``BaseBackend`` subclass) and ``response_class`` (a
    ``ServiceResponse`` subclass with the same ``service``); ``url_patterns`` defaults to
    ``default_url_pattern(service)``. ``requires`` defaults to ``service-backend-dispatch``,
    the built-in that routes ``moto.backends.get_backend`` here.

    ``data_path_prefixes`` (default none): path prefixes such as ``/_codeartifact/`` (one
    segment starting with ``_``) whose requests reach ``response_class.serve_data_path``
    whatever their ``Authorization``, for a data plane AWS serves on hosts of its own.

    Install fails (``ExtensionInstallError``) when botocore has no model for the service, a
    moto (or other) backend already serves its hosts, or a data path prefix is malformed or
    taken. Uninstall removes the patterns and
    the registrations and drops the state.
    """

    name: str = ""
    service: str = ""
    backend_class: type[BaseBackend]
    response_class: type[ServiceResponse]
    url_patterns: tuple[str, ...] = ()
    data_path_prefixes: tuple[str, ...] = ()
    requires: tuple[str, ...] = (DISPATCH_EXTENSION,)

    def __init__(self) -> None:
        self._backends: BackendDict[Any] | None = None
        self._key: str | None = None
        self._patterns: list[tuple[str, re.Pattern[str]]] = []

    @property
    def installed(self) -> bool:
        """True between ``install`` and ``uninstall``."""
        return self._backends is not None

    @property
    def backends(self) -> BackendDict[Any]:
        """The service's state, ``backends[account_id][region]``, while installed."""
        if self._backends is None:
            raise RuntimeError(f"{self.name} is not installed")
        return self._backends

    def _check(self) -> list[str]:
        """The URL patterns to register, once the service is known to botocore and to nobody here."""
        from botocore.exceptions import UnknownServiceError
        from moto.backends import get_service_from_url

        if self.response_class.service != self.service:
            raise ExtensionInstallError(
                f"{self.name}: response_class serves {self.response_class.service!r}, not {self.service!r}"
            )
        try:
            host = f"http://{signing_host(self.service)}"
        except UnknownServiceError as exc:
            raise ExtensionInstallError(f"{self.name}: botocore has no service model for {self.service!r}") from exc
        served_by = get_service_from_url(host)
        if served_by is not None or self.service in _services:
            raise ExtensionInstallError(
                f"{self.name}: {self.service} is already served (by {served_by or self.service!r}); this extension "
                f"adds it and was written for moto {SUPPORTED_MOTO_VERSION}, which lacks it: retire or rewrite it"
            )
        patterns = list(self.url_patterns) or [default_url_pattern(self.service)]
        if not any(re.match(pattern, host) for pattern in patterns):
            raise ExtensionInstallError(f"{self.name}: no url_patterns entry matches {host}, which moto dispatches on")
        for prefix in self.data_path_prefixes:
            if not DATA_PATH_PREFIX_PATTERN.fullmatch(prefix):
                raise ExtensionInstallError(
                    f"{self.name}: data path prefix {prefix!r} is not one path segment starting with '_' (e.g. "
                    "'/_codeartifact/'), which no S3 bucket name can shadow"
                )
            with _lock:
                taken_by = _data_paths.get(prefix, ("",))[0]
            if taken_by:
                raise ExtensionInstallError(f"{self.name}: data path prefix {prefix!r} is taken by {taken_by}")
        return patterns

    def install(self, server: EmulatorServer) -> None:
        """Register the backend, its routes and its URL patterns; a second call does nothing."""
        from moto.backend_index import backend_url_patterns

        if self._backends is not None:
            return
        patterns = self._check()
        backends: BackendDict[Any] = BackendDict(self.backend_class, self.service)
        dispatch = self.response_class.dispatch
        with _lock:
            self._key = f"{self.service}#{next(_keys)}"
            _services[self.service] = backends
            _routes[self._key] = {"global": _Routes({"/": dispatch, "/<path:route>": dispatch})}
            self._patterns = [(self._key, re.compile(pattern)) for pattern in patterns]
            backend_url_patterns.extend(self._patterns)  # in place: dispatchers hold this list
            host = signing_host(self.service)
            _data_paths.update((prefix, (self.service, host)) for prefix in self.data_path_prefixes)
        self._backends = backends

    def uninstall(self) -> None:
        """Remove the URL patterns and registrations, drop the state; safe to call twice."""
        from moto.backend_index import backend_url_patterns

        backends, self._backends = self._backends, None
        if backends is None:
            return
        with _lock:
            for entry in self._patterns:
                backend_url_patterns.remove(entry)
            self._patterns = []
            _routes.pop(self._key or "", None)
            _services.pop(self.service, None)
            for prefix in self.data_path_prefixes:
                _data_paths.pop(prefix, None)
        with backend_lock:  # moto's /moto-api/reset walks BackendDict._instances
            if backends in BackendDict._instances:
                BackendDict._instances.remove(backends)
        backends.clear()

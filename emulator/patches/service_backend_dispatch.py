"""Route moto's server to the services the emulator adds (``emulator.service_backend``).

moto gap: moto has no backend at all for some services this platform deploys (CodeArtifact:
HTTP 500), and ``moto/backends.py`` ``get_backend(name)`` only imports backends from moto's
own packages (``moto.<name>.models.<name>_backends``). The server's
``moto/moto_server/werkzeug_app.py`` ``create_backend_app`` calls it (as
``moto.backends.get_backend``) to build the Flask app for a dispatched service.

The patch wraps ``get_backend`` to answer first from ``emulator.service_backend.registered``:
a service registered by a ``ServiceBackendExtension`` gets its ``BackendDict``, that
installation's dispatch key gets its routes; every other name goes to moto as before (an
empty registry changes nothing). One shared wrapper, installed first, rather than one per
service: wrappers stacked by several extensions could not be removed in any order.

It also wraps ``moto/moto_server/werkzeug_app.py``
``DomainDispatcherApplication.infer_service_region_host``, which picks the service from the
SigV4 credential scope and falls back to S3 for anything else: a request under a registered
data path prefix (``/_codeartifact/...``, called by pip or twine with HTTP Basic auth or
none) gets that service's signing host (``emulator.service_backend.data_path_host``), so the
service's URL patterns send it to its response class. Other paths go to moto as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension
from emulator.service_backend import DISPATCH_EXTENSION, data_path_host, registered


def _get_backend(original: Callable[[str], Any]) -> Callable[[str], Any]:
    def get_backend(name: str) -> Any:
        found = registered(name) if isinstance(name, str) else None
        return original(name) if found is None else found

    return get_backend


def _infer_service_region_host(original: Callable[..., str | None]) -> Callable[..., str | None]:
    def infer_service_region_host(self: Any, environ: dict[str, Any], path: str) -> str | None:
        host = data_path_host(path)
        return original(self, environ, path) if host is None else host

    return infer_service_region_host


class ServiceBackendDispatch(PatchExtension):
    """Let moto's server find the emulator's own service backends, and their data paths."""

    name = DISPATCH_EXTENSION

    def patches(self) -> Sequence[Patch]:
        import moto.backends
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        return (
            Patch.wrap(moto.backends, "get_backend", _get_backend),
            Patch.wrap(DomainDispatcherApplication, "infer_service_region_host", _infer_service_region_host),
        )

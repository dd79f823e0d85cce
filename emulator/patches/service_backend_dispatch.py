"""Route moto's backend lookup to the services the emulator adds (``emulator.service_backend``).

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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension
from emulator.service_backend import DISPATCH_EXTENSION, registered


def _get_backend(original: Callable[[str], Any]) -> Callable[[str], Any]:
    def get_backend(name: str) -> Any:
        found = registered(name) if isinstance(name, str) else None
        return original(name) if found is None else found

    return get_backend


class ServiceBackendDispatch(PatchExtension):
    """Let ``moto.backends.get_backend`` find the emulator's own service backends."""

    name = DISPATCH_EXTENSION

    def patches(self) -> Sequence[Patch]:
        import moto.backends

        return (Patch.wrap(moto.backends, "get_backend", _get_backend),)

"""Local AWS emulator: moto's server on 127.0.0.1 plus patches for its gaps.

Use ``python -m emulator start|stop|status`` from the repo root, or in Python::

    from emulator import EmulatorServer

    with EmulatorServer(port=0) as server:  # 0 = any free port
        boto3.client("s3", endpoint_url=server.url, ...)

See ``emulator/README.md`` for the patches and how to add an extension or a whole
service moto lacks (``ServiceBackendExtension``).
"""

from emulator.errors import (
    EmulatorStartError,
    ExtensionError,
    ExtensionInstallError,
    ExtensionOrderError,
    MotoVersionError,
)
from emulator.extension import Extension, Patch, PatchExtension
from emulator.health import is_healthy
from emulator.server import EmulatorServer
from emulator.service_backend import ServiceBackendExtension, ServiceResponse

__all__ = [
    "EmulatorServer",
    "EmulatorStartError",
    "Extension",
    "ExtensionError",
    "ExtensionInstallError",
    "ExtensionOrderError",
    "MotoVersionError",
    "Patch",
    "PatchExtension",
    "ServiceBackendExtension",
    "ServiceResponse",
    "is_healthy",
]

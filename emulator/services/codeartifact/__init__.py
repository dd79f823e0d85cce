"""CodeArtifact, which moto 5.2.5 lacks (HTTP 500): the control plane the platform's stack uses and a
PyPI data plane twine and pip use (``emulator/README.md``, "CodeArtifact").

``models.py`` holds the state (``CodeArtifactBackend``, one per account and region), ``packages.py``
what was published, ``responses.py`` the operations, ``pypi.py`` the repository endpoints under
``/_codeartifact/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.log_output import LogOutput
from emulator.service_backend import ServiceBackendExtension
from emulator.services.codeartifact.models import CodeArtifactBackend
from emulator.services.codeartifact.pypi import DATA_PATH_PREFIX, LOGGER
from emulator.services.codeartifact.responses import CodeArtifactResponse

if TYPE_CHECKING:
    from emulator.server import EmulatorServer


class CodeArtifactService(ServiceBackendExtension):
    """CodeArtifact domains, repositories, policies, tokens and PyPI repository endpoints."""

    name = "codeartifact-backend"
    service = "codeartifact"
    backend_class = CodeArtifactBackend
    response_class = CodeArtifactResponse
    data_path_prefixes = (DATA_PATH_PREFIX,)

    def __init__(self) -> None:
        super().__init__()
        self._log_output = LogOutput(LOGGER, "codeartifact")

    def install(self, server: EmulatorServer) -> None:
        """Register the service; its log lines (a package public:pypi would have had) reach the emulator's log."""
        if self.installed:
            return
        super().install(server)
        self._log_output.attach()

    def uninstall(self) -> None:
        self._log_output.detach()
        super().uninstall()


__all__ = ["CodeArtifactBackend", "CodeArtifactResponse", "CodeArtifactService"]

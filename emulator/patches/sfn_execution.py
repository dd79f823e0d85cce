"""Step Functions executions really run their state machines.

moto gap: by default ``StartExecution`` only records an execution. With
``moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]``
on, ``moto/stepfunctions/responses.py`` ``get_backend`` switches to the ASL
interpreter backend (``moto/stepfunctions/parser``), which calls Lambda and
other services back through ``http://localhost:$MOTO_PORT``
(``moto/stepfunctions/parser/asl/utils/boto_client.py``);
``EmulatorServer.start`` sets ``MOTO_PORT``.

This is the in-process equivalent of ``POST /moto-api/config``
``{"stepfunctions": {"execute_state_machine": true}}``. Keep it on for the
server's whole life: state machines live in whichever backend was active
when they were created. The interpreter names no execution by itself:
``sfn_unnamed_execution`` gives unnamed ones a UUID, as AWS does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.extension import PatchExtension, missing_target

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

CONFIG_TARGET = 'moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]'


class StepFunctionsExecution(PatchExtension):
    """Turn on moto's Step Functions interpreter."""

    name = "sfn-execution"

    def __init__(self) -> None:
        super().__init__()
        self._previous: dict[str, Any] | None = None

    def on_install(self, server: EmulatorServer) -> None:
        from moto.core.config import default_user_config

        if "execute_state_machine" not in default_user_config.get("stepfunctions", {}):
            raise missing_target(self.name, CONFIG_TARGET)
        self._previous = dict(default_user_config.get("stepfunctions", {}))
        enabled: Any = {**self._previous, "execute_state_machine": True}
        default_user_config["stepfunctions"] = enabled

    def on_uninstall(self) -> None:
        from moto.core.config import default_user_config

        if self._previous is not None:
            previous: Any = self._previous
            default_user_config["stepfunctions"] = previous
            self._previous = None

"""Step Functions: an execution started without a name gets a UUID, as on AWS.

moto gap: ``moto/stepfunctions/parser/models.py`` ``StepFunctionsParserBackend.start_execution``
(the interpreter backend that ``sfn-execution`` switches on) builds the execution ARN from
``name`` as given, so StartExecution without ``name`` (the AWS default, e.g.
``aws stepfunctions start-execution --state-machine-arn ... --input ...``) creates
``...:execution:<machine>:None``, and a second start of that machine fails with
``ExecutionAlreadyExists`` (or, with the same input while the first runs, returns the first).
EventBridge targets (``moto/events/notifications.py`` ``_start_sfn_execution``) pass
``name=""`` and meet the same. moto's plain backend (``moto/stepfunctions/models.py``
``StepFunctionBackend.start_execution``) already uses ``name or str(mock_random.uuid4())``.

The patch wraps the interpreter backend's ``start_execution`` to do the same: a missing or
empty name becomes a random UUID (``moto.moto_api._internal.mock_random``, which
``/moto-api/seed`` makes reproducible), so every unnamed start is a new execution. Named
starts are untouched, idempotency included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension


def _with_default_name(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution(self: Any, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        from moto.moto_api._internal import mock_random

        return original(self, state_machine_arn, name or str(mock_random.uuid4()), *args, **kwargs)

    return start_execution


class StepFunctionsUnnamedExecution(PatchExtension):
    """Name unnamed executions with a UUID in the interpreter backend."""

    name = "sfn-unnamed-execution"
    # Patches the interpreter backend, which serves StartExecution only once sfn-execution switches it on.
    requires = ("sfn-execution",)

    def patches(self) -> Sequence[Patch]:
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        return (Patch.wrap(StepFunctionsParserBackend, "start_execution", _with_default_name),)

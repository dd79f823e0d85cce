"""Step Functions: the two read APIs Terraform calls that moto lacks.

moto gap: ``moto/stepfunctions/responses.py`` ``StepFunctionResponse`` has no
``validate_state_machine_definition`` or ``list_state_machine_versions``, so
moto answers HTTP 500 (``NotImplementedError`` in
``moto/core/responses.py`` ``BaseResponse.call_action``). The aws provider
5.100 retries those for ~9 minutes on every ``aws_sfn_state_machine``.

The patch adds both actions to ``StepFunctionResponse``:

* ``ValidateStateMachineDefinition`` checks what is unambiguous (valid JSON,
  ``StartAt`` naming a state in a non-empty ``States`` object, a known
  ``Type`` per state, ``Next`` naming a sibling state, recursively through
  ``Parallel`` branches and ``Map`` processors) and answers ``OK`` with no
  diagnostics or ``FAIL`` with ``ERROR`` diagnostics.
* ``ListStateMachineVersions`` lists the versions moto keeps for published
  state machines (newest first), which is an empty list unless ``publish``
  was used.

Each action is an ``add_if_absent`` patch: a moto that defines it keeps its own
(the skip is logged and listed in ``skipped``), so upgrading moto retires the
patch by itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension

STATE_TYPES = frozenset({"Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"})


def _diagnostic(code: str, message: str, location: str | None = None) -> dict[str, str]:
    item = {"severity": "ERROR", "code": code, "message": message}
    if location is not None:
        item["location"] = location
    return item


def _check_machine(machine: Any, path: str) -> list[dict[str, str]]:
    """Diagnostics for one ``{StartAt, States}`` object found at ``path``."""
    if not isinstance(machine, dict):
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", "Expected a JSON object", path or "/")]
    states = machine.get("States")
    start_at = machine.get("StartAt")
    if not isinstance(states, dict) or not states:
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", "States must be a non-empty object", f"{path}/States")]
    problems: list[dict[str, str]] = []
    if not isinstance(start_at, str) or start_at not in states:
        problems.append(
            _diagnostic("SCHEMA_VALIDATION_FAILED", f"StartAt {start_at!r} is not a state", f"{path}/StartAt")
        )
    for name, state in states.items():
        where = f"{path}/States/{name}"
        if not isinstance(state, dict) or state.get("Type") not in STATE_TYPES:
            problems.append(_diagnostic("SCHEMA_VALIDATION_FAILED", "Missing or unknown Type", f"{where}/Type"))
            continue
        if "Next" in state and state["Next"] not in states:
            problems.append(
                _diagnostic("SCHEMA_VALIDATION_FAILED", f"Next {state['Next']!r} is not a state", f"{where}/Next")
            )
        for index, branch in enumerate(state.get("Branches", []) if state["Type"] == "Parallel" else []):
            problems.extend(_check_machine(branch, f"{where}/Branches/{index}"))
        for key in ("ItemProcessor", "Iterator"):
            if state["Type"] == "Map" and key in state:
                problems.extend(_check_machine(state[key], f"{where}/{key}"))
    return problems


def validate_definition(definition: str) -> list[dict[str, str]]:
    """Diagnostics for an Amazon States Language document (empty when valid)."""
    try:
        document = json.loads(definition)
    except (TypeError, ValueError) as exc:
        return [_diagnostic("INVALID_JSON_DESCRIPTION", f"Definition is not valid JSON: {exc}")]
    return _check_machine(document, "")


def validate_state_machine_definition(self: Any) -> Any:
    """``StepFunctionResponse`` action: ValidateStateMachineDefinition."""
    from moto.core.responses import ActionResult

    diagnostics = validate_definition(self._get_param("definition"))
    max_results = self._get_int_param("maxResults") or 100
    return ActionResult(
        {
            "result": "FAIL" if diagnostics else "OK",
            "diagnostics": diagnostics[:max_results],
            "truncated": len(diagnostics) > max_results,
        }
    )


def list_state_machine_versions(self: Any) -> Any:
    """``StepFunctionResponse`` action: ListStateMachineVersions."""
    from moto.core.responses import ActionResult

    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(getattr(machine, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    return ActionResult(
        {"stateMachineVersions": [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]}
    )


class StepFunctionsDefinitionApi(PatchExtension):
    """Add ValidateStateMachineDefinition and ListStateMachineVersions."""

    name = "sfn-definition-api"

    def patches(self) -> Sequence[Patch]:
        from moto.stepfunctions.responses import StepFunctionResponse

        # add_if_absent: a newer moto that implements an action keeps its own (logged, skipped).
        return (
            Patch.add_if_absent(
                StepFunctionResponse, "validate_state_machine_definition", validate_state_machine_definition
            ),
            Patch.add_if_absent(StepFunctionResponse, "list_state_machine_versions", list_state_machine_versions),
        )

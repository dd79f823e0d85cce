"""A pipeline definition (AWS format 2020-12-01), read into parameters and steps.

``PipelineDefinition.parse(text)`` reads ``Parameters`` (``Name``, ``Type``, ``DefaultValue``) and
``Steps`` (``Name``, ``Type``, ``Arguments``, ``DependsOn``, ``DisplayName``, ``Description``,
``PropertyFiles``), including the steps nested in a Condition step's ``IfSteps``/``ElseSteps``,
which run only when that branch is taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.sagemaker_pipelines.expressions import referenced_steps

BRANCH_KEYS = ("IfSteps", "ElseSteps")


class DefinitionError(Exception):
    """The definition (or the parameters given at start) cannot be run; the message says why."""


@dataclass(frozen=True)
class PropertyFile:
    """``{"PropertyFileName", "OutputName", "FilePath"}``: a JSON file among a step's outputs."""

    name: str
    output_name: str
    file_path: str


@dataclass(frozen=True)
class Parameter:
    """A declared parameter; ``has_default`` is False when the definition gives none."""

    name: str
    type: str
    default: Any = None
    has_default: bool = False

    def convert(self, text: str) -> Any:
        """A value given at start (always text) as the parameter's type."""
        try:
            if self.type == "Integer":
                return int(text)
            if self.type == "Float":
                return float(text)
        except ValueError as exc:
            raise DefinitionError(f"parameter {self.name} is {self.type}, not {text!r}") from exc
        if self.type == "Boolean":
            return text.strip().lower() == "true"
        return text


@dataclass(frozen=True)
class StepDefinition:
    """One step; ``branch_of`` is the Condition step whose branch holds it (None: top level)."""

    name: str
    type: str
    arguments: Mapping[str, Any]
    display_name: str | None = None
    description: str | None = None
    depends_on: tuple[str, ...] = ()
    property_files: tuple[PropertyFile, ...] = ()
    branches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    branch_of: str | None = None

    @property
    def dependencies(self) -> set[str]:
        """Steps that must succeed first: ``DependsOn`` and every step its arguments read."""
        own = {key: value for key, value in self.arguments.items() if key not in BRANCH_KEYS}
        return set(self.depends_on) | referenced_steps(own)


@dataclass(frozen=True)
class PipelineDefinition:
    """Parameters and steps (top-level steps first, in definition order, then nested ones)."""

    parameters: tuple[Parameter, ...]
    steps: Mapping[str, StepDefinition]

    @property
    def top_level(self) -> list[StepDefinition]:
        return [step for step in self.steps.values() if step.branch_of is None]

    @classmethod
    def parse(cls, definition: str | Mapping[str, Any]) -> PipelineDefinition:
        """Read a definition (JSON text, or the dict moto keeps for an S3 location)."""
        try:
            document = json.loads(definition) if isinstance(definition, str) else dict(definition)
        except ValueError as exc:
            raise DefinitionError(f"the pipeline definition is not JSON: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("Steps"), list):
            raise DefinitionError("the pipeline definition has no list of Steps")
        parameters = tuple(_parameter(item) for item in document.get("Parameters") or [])
        steps: dict[str, StepDefinition] = {}
        nested: list[StepDefinition] = []
        for raw in document["Steps"]:
            _collect(raw, None, steps, nested)
        for step in nested:
            steps[step.name] = step
        return cls(parameters, steps)

    def parameter_values(self, given: Iterable[Mapping[str, Any]] | None) -> dict[str, Any]:
        """Each parameter's value: given at start (converted to its type), else its default."""
        declared = {parameter.name: parameter for parameter in self.parameters}
        values = {parameter.name: parameter.default for parameter in self.parameters if parameter.has_default}
        for item in given or []:
            name = str(item.get("Name"))
            if name not in declared:
                raise DefinitionError(f"parameter {name} is not declared in the pipeline definition")
            values[name] = declared[name].convert(str(item.get("Value", "")))
        return values


def _parameter(item: Any) -> Parameter:
    if not isinstance(item, dict) or not item.get("Name"):
        raise DefinitionError(f"a parameter needs a Name: {item!r}")
    return Parameter(
        str(item["Name"]), str(item.get("Type", "String")), item.get("DefaultValue"), "DefaultValue" in item
    )


def _property_file(step: str, item: Any) -> PropertyFile:
    try:
        return PropertyFile(str(item["PropertyFileName"]), str(item["OutputName"]), str(item["FilePath"]))
    except (KeyError, TypeError) as exc:
        raise DefinitionError(f"step {step}: a property file needs PropertyFileName, OutputName and FilePath") from exc


def _collect(raw: Any, branch_of: str | None, steps: dict[str, StepDefinition], nested: list[StepDefinition]) -> None:
    """Add ``raw`` (and the steps in its branches, recursively) to ``steps``/``nested``."""
    if not isinstance(raw, dict) or not raw.get("Name") or not raw.get("Type"):
        raise DefinitionError(f"a step needs a Name and a Type: {json.dumps(raw)[:200]}")
    name = str(raw["Name"])
    if name in steps or any(step.name == name for step in nested):
        raise DefinitionError(f"two steps are named {name}")
    arguments = raw.get("Arguments") or {}
    if not isinstance(arguments, dict):
        raise DefinitionError(f"step {name}: Arguments must be an object")
    branches: dict[str, tuple[str, ...]] = {}
    if raw["Type"] == "Condition":
        for key in BRANCH_KEYS:
            children = arguments.get(key) or []
            branches[key] = tuple(str(child.get("Name")) for child in children if isinstance(child, dict))
    step = StepDefinition(
        name=name,
        type=str(raw["Type"]),
        arguments=arguments,
        display_name=raw.get("DisplayName"),
        description=raw.get("Description"),
        depends_on=tuple(str(item) for item in raw.get("DependsOn") or []),
        property_files=tuple(_property_file(name, item) for item in raw.get("PropertyFiles") or []),
        branches=branches,
        branch_of=branch_of,
    )
    if branch_of is None:
        steps[name] = step
    else:
        nested.append(step)
    for key in BRANCH_KEYS if branches else ():
        for child in arguments.get(key) or []:
            _collect(child, name, steps, nested)


__all__ = ["DefinitionError", "Parameter", "PipelineDefinition", "PropertyFile", "StepDefinition"]

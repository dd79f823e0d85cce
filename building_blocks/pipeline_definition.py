"""SageMaker pipeline definitions in typed Python (the "2020-12-01" JSON format), without the SDK.

A definition is parameters plus steps whose arguments are the SageMaker API requests they make
(CreateProcessingJob, CreateTrainingJob), with pipeline expressions where values are only known when
an execution runs:

    Get("Parameters.ModelName")                      an execution parameter (Parameter.ref)
    EXECUTION_ID, EXECUTION_ARN                      execution variables
    step.output_uri("train")                         a property of an earlier step (its Describe*Job shape)
    Join("/", ("s3://bucket/runs", EXECUTION_ID))    Std:Join
    JsonGet(step.property_file("Report"), "a.b")     Std:JsonGet: a value read from a step's output file

Steps depend on each other through these references, as SageMaker infers them; `PipelineDefinition`
checks at synth that every `Get` points at a declared parameter, execution variable, step or property
file, so a typo fails `cdktf synth` instead of the first scheduled run.

Why not the SageMaker Python SDK: building a ProcessingStep with it calls AWS (it resolves the default
bucket and uploads code at definition time), and importing it costs seconds on every synth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFINITION_VERSION = "2020-12-01"
_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
EXECUTION_VARIABLES = frozenset(
    {"PipelineExecutionId", "PipelineExecutionArn", "PipelineName", "PipelineArn", "StartDateTime", "CurrentDateTime"}
)
_BRANCHES = ("IfSteps", "ElseSteps")
CONDITION_TYPES = frozenset(
    {"GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo", "Equals", "NotEquals"}
)


class DefinitionError(ValueError):
    """A pipeline definition that SageMaker would refuse or that could never run."""


# -- expressions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Get:
    """`{"Get": path}`: a parameter, execution variable or step property, resolved per execution."""

    path: str

    def render(self) -> dict[str, Any]:
        return {"Get": self.path}


EXECUTION_ID = Get("Execution.PipelineExecutionId")
EXECUTION_ARN = Get("Execution.PipelineExecutionArn")


@dataclass(frozen=True)
class PropertyFileRef:
    """A property file of one step, as `Std:JsonGet` reads it."""

    step: str
    name: str

    def render(self) -> dict[str, Any]:
        return {"Get": f"Steps.{self.step}.PropertyFiles.{self.name}"}


@dataclass(frozen=True)
class JsonGet:
    """`Std:JsonGet`: the value at `path` (dots and [index]) in a step's property file."""

    property_file: PropertyFileRef
    path: str

    def render(self) -> dict[str, Any]:
        return {"Std:JsonGet": {"PropertyFile": self.property_file.render(), "Path": self.path}}


@dataclass(frozen=True)
class Join:
    """`Std:Join`: the values as strings, joined with `on`."""

    on: str
    values: tuple[Value, ...]

    def render(self) -> dict[str, Any]:
        return {"Std:Join": {"On": self.on, "Values": [render(value) for value in self.values]}}


Expression = Get | Join | JsonGet | PropertyFileRef
Value = str | int | float | bool | Expression


def render(value: Any) -> Any:
    """`value` as definition JSON: expressions rendered, mappings and sequences walked."""
    if isinstance(value, (Get, Join, JsonGet, PropertyFileRef, Step)):
        return value.render()
    if isinstance(value, Mapping):
        return {key: render(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(item) for item in value]
    return value


def references(value: Any) -> Iterator[str]:
    """Every `Get` path inside a rendered definition fragment."""
    if isinstance(value, Mapping):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            yield value["Get"]
            return
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter; executions may override `default`. Type follows the default's type."""

    name: str
    default: str | int | float | bool
    description: str = ""

    @property
    def type(self) -> str:
        if isinstance(self.default, bool):
            return "Boolean"
        if isinstance(self.default, int):
            return "Integer"
        return "Float" if isinstance(self.default, float) else "String"

    @property
    def ref(self) -> Get:
        return Get(f"Parameters.{self.name}")

    def render(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {"Name": self.name, "Type": self.type, "DefaultValue": self.default}
        if self.description:
            rendered["Description"] = self.description
        return rendered


# -- steps ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyFile:
    """A JSON file a processing step writes under one of its outputs, for `JsonGet`."""

    name: str
    output_name: str
    file_path: str

    def render(self) -> dict[str, Any]:
        return {"PropertyFileName": self.name, "OutputName": self.output_name, "FilePath": self.file_path}


@dataclass(frozen=True)
class Step:
    """One pipeline step: `arguments` is the API request it makes (or the Condition/Fail arguments)."""

    name: str
    type: str
    arguments: Mapping[str, Any]
    description: str = ""
    property_files: tuple[PropertyFile, ...] = ()
    depends_on: tuple[str, ...] = ()

    def property(self, path: str) -> Get:
        """A property of this step once it has run, e.g. `ModelArtifacts.S3ModelArtifacts`."""
        return Get(f"Steps.{self.name}.{path}")

    def output_uri(self, output_name: str) -> Get:
        """Where a processing output was uploaded."""
        return self.property(f"ProcessingOutputConfig.Outputs['{output_name}'].S3Output.S3Uri")

    def property_file(self, name: str) -> PropertyFileRef:
        if name not in {declared.name for declared in self.property_files}:
            raise DefinitionError(f"step {self.name} declares no property file {name!r}")
        return PropertyFileRef(self.name, name)

    def render(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {"Name": self.name, "Type": self.type, "Arguments": render(self.arguments)}
        if self.description:
            rendered["Description"] = self.description
        if self.depends_on:
            rendered["DependsOn"] = list(self.depends_on)
        if self.property_files:
            rendered["PropertyFiles"] = [property_file.render() for property_file in self.property_files]
        return rendered


@dataclass(frozen=True)
class S3Input:
    """A processing input: everything under `s3_uri` is downloaded to `local_path` first."""

    name: str
    s3_uri: Value
    local_path: str

    def render(self) -> dict[str, Any]:
        return {
            "InputName": self.name,
            "S3Input": {
                "S3Uri": self.s3_uri,
                "LocalPath": self.local_path,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }


@dataclass(frozen=True)
class S3Output:
    """A processing output: everything under `local_path` is uploaded to `s3_uri` at the end."""

    name: str
    local_path: str
    s3_uri: Value

    def render(self) -> dict[str, Any]:
        return {
            "OutputName": self.name,
            "S3Output": {"S3Uri": self.s3_uri, "LocalPath": self.local_path, "S3UploadMode": "EndOfJob"},
        }


@dataclass(frozen=True)
class JobResources:
    """Where a job runs: image, role, instance, and the KMS keys of its volume and outputs."""

    image_uri: str
    role_arn: str
    instance_type: Value
    volume_kms_key: str
    output_kms_key: str
    max_runtime_seconds: int
    volume_size_gb: int = 30


def processing_step(
    name: str,
    *,
    resources: JobResources,
    entrypoint: Sequence[Value],
    arguments: Sequence[Value] = (),
    inputs: Sequence[S3Input] = (),
    outputs: Sequence[S3Output] = (),
    property_files: Sequence[PropertyFile] = (),
    description: str = "",
) -> Step:
    """A Processing step: CreateProcessingJob running `entrypoint arguments` in the image."""
    request = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": resources.instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": resources.volume_size_gb,
                "VolumeKmsKeyId": resources.volume_kms_key,
            }
        },
        "AppSpecification": {
            "ImageUri": resources.image_uri,
            "ContainerEntrypoint": list(entrypoint),
            "ContainerArguments": list(arguments),
        },
        "RoleArn": resources.role_arn,
        "ProcessingInputs": [item.render() for item in inputs],
        "ProcessingOutputConfig": {
            "Outputs": [item.render() for item in outputs],
            "KmsKeyId": resources.output_kms_key,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": resources.max_runtime_seconds},
    }
    outputs_by_name = {item.name for item in outputs}
    for property_file in property_files:
        if property_file.output_name not in outputs_by_name:
            raise DefinitionError(f"step {name}: property file {property_file.name} names no output of the step")
    return Step(name, "Processing", request, description=description, property_files=tuple(property_files))


def hyperparameter(value: Value) -> Value:
    """A hyperparameter value as the SageMaker SDK writes it: JSON-encoded text (expressions as they are)."""
    return value if isinstance(value, (Get, Join, JsonGet)) else json.dumps(value)


def training_step(
    name: str,
    *,
    resources: JobResources,
    hyperparameters: Mapping[str, Value],
    channels: Mapping[str, Value],
    output_path: Value,
    description: str = "",
) -> Step:
    """A Training step: CreateTrainingJob with one S3 channel per `channels` entry (CSV files)."""
    request = {
        "AlgorithmSpecification": {"TrainingImage": resources.image_uri, "TrainingInputMode": "File"},
        "HyperParameters": {key: hyperparameter(value) for key, value in hyperparameters.items()},
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
            }
            for channel, uri in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": output_path, "KmsKeyId": resources.output_kms_key},
        "ResourceConfig": {
            "InstanceType": resources.instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": resources.volume_size_gb,
            "VolumeKmsKeyId": resources.volume_kms_key,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": resources.max_runtime_seconds},
        "RoleArn": resources.role_arn,
    }
    return Step(name, "Training", request, description=description)


@dataclass(frozen=True)
class Condition:
    """A binary comparison, e.g. Condition("GreaterThanOrEqualTo", JsonGet(...), 0.7)."""

    type: str
    left: Value
    right: Value

    def __post_init__(self) -> None:
        if self.type not in CONDITION_TYPES:
            raise DefinitionError(f"condition type {self.type!r} is not one of {', '.join(sorted(CONDITION_TYPES))}")

    def render(self) -> dict[str, Any]:
        return {"Type": self.type, "LeftValue": render(self.left), "RightValue": render(self.right)}


def condition_step(
    name: str, *, conditions: Sequence[Condition], if_steps: Sequence[Step], else_steps: Sequence[Step]
) -> Step:
    """A Condition step: `if_steps` run when every condition holds, else `else_steps`."""
    arguments = {
        "Conditions": [condition.render() for condition in conditions],
        "IfSteps": tuple(if_steps),
        "ElseSteps": tuple(else_steps),
    }
    return Step(name, "Condition", arguments)


def fail_step(name: str, message: Value) -> Step:
    """A Fail step: the execution ends Failed with `message`."""
    return Step(name, "Fail", {"ErrorMessage": message})


# -- the definition ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineDefinition:
    """Parameters and steps; `render()`/`to_json()` give the definition, checked first."""

    parameters: tuple[Parameter, ...]
    steps: tuple[Step, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """Raise DefinitionError for duplicate or invalid names and any reference that points nowhere."""
        check_definition(self._render())

    def render(self) -> dict[str, Any]:
        rendered = self._render()
        check_definition(rendered)
        return rendered

    def _render(self) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "Version": DEFINITION_VERSION,
            "Metadata": dict(self.metadata),
            "Parameters": [parameter.render() for parameter in self.parameters],
            "Steps": [step.render() for step in self.steps],
        }
        return definition

    def to_json(self) -> str:
        return json.dumps(self.render(), sort_keys=True, separators=(",", ":"))


# -- checks on rendered definitions (also what tests run on the synthesized JSON) --------------------


def rendered_steps(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every step of a rendered definition, nested ones (condition branches) included."""
    found: list[Mapping[str, Any]] = []
    pending = list(definition.get("Steps", ()))
    while pending:
        step = pending.pop(0)
        found.append(step)
        arguments = step.get("Arguments", {})
        pending.extend(nested for branch in _BRANCHES for nested in arguments.get(branch, ()))
    return found


def check_definition(definition: Mapping[str, Any]) -> None:
    """Raise DefinitionError for invalid or duplicate names and any `Get` that points nowhere."""
    parameters = [parameter["Name"] for parameter in definition.get("Parameters", ())]
    steps = rendered_steps(definition)
    for kind, names in (("parameter", parameters), ("step", [step["Name"] for step in steps])):
        for name in names:
            if not _NAME.match(name):
                raise DefinitionError(f"{kind} name {name!r} must be 1-64 letters, digits, '-' or '_'")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise DefinitionError(f"{kind} names must be unique: {', '.join(duplicates)}")
    property_files = {
        step["Name"]: {item["PropertyFileName"] for item in step.get("PropertyFiles", ())} for step in steps
    }
    for step in steps:
        own = {key: value for key, value in step.get("Arguments", {}).items() if key not in _BRANCHES}
        for path in references(own):
            problem = reference_problem(path, set(parameters), property_files)
            if problem:
                raise DefinitionError(f"step {step['Name']}: {{'Get': {path!r}}} {problem}")
        for dependency in step.get("DependsOn", ()):
            if dependency not in property_files:
                raise DefinitionError(f"step {step['Name']}: DependsOn names no step: {dependency!r}")


def reference_problem(path: str, parameters: set[str], property_files: Mapping[str, set[str]]) -> str | None:
    """Why a `Get` path points nowhere, or None. `property_files`: step name -> its property file names."""
    head, _, rest = path.partition(".")
    if head == "Parameters":
        return None if rest in parameters else "names no declared parameter"
    if head == "Execution":
        return None if rest in EXECUTION_VARIABLES else "names no execution variable"
    if head != "Steps":
        return "is neither Parameters.*, Execution.* nor Steps.*"
    step_name, _, property_path = rest.partition(".")
    if step_name not in property_files:
        return "names no declared step"
    if not property_path:
        return "names no step property"
    if property_path.startswith("PropertyFiles."):
        if property_path.removeprefix("PropertyFiles.") not in property_files[step_name]:
            return f"names no property file of step {step_name}"
    return None

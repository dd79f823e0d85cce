"""The training pipeline's definition: schema-valid, every reference resolves, the gate follows config."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from building_blocks.pipeline_definition import (
    DefinitionError,
    Get,
    Parameter,
    PipelineDefinition,
    check_definition,
    fail_step,
    rendered_steps,
)
from building_blocks.sagemaker_images import sklearn_image_uri
from tests.conftest import Synthesized, only

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "reference" / "sagemaker-pipeline-definition.schema.json").read_text()
)
# What the published schema lacks, as SageMaker documents it: property files on processing steps, and
# Std:JsonGet / Std:Join where a string, number or boolean argument goes.
EXTENSION_KEYS = ("Std:JsonGet", "Std:Join", "PropertyFiles")


def extended_schema() -> dict[str, Any]:
    schema = copy.deepcopy(SCHEMA)
    definitions = schema["definitions"]
    definitions["JsonGetFunction"] = {
        "type": "object",
        "properties": {
            "Std:JsonGet": {
                "type": "object",
                "properties": {"PropertyFile": {"$ref": "#/definitions/GetFunction"}, "Path": {"type": "string"}},
                "required": ["PropertyFile", "Path"],
                "additionalProperties": False,
            }
        },
        "required": ["Std:JsonGet"],
        "additionalProperties": False,
    }
    definitions["JoinFunction"] = {
        "type": "object",
        "properties": {
            "Std:Join": {
                "type": "object",
                "properties": {
                    "On": {"type": "string"},
                    "Values": {
                        "type": "array",
                        "items": {
                            "oneOf": [
                                {"type": ["string", "number", "boolean"]},
                                {"$ref": "#/definitions/GetFunction"},
                                {"$ref": "#/definitions/JsonGetFunction"},
                            ]
                        },
                    },
                },
                "required": ["Values"],
                "additionalProperties": False,
            }
        },
        "required": ["Std:Join"],
        "additionalProperties": False,
    }
    for kind in ("String", "Integer", "Float", "Boolean"):
        definitions[f"{kind}ArgumentValue"]["oneOf"] += [
            {"$ref": "#/definitions/JoinFunction"},
            {"$ref": "#/definitions/JsonGetFunction"},
        ]
    definitions["ProcessingStep"]["properties"]["PropertyFiles"] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "PropertyFileName": {"type": "string"},
                "OutputName": {"type": "string"},
                "FilePath": {"type": "string"},
            },
            "required": ["PropertyFileName", "OutputName", "FilePath"],
            "additionalProperties": False,
        },
    }
    return schema


def deployed_definition(synthesized: Callable[[str], Synthesized], env: str) -> dict[str, Any]:
    pipeline = only(synthesized(env).stack("training"), "aws_sagemaker_pipeline")
    definition: dict[str, Any] = json.loads(pipeline["pipeline_definition"])
    return definition


def step(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return next(found for found in rendered_steps(definition) if found["Name"] == name)


def contains_extension(value: Any) -> bool:
    if isinstance(value, dict):
        return any(key in EXTENSION_KEYS for key in value) or any(contains_extension(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_extension(item) for item in value)
    return False


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_definition_is_valid_against_the_published_schema_with_documented_additions(
    synthesized: Callable[[str], Synthesized], env: str
) -> None:
    definition = deployed_definition(synthesized, env)
    jsonschema.Draft7Validator(extended_schema()).validate(definition)


def test_the_published_schema_objects_only_where_the_documented_additions_are_used(
    synthesized: Callable[[str], Synthesized],
) -> None:
    definition = deployed_definition(synthesized, "dev")
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(definition))
    assert errors, "the published schema accepted the definition: the additions above are no longer needed"
    for error in errors:
        # a step-level error (oneOf over step types) is caused by an addition inside that step
        assert contains_extension(error.instance), f"{list(error.absolute_path)}: {error.message[:200]}"


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_reference_points_at_a_declared_parameter_step_or_property_file(
    synthesized: Callable[[str], Synthesized], env: str
) -> None:
    check_definition(deployed_definition(synthesized, env))  # raises DefinitionError naming the reference


def test_steps_run_prepare_train_evaluate_then_the_gate_publishes_or_fails(
    synthesized: Callable[[str], Synthesized],
) -> None:
    definition = deployed_definition(synthesized, "dev")
    assert definition["Version"] == "2020-12-01"
    assert [(s["Name"], s["Type"]) for s in definition["Steps"]] == [
        ("Prepare", "Processing"),
        ("Train", "Training"),
        ("Evaluate", "Processing"),
        ("QualityGate", "Condition"),
    ]
    gate = step(definition, "QualityGate")["Arguments"]
    assert [(s["Name"], s["Type"]) for s in gate["IfSteps"]] == [("Publish", "Processing")]
    assert [(s["Name"], s["Type"]) for s in gate["ElseSteps"]] == [("QualityGateFailed", "Fail")]
    train = step(definition, "Train")["Arguments"]
    assert train["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    evaluate = step(definition, "Evaluate")
    assert evaluate["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "metrics.json"}
    ]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_quality_gate_compares_the_configured_metric_with_the_configured_threshold(
    synthesized: Callable[[str], Synthesized], env: str
) -> None:
    settings = synthesized(env).config.training
    definition = deployed_definition(synthesized, env)
    [condition] = step(definition, "QualityGate")["Arguments"]["Conditions"]
    metric = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
            "Path": f"metrics.{settings.quality_metric}",
        }
    }
    assert condition == {"Type": "GreaterThanOrEqualTo", "LeftValue": metric, "RightValue": settings.quality_threshold}
    message = step(definition, "QualityGateFailed")["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert metric in message  # the Fail step says which value missed the gate
    assert f"threshold {settings.quality_threshold}" in message[-1]


def test_only_prepare_reads_the_deployed_code_every_later_step_reads_its_snapshot(
    synthesized: Callable[[str], Synthesized],
) -> None:
    definition = deployed_definition(synthesized, "dev")
    snapshot = {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['code'].S3Output.S3Uri"}
    code_inputs = {
        found["Name"]: next(i for i in found["Arguments"]["ProcessingInputs"] if i["InputName"] == "code")
        for found in rendered_steps(definition)
        if found["Type"] == "Processing"
    }
    assert code_inputs["Prepare"]["S3Input"]["S3Uri"].startswith("s3://mlp-dev-training/code/training/")
    assert code_inputs["Evaluate"]["S3Input"]["S3Uri"] == snapshot
    assert code_inputs["Publish"]["S3Input"]["S3Uri"] == snapshot
    submit = step(definition, "Train")["Arguments"]["HyperParameters"]["sagemaker_submit_directory"]
    assert submit == {"Std:Join": {"On": "/", "Values": [snapshot, "sourcedir.tar.gz"]}}


def test_prepare_and_publish_refuse_a_version_that_was_published_already(
    synthesized: Callable[[str], Synthesized],
) -> None:
    definition = deployed_definition(synthesized, "dev")
    for name in ("Prepare", "Publish"):
        arguments = step(definition, name)["Arguments"]["AppSpecification"]["ContainerArguments"]
        flag = arguments.index("--published-models-uri")
        assert arguments[flag + 1] == "s3://mlp-dev-candidate-models/models"


def test_parameters_let_an_execution_choose_data_model_version_and_instances(
    synthesized: Callable[[str], Synthesized],
) -> None:
    definition = deployed_definition(synthesized, "dev")
    defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert defaults == {
        "InputDataUri": "s3://mlp-dev-processed-data/processed/churn/",
        "ModelName": "churn",
        "ModelVersion": "auto",
        "ProcessingInstanceType": "ml.m5.large",
        "TrainingInstanceType": "ml.m5.large",
    }
    publish = step(definition, "Publish")["Arguments"]
    [output] = publish["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"] == {
        "Std:Join": {"On": "/", "Values": ["s3://mlp-dev-candidate-models/models", {"Get": "Parameters.ModelName"}]}
    }


def test_jobs_use_the_regions_image_and_encrypt_volumes_and_outputs(
    synthesized: Callable[[str], Synthesized],
) -> None:
    definition = deployed_definition(synthesized, "dev")
    image = sklearn_image_uri("eu-west-1")
    assert image.startswith("141502667606.dkr.ecr.eu-west-1.amazonaws.com/")
    for name in ("Prepare", "Evaluate", "Publish"):
        arguments = step(definition, name)["Arguments"]
        assert arguments["AppSpecification"]["ImageUri"] == image
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"].startswith("${aws_kms_key.")
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"]
    train = step(definition, "Train")["Arguments"]
    assert train["AlgorithmSpecification"]["TrainingImage"] == image
    assert train["OutputDataConfig"]["KmsKeyId"] and train["ResourceConfig"]["VolumeKmsKeyId"]
    # the candidate is encrypted with the candidate bucket's key (another stack's), the rest with the work key
    publish_key = step(definition, "Publish")["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"]
    assert publish_key != step(definition, "Prepare")["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"]
    assert "terraform_remote_state" in publish_key


def test_an_unknown_region_fails_synth_naming_it() -> None:
    with pytest.raises(ValueError, match="'mars-north-1'"):
        sklearn_image_uri("mars-north-1")


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("Parameters.ModelNmae", "names no declared parameter"),
        ("Steps.Evaluat.Properties", "names no declared step"),
        ("Execution.Nope", "names no execution variable"),
        ("Steps.Fail.PropertyFiles.Report", "names no property file of step Fail"),
    ],
)
def test_a_reference_that_points_nowhere_fails_naming_it(reference: str, problem: str) -> None:
    definition = PipelineDefinition(
        parameters=(Parameter("ModelName", "churn"),), steps=(fail_step("Fail", Get(reference)),)
    )
    with pytest.raises(DefinitionError, match=f"step Fail: .*{reference}.* {problem}"):
        definition.to_json()


def test_duplicate_step_names_fail() -> None:
    definition = PipelineDefinition(parameters=(), steps=(fail_step("Same", "a"), fail_step("Same", "b")))
    with pytest.raises(DefinitionError, match="step names must be unique: Same"):
        definition.to_json()

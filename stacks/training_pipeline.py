"""The training pipeline's definition: prepare -> train -> evaluate -> quality gate -> publish | fail.

    Prepare           Processing  prepare.py: processed CSVs under InputDataUri -> train/test split
    Train             Training    train.py (framework mode): logistic regression -> model.tar.gz (model.json)
    Evaluate          Processing  evaluate.py: the shipped model.json on the test split -> metrics.json
    QualityGate       Condition   metrics.<quality_metric> >= quality_threshold (config)
      Publish         Processing  publish.py: model.tar.gz, metrics.json, manifest.json ->
                                  s3://<candidate bucket>/models/<ModelName>/<version>/
      QualityGateFailed  Fail     "Model quality gate failed: auc 0.61 is below the threshold 0.7"

Intermediate data (splits, the training job's output, the evaluation) goes to the training bucket
under runs/<execution id>/ and expires; only a model that passed the gate reaches the candidate
bucket. Scripts and their CLI: training/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from building_blocks.pipeline_definition import (
    EXECUTION_ARN,
    EXECUTION_ID,
    Condition,
    JobResources,
    Join,
    JsonGet,
    Parameter,
    PipelineDefinition,
    PropertyFile,
    S3Input,
    S3Output,
    Step,
    Value,
    condition_step,
    fail_step,
    processing_step,
    training_step,
)
from platform_config.model import TrainingSettings

# Where processing jobs see their inputs and outputs. Every path is passed to the scripts explicitly
# (the container mounts them; the local emulator maps /opt/ml/ arguments into a temporary root).
PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
DATA_DIR = f"{PROCESSING_ROOT}/input/data"
TRAIN_DIR = f"{PROCESSING_ROOT}/train"
TEST_DIR = f"{PROCESSING_ROOT}/test"
MODEL_DIR = f"{PROCESSING_ROOT}/model"
EVALUATION_DIR = f"{PROCESSING_ROOT}/evaluation"
CANDIDATE_DIR = f"{PROCESSING_ROOT}/candidate"
CODE_SNAPSHOT_DIR = f"{PROCESSING_ROOT}/code-snapshot"
SOURCE_DIR_ARCHIVE = "sourcedir.tar.gz"
EVALUATION_REPORT = "EvaluationReport"
METRICS_FILE = "metrics.json"
AUTO_VERSION = "auto"
TEST_FRACTION = "0.2"
SPLIT_SEED = "42"
# Logistic regression: inverse regularization strength and iteration cap (train.py's hyperparameters).
REGULARIZATION = 1.0
MAX_ITERATIONS = 1000


@dataclass(frozen=True)
class PipelineLocations:
    """Where the pipeline reads and writes (bucket names, code prefix, key ARNs) and with which image."""

    region: str
    image_uri: str
    work_bucket: str
    work_key_arn: str
    code_prefix: str  # e.g. "code/training/<sha>/": the scripts and sourcedir.tar.gz
    candidate_bucket: str
    candidate_key_arn: str
    input_data_uri: str  # the default InputDataUri: the processed dataset


def run_uri(locations: PipelineLocations, *parts: str) -> Join:
    """`s3://<work bucket>/runs/<execution id>/<parts>`: one execution's intermediate data."""
    return Join("/", (f"s3://{locations.work_bucket}/runs", EXECUTION_ID, *parts))


def build_training_pipeline(
    settings: TrainingSettings, locations: PipelineLocations, role_arn: str
) -> PipelineDefinition:
    """The pipeline of `settings` (model, gate, instances) over `locations`, its jobs running as `role_arn`."""
    input_data = Parameter("InputDataUri", locations.input_data_uri, "processed CSVs to train on (an S3 prefix)")
    model_name = Parameter("ModelName", settings.model_name, "models/<ModelName>/ in the candidate bucket")
    model_version = Parameter(
        "ModelVersion",
        AUTO_VERSION,
        f"semver, or '{AUTO_VERSION}': {settings.model_version_base}.<UTC time it is published, YYYYMMDDHHMMSS>",
    )
    processing_instance = Parameter("ProcessingInstanceType", settings.processing_instance_type)
    training_instance = Parameter("TrainingInstanceType", settings.training_instance_type)

    def resources(instance: Parameter, output_key_arn: str) -> JobResources:
        return JobResources(
            image_uri=locations.image_uri,
            role_arn=role_arn,
            instance_type=instance.ref,
            volume_kms_key=locations.work_key_arn,
            output_kms_key=output_key_arn,
            max_runtime_seconds=settings.max_runtime_minutes * 60,
        )

    processing = resources(processing_instance, locations.work_key_arn)
    # Prepare reads the deployed code and snapshots it under runs/<execution id>/; every later step reads
    # the snapshot, so a deploy that replaces code/training/<hash>/ mid-run cannot break this execution.
    deployed_code = S3Input("code", f"s3://{locations.work_bucket}/{locations.code_prefix}", CODE_DIR)
    published_models = f"s3://{locations.candidate_bucket}/models"

    def script(name: str) -> list[Value]:
        return ["python3", f"{CODE_DIR}/{name}"]

    prepare = processing_step(
        "Prepare",
        resources=processing,
        entrypoint=script("prepare.py"),
        arguments=[
            "--label",
            settings.label,
            "--test-fraction",
            TEST_FRACTION,
            "--seed",
            SPLIT_SEED,
            "--model-name",
            model_name.ref,
            "--model-version",
            model_version.ref,
            "--input-dir",
            DATA_DIR,
            "--train-dir",
            TRAIN_DIR,
            "--test-dir",
            TEST_DIR,
            "--code-snapshot-dir",
            CODE_SNAPSHOT_DIR,
            "--published-models-uri",
            published_models,
        ],
        inputs=[deployed_code, S3Input("data", input_data.ref, DATA_DIR)],
        outputs=[
            S3Output("train", TRAIN_DIR, run_uri(locations, "prepare", "train")),
            S3Output("test", TEST_DIR, run_uri(locations, "prepare", "test")),
            S3Output("code", CODE_SNAPSHOT_DIR, run_uri(locations, "prepare", "code")),
        ],
        description="Split the processed data into train and test sets",
    )
    code = S3Input("code", prepare.output_uri("code"), CODE_DIR)
    train = training_step(
        "Train",
        resources=resources(training_instance, locations.work_key_arn),
        hyperparameters={
            # Framework mode: the container downloads the scripts and runs sagemaker_program.
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": Join("/", (prepare.output_uri("code"), SOURCE_DIR_ARCHIVE)),
            "sagemaker_region": locations.region,
            "label": settings.label,
            "regularization": REGULARIZATION,
            "max-iter": MAX_ITERATIONS,
            "training-data-uri": input_data.ref,
        },
        channels={"train": prepare.output_uri("train")},
        output_path=run_uri(locations, "train"),
        description="Fit a logistic regression and export model.json",
    )
    model_artifacts = train.property("ModelArtifacts.S3ModelArtifacts")
    evaluate = processing_step(
        "Evaluate",
        resources=processing,
        entrypoint=script("evaluate.py"),
        arguments=["--model-dir", MODEL_DIR, "--test-dir", TEST_DIR, "--output-dir", EVALUATION_DIR],
        inputs=[
            code,
            S3Input("model", model_artifacts, MODEL_DIR),
            S3Input("test", prepare.output_uri("test"), TEST_DIR),
        ],
        outputs=[S3Output("evaluation", EVALUATION_DIR, run_uri(locations, "evaluate"))],
        property_files=[PropertyFile(EVALUATION_REPORT, "evaluation", METRICS_FILE)],
        description="Score the test set with the exported model.json",
    )
    metric = JsonGet(evaluate.property_file(EVALUATION_REPORT), f"metrics.{settings.quality_metric}")
    publish = processing_step(
        "Publish",
        resources=resources(processing_instance, locations.candidate_key_arn),
        entrypoint=script("publish.py"),
        arguments=[
            "--model-name",
            model_name.ref,
            "--model-version",
            model_version.ref,
            "--version-base",
            settings.model_version_base,
            "--training-data-uri",
            input_data.ref,
            "--pipeline-execution-arn",
            EXECUTION_ARN,
            "--model-dir",
            MODEL_DIR,
            "--evaluation-dir",
            EVALUATION_DIR,
            "--candidate-dir",
            CANDIDATE_DIR,
            "--published-models-uri",
            published_models,
        ],
        inputs=[
            code,
            S3Input("model", model_artifacts, MODEL_DIR),
            S3Input("evaluation", evaluate.output_uri("evaluation"), EVALUATION_DIR),
        ],
        outputs=[
            S3Output(
                "candidate",
                CANDIDATE_DIR,
                Join("/", (f"s3://{locations.candidate_bucket}/models", model_name.ref)),
            )
        ],
        description="Publish the model, its metrics and manifest as a candidate",
    )
    threshold = settings.quality_threshold
    failed = fail_step(
        "QualityGateFailed",
        Join(
            "",
            (
                f"Model quality gate failed: {settings.quality_metric} ",
                metric,
                f" is below the threshold {threshold}",
            ),
        ),
    )
    gate = condition_step(
        "QualityGate",
        conditions=[Condition("GreaterThanOrEqualTo", metric, threshold)],
        if_steps=[publish],
        else_steps=[failed],
    )
    steps: tuple[Step, ...] = (prepare, train, evaluate, gate)
    return PipelineDefinition(
        parameters=(input_data, model_name, model_version, processing_instance, training_instance),
        steps=steps,
    )

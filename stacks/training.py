"""Training: a SageMaker pipeline, started on a schedule, that publishes candidate models.

    training bucket   <prefix>-training       code/training/<sha>/ (the scripts, uploaded here) and
                                              runs/<execution id>/ (splits, job output; expires)
    pipeline          <prefix>-training       prepare -> train -> evaluate -> quality gate -> publish
                                              (stacks/training_pipeline.py; scripts in training/)
    schedule          <prefix>-training-schedule  EventBridge Scheduler (or rule) -> StartPipelineExecution

The pipeline's role reads the processed dataset, reads its code, reads and writes runs/, and writes
only models/ of the candidate bucket, with those buckets' keys. The schedule's role may only start
this pipeline. Settings: [<env>.training] in platform_config/environments.toml.
"""

from __future__ import annotations

import hashlib

from cdktf import AssetType, TerraformAsset, TerraformOutput
from constructs import Construct

from building_blocks.lambda_package import REPO_ROOT, build_tar_gz, source_files, write_package
from building_blocks.pipeline_schedule import PipelineSchedule, PipelineScheduleProps
from building_blocks.policy_guard import PolicyGuard
from building_blocks.provider_modules import install_lightweight_provider_package
from building_blocks.sagemaker_images import sklearn_image_uri
from building_blocks.sagemaker_pipeline import SageMakerPipeline, SageMakerPipelineProps
from platform_config import EnvironmentConfig
from platform_config.datasets import DatasetSchema, training_dataset
from platform_config.errors import ConfigError
from stacks.artifact_store import ArtifactStoreStack
from stacks.base import PlatformStack
from stacks.data_pipeline import PROCESSED_PREFIX, DataPipelineStack
from stacks.training_pipeline import SOURCE_DIR_ARCHIVE, PipelineLocations, build_training_pipeline
from training.feature_spec import CHURN

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.s3_object import S3Object  # noqa: E402

TRAINING_CODE_DIR = REPO_ROOT / "training"
CODE_PREFIX = "code/training/"
RUNS_PREFIX = "runs/"


def training_code() -> dict[str, bytes]:
    """The scripts SageMaker runs: training/*.py (tests and docs stay in the repo)."""
    return {name: content for name, content in source_files(TRAINING_CODE_DIR).items() if name.endswith(".py")}


def check_training_dataset(config: EnvironmentConfig, datasets: dict[str, DatasetSchema]) -> None:
    """The configured dataset exists, its label is a bool column (platform_config.datasets.training_dataset) and
    every other column has a role in training/feature_spec.py: a ConfigError names the key otherwise."""
    training = config.training
    columns = {column.name for column in training_dataset(config, datasets).columns}
    # The scripts give every column a role from training/feature_spec.py; a column without one fails Prepare.
    unknown = sorted(set(columns) - {training.label} - CHURN.known)
    missing = sorted(CHURN.known - set(columns))
    if unknown or missing:
        problem = f"columns {', '.join(unknown)} have no role" if unknown else f"lacks {', '.join(missing)}"
        raise ConfigError(
            config.name,
            "training.dataset",
            training.dataset,
            f"{problem} in training/feature_spec.py; give the dataset's columns roles there first",
        )


class TrainingStack(PlatformStack):
    """The training bucket, code upload, pipeline and schedule of one environment."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        guard: PolicyGuard,
        artifact_store: ArtifactStoreStack,
        data_pipeline: DataPipelineStack,
        datasets: dict[str, DatasetSchema],
    ) -> None:
        super().__init__(scope, "training", config=config, guard=guard)
        check_training_dataset(config, datasets)
        settings = config.training
        self.access_logs = self.add_access_log_bucket("training-access-logs")
        # code/ is kept (deployed scripts); runs/ (one execution's splits and job output) expires.
        self.work = self.add_bucket(
            "training",
            self.access_logs,
            expire_objects_after_days=settings.run_retention_days,
            expire_objects_prefix=RUNS_PREFIX,
        )
        assert self.work.encryption_key is not None
        self.key = self.add_key(
            "schedule-key", "training-schedule", "Encrypts the training schedule's input and dead letters"
        )

        self.code_prefix = self._upload_code()
        candidate = artifact_store.candidate
        assert candidate.encryption_key is not None
        locations = PipelineLocations(
            region=config.region,
            image_uri=sklearn_image_uri(config.region),
            work_bucket=config.resource_name("training"),
            work_key_arn=self.work.encryption_key.arn,
            code_prefix=self.code_prefix,
            candidate_bucket=config.resource_name("candidate-models"),
            candidate_key_arn=candidate.encryption_key.arn,
            input_data_uri=f"s3://{config.resource_name('processed-data')}/{PROCESSED_PREFIX}{settings.dataset}/",
        )
        self.pipeline = SageMakerPipeline(
            self,
            "pipeline",
            SageMakerPipelineProps(
                pipeline_name=config.resource_name("training"),
                # the jobs run as the pipeline's own role, which SageMakerPipeline creates first
                definition=lambda role_arn: build_training_pipeline(settings, locations, role_arn),
                volume_key=self.work.encryption_key,
                description=f"Trains {settings.model_name} on {settings.dataset}; publishes candidates",
            ),
        )
        dataset_prefix = f"{PROCESSED_PREFIX}{settings.dataset}/"
        data_pipeline.processed.grant_read(self.pipeline, "read-processed-data", dataset_prefix)
        self.work.grant_read(self.pipeline, "read-code", CODE_PREFIX)
        self.work.grant_read(self.pipeline, "read-runs", RUNS_PREFIX)
        self.work.grant_write(self.pipeline, "write-runs", RUNS_PREFIX)
        artifact_store.grant_publish_candidate(self.pipeline)
        # Prepare and Publish list models/<name>/<version>/ to refuse a version that exists (never overwritten).
        artifact_store.grant_list_candidates(self.pipeline)

        self.schedule = PipelineSchedule(
            self,
            "schedule",
            PipelineScheduleProps(
                name=config.resource_name("training-schedule"),
                pipeline=self.pipeline,
                # Every start trains the configured model on the configured dataset; the version is
                # numbered by the pipeline (ModelVersion "auto").
                parameters={"ModelName": settings.model_name, "InputDataUri": locations.input_data_uri},
                expression=settings.schedule_expression,
                key=self.key,
                trigger=settings.trigger,
                timezone=settings.schedule_timezone,
                enabled=settings.schedule_enabled,
                flexible_window_minutes=settings.flexible_window_minutes,
                retry_attempts=settings.retry_attempts,
                max_event_age_minutes=settings.max_event_age_minutes,
                description=f"Starts {config.resource_name('training')} ({settings.schedule_expression})",
            ),
        )

        outputs = {
            "training_bucket_name": self.work.bucket.bucket,
            "training_pipeline_name": self.pipeline.name,
            "training_pipeline_arn": self.pipeline.arn,
            "training_code_prefix": self.code_prefix,
            "training_schedule_dead_letter_queue_url": self.schedule.dead_letter_queue.url,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)

    def _upload_code(self) -> str:
        """Upload training/*.py and their sourcedir.tar.gz under code/training/<hash>/; returns that prefix.

        The prefix changes with the code, so a running execution keeps the code it started with.
        KMS-encrypted objects have no MD5 ETag, so `source_hash` (not `etag`) makes a change re-upload.
        """
        files = training_code()
        files[SOURCE_DIR_ARCHIVE] = build_tar_gz(files)
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
        prefix = f"{CODE_PREFIX}{digest.hexdigest()[:16]}/"
        assert self.work.encryption_key is not None
        for name, content in sorted(files.items()):
            stem, suffix = name.split(".", 1)
            built = write_package(f"training-{stem}", content, suffix=f".{suffix}")
            construct_id = name.replace(".", "-")
            asset = TerraformAsset(self, f"code-asset-{construct_id}", path=str(built.path), type=AssetType.FILE)
            S3Object(
                self,
                f"code-{construct_id}",
                bucket=self.work.bucket.bucket,
                key=f"{prefix}{name}",
                source=asset.path,
                source_hash=built.sha256_base64,
                server_side_encryption="aws:kms",
                kms_key_id=self.work.encryption_key.arn,
                content_type="application/gzip" if name.endswith(".tar.gz") else "text/x-python",
            )
        return prefix

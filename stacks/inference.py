"""Inference: a Step Functions workflow scores a batch CSV with the model promoted to production.

    inference bucket  <prefix>-inference-data     batches/ (input, uploaded by users),
                                                  preprocessed/<run> (clean rows, rejected rows; expire),
                                                  predictions/<run> (predictions, unscored rows, summary.json)
    preprocess        <prefix>-inference-preprocess  validates the input and the rows (the data processor's checks)
    predict           <prefix>-inference-predict     scores the clean rows with the production model
    state machine     <prefix>-inference           Preprocess -> Predict; any failure -> failure topic -> Fail
    failure topic     <prefix>-inference-failures  SNS (KMS): the failed execution, its input, error and cause

Least privilege: preprocess reads only batches/ and writes only preprocessed/; predict reads only
preprocessed/ and the served model's models/<model>/ of the production bucket, and writes only predictions/;
the state machine may invoke exactly the two functions (and their versions) and publish only to the topic.
The run layout and the execution input are in lambdas/inference_common/contract.py; settings are
[<env>.inference] in platform_config/environments.toml.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from building_blocks.inference_definition import inference_definition
from building_blocks.lambda_function import LambdaFunction, LambdaFunctionProps
from building_blocks.lambda_package import repo_sources
from building_blocks.notification_topic import NotificationTopic
from building_blocks.policy_guard import PolicyGuard
from building_blocks.state_machine import StateMachine, StateMachineProps
from lambdas.inference_common.contract import (  # the folders and file the functions use: one definition
    BATCHES_PREFIX,
    PREDICTIONS_PREFIX,
    PREPROCESSED_PREFIX,
    SERVED_MODELS_FILE,
)
from platform_config import EnvironmentConfig
from platform_config.datasets import DatasetSchema
from platform_config.serving import served_models_json
from stacks.artifact_store import ArtifactStoreStack
from stacks.base import PlatformStack

# Where the functions find served_models.json in their zip (inference_common.contract.served_models_path).
SERVED_MODELS_ZIP_PATH = f"inference_common/{SERVED_MODELS_FILE}"
# Predict reads the production pointer and the model archive with the modules that define them, bundled at the
# paths they are imported by: training's scorer flat (as in the SageMaker container), promotion as a package.
PREDICT_REPO_MODULES = {
    "model_format.py": "training/model_format.py",
    "model_archive.py": "training/model_archive.py",
    "promotion/__init__.py": "promotion/__init__.py",
    "promotion/pointer.py": "promotion/pointer.py",
    "promotion/record.py": "promotion/record.py",
    "training/model_naming.py": "training/model_naming.py",
}
# Both functions reuse the data processor's S3 adapter; preprocess also its row validation.
SHARED_PACKAGES = ("lambda_common", "inference_common", "data_processor")


class InferenceStack(PlatformStack):
    """The inference bucket, the preprocess and predict functions, the workflow and its failure topic."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        guard: PolicyGuard,
        artifact_store: ArtifactStoreStack,
        datasets: dict[str, DatasetSchema],
    ) -> None:
        super().__init__(scope, "inference", config=config, guard=guard)
        settings = config.inference
        served_models = served_models_json(config, datasets)
        self.access_logs = self.add_access_log_bucket("inference-access-logs")
        self.data = self.add_bucket(
            "inference-data",
            self.access_logs,
            expire_objects_after_days=settings.preprocessed_retention_days,
            expire_objects_prefix=PREPROCESSED_PREFIX,
        )
        # Encrypts what the functions and the workflow own: environment, logs, dead letters, notifications.
        self.key = self.add_key(
            "inference-key", "inference", "Encrypts the inference workflow's logs, environment and notifications"
        )
        environment = {"INFERENCE_BUCKET": config.resource_name("inference-data")}

        def function(
            package: str, memory_mb: int, environment: dict[str, str], modules: dict[str, str]
        ) -> LambdaFunction:
            """The function `<prefix>-inference-<package>` (construct id `package`), with served_models.json and
            `modules` (zip path -> source) in its zip."""
            return LambdaFunction(
                self,
                package,
                LambdaFunctionProps(
                    function_name=config.resource_name(f"inference-{package}"),
                    package=package,
                    handler=f"{package}.handler.handler",
                    encryption_key=self.key,
                    log_retention_days=config.log_retention_days,
                    reserved_concurrency=settings.reserved_concurrency,
                    memory_mb=memory_mb,
                    timeout_seconds=settings.timeout_seconds,
                    environment=environment,
                    extra_files={SERVED_MODELS_ZIP_PATH: served_models, **modules},
                    shared_packages=SHARED_PACKAGES,
                ),
            )

        self.preprocess = function("preprocess", settings.preprocess_memory_mb, environment, modules={})
        self.data.grant_read(self.preprocess, "read-batches", BATCHES_PREFIX)
        self.data.grant_write(self.preprocess, "write-preprocessed", PREPROCESSED_PREFIX)

        self.predict = function(
            "predict",
            settings.predict_memory_mb,
            {**environment, "PRODUCTION_BUCKET": config.resource_name("production-models")},
            modules=repo_sources(PREDICT_REPO_MODULES),
        )
        self.data.grant_read(self.predict, "read-preprocessed", PREPROCESSED_PREFIX)
        self.data.grant_write(self.predict, "write-predictions", PREDICTIONS_PREFIX)
        artifact_store.grant_read_production(self.predict, config.training.model_name)

        self.failures = NotificationTopic(
            self, "failures", topic_name=config.resource_name("inference-failures"), key=self.key
        )
        self.workflow = StateMachine(
            self,
            "workflow",
            StateMachineProps(
                state_machine_name=config.resource_name("inference"),
                definition=inference_definition(
                    preprocess_arn=self.preprocess.arn,
                    predict_arn=self.predict.arn,
                    failure_topic_arn=self.failures.arn,
                    retry_max_attempts=settings.retry_max_attempts,
                ),
                encryption_key=self.key,
                log_retention_days=config.log_retention_days,
                invokes=(self.preprocess, self.predict),
            ),
        )
        self.failures.grant_publish(self.workflow.execution, "publish-failures")

        outputs = {
            "inference_bucket_name": self.data.bucket.bucket,
            "inference_state_machine_arn": self.workflow.arn,
            "inference_failure_topic_arn": self.failures.arn,
            "preprocess_function_name": self.preprocess.function_name,
            "predict_function_name": self.predict.function_name,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)

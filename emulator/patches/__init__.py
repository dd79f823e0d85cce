"""Built-in extensions: one module per moto gap, each a ``PatchExtension``, and the whole
services moto lacks (``emulator.services``, each a ``ServiceBackendExtension``).

``builtin_extensions()`` returns fresh instances in install order; every
``EmulatorServer`` activates them before its own ``extensions``. Each module's
docstring names the moto file and function it patches and why; an extension
that depends on another declares it in ``requires`` (with the reason), and the
server refuses an order that puts a requirement after it.

To add a gap fix: write ``emulator/patches/<gap>.py`` with a
``PatchExtension`` subclass and append its class to ``BUILTIN_EXTENSIONS``
(after whatever it ``requires``).
"""

from __future__ import annotations

from emulator.extension import Extension, PatchExtension
from emulator.patches.iam_managed_policies import IamManagedPolicies
from emulator.patches.lambda_dead_letter import LambdaDeadLetterConfig
from emulator.patches.lambda_runtime import LocalLambdaRuntime
from emulator.patches.s3_copy_source_if_match import S3CopySourceIfMatch
from emulator.patches.s3_eventbridge_notifications import S3EventBridgeNotifications
from emulator.patches.s3_kms_key_arn import S3KmsKeyArn
from emulator.patches.s3_logging_delivery import S3LoggingDelivery
from emulator.patches.s3_policy_conditions import S3PolicyConditions
from emulator.patches.sagemaker_pipeline_execution import SageMakerPipelineExecution
from emulator.patches.sagemaker_pipeline_steps import SageMakerPipelineSteps
from emulator.patches.service_backend_dispatch import ServiceBackendDispatch
from emulator.patches.sfn_definition_api import StepFunctionsDefinitionApi
from emulator.patches.sfn_execution import StepFunctionsExecution
from emulator.patches.sfn_item_reader_s3 import StepFunctionsS3ItemReader
from emulator.patches.sfn_map_tolerated_failures import StepFunctionsMapToleratedFailures
from emulator.patches.sfn_tolerated_failure_int import StepFunctionsIntegerToleratedFailure
from emulator.patches.sfn_unnamed_execution import StepFunctionsUnnamedExecution
from emulator.service_backend import ServiceBackendExtension
from emulator.services.codeartifact import CodeArtifactService

BUILTIN_EXTENSIONS: tuple[type[PatchExtension | ServiceBackendExtension], ...] = (
    StepFunctionsExecution,
    StepFunctionsDefinitionApi,
    IamManagedPolicies,
    S3PolicyConditions,
    S3KmsKeyArn,
    S3CopySourceIfMatch,
    S3LoggingDelivery,
    S3EventBridgeNotifications,
    LambdaDeadLetterConfig,
    LocalLambdaRuntime,
    SageMakerPipelineExecution,
    SageMakerPipelineSteps,  # reads the runs sagemaker-pipeline-execution keeps
    ServiceBackendDispatch,  # before any ServiceBackendExtension (they require it)
    CodeArtifactService,
    # These import moto's ASL parser (~1 s). Requests wait until every extension is in
    # (EmulatorServer holds them), so only `requires` constrains the order.
    StepFunctionsIntegerToleratedFailure,
    StepFunctionsMapToleratedFailures,
    StepFunctionsS3ItemReader,
    StepFunctionsUnnamedExecution,
)


def builtin_extensions() -> list[Extension]:
    """New instances of every built-in extension, in install order."""
    return [extension() for extension in BUILTIN_EXTENSIONS]


__all__ = ["BUILTIN_EXTENSIONS", "builtin_extensions"]

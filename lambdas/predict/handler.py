"""Lambda entry point (predict.handler.handler): check the preprocess result, score the run's batch, return.

Environment:
  PRODUCTION_BUCKET    required; the production model bucket (the pointer and the promoted archives)
  INFERENCE_BUCKET     required; the inference bucket (the preprocessed batch in, the predictions out)
  SERVED_MODELS_PATH   optional; default served_models.json in the inference_common package folder
                       (rendered at synth, packaged with the function)
  LOG_LEVEL            optional; default INFO
Event: the preprocess result (inference_common.contract.Preprocessed.to_dict). Returns, and writes to
predictions/<run>summary.json with the model's provenance:

    {"model", "model_version", "model_sha256", "execution_id", "run", "predictions_uri", "unscored_uri",
     "rejected_uri", "summary_uri", "rows": {"read", "rejected", "blank", "scored", "unscored", "positive"}}

rows.read = rejected + blank + scored + unscored. Errors are raised under the contract's names
(InvalidInferenceInput, ModelNotPromoted, ModelContractError, ModelChecksumMismatch); the state machine catches
them. ConfigurationError is a deployment bug.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from inference_common.contract import Preprocessed, ServedModel, load_served_models, served_models_path
from lambda_common.environment import required
from lambda_common.structured_log import StructuredLogger
from predict.service import Settings, run_prediction

# Created once per execution environment. boto3 honours AWS_ENDPOINT_URL (the local emulator sets it).
s3 = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
log = StructuredLogger("predict")


@lru_cache(maxsize=4)
def _served_models(path: str) -> Mapping[str, ServedModel]:
    return load_served_models(Path(path))


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    """Settings from PRODUCTION_BUCKET, INFERENCE_BUCKET and SERVED_MODELS_PATH (read once per path)."""
    return Settings(
        production_bucket=required(environ, "PRODUCTION_BUCKET", "the production model bucket"),
        inference_bucket=required(environ, "INFERENCE_BUCKET", "the inference bucket"),
        served=_served_models(str(served_models_path(environ))),
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Score the batch of one inference run; see the module docstring."""
    log.set_correlation_id(getattr(context, "aws_request_id", None))
    settings = settings_from_env(os.environ)
    try:
        request = Preprocessed.from_dict(event)
        return run_prediction(s3, request, settings, log=log)
    except Exception as exc:
        fields = event if isinstance(event, dict) else {}
        log.error(
            "prediction failed",
            model=fields.get("model"),
            execution_id=fields.get("execution_id"),
            run=fields.get("run"),
            error_type=type(exc).__name__,
            error=str(exc),
        )
        raise

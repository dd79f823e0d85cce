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

import inference_common
from inference_common.contract import Preprocessed, ServedModel, load_served_models
from lambda_common.structured_log import StructuredLogger
from predict.service import Settings, run_prediction

DEFAULT_SERVED_MODELS_PATH = Path(inference_common.__file__).resolve().parent / "served_models.json"

# Created once per execution environment. boto3 honours AWS_ENDPOINT_URL (the local emulator sets it).
s3 = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
log = StructuredLogger("predict")


class ConfigurationError(RuntimeError):
    """A required environment variable is missing; the message names it."""


@lru_cache(maxsize=4)
def _served_models(path: str) -> Mapping[str, ServedModel]:
    return load_served_models(Path(path))


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    """Settings from PRODUCTION_BUCKET, INFERENCE_BUCKET and SERVED_MODELS_PATH (read once per path)."""
    buckets = {}
    for name, what in (
        ("PRODUCTION_BUCKET", "the production model bucket"),
        ("INFERENCE_BUCKET", "the inference bucket"),
    ):
        buckets[name] = environ.get(name, "").strip()
        if not buckets[name]:
            raise ConfigurationError(f"{name} is not set: it must name {what}")
    path = environ.get("SERVED_MODELS_PATH") or str(DEFAULT_SERVED_MODELS_PATH)
    return Settings(
        production_bucket=buckets["PRODUCTION_BUCKET"],
        inference_bucket=buckets["INFERENCE_BUCKET"],
        served=_served_models(path),
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

"""Lambda entry point (preprocess.handler.handler): check the event, preprocess the batch, log, return.

Event: {"request": <execution input>, "execution_id": <execution name>} (inference_common.contract).
Environment:
  INFERENCE_BUCKET     required; the bucket holding batches/ (read) and preprocessed/ (written)
  SERVED_MODELS_PATH   optional; default served_models.json in the inference_common package folder
  LOG_LEVEL            optional; default INFO
Returns Preprocessed.to_dict(INFERENCE_BUCKET): predict's event. Raises InvalidInferenceInput for any problem
with the input (see preprocess.service); other errors propagate unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from inference_common.contract import InvalidInferenceInput, parse_request, served_models_path
from lambda_common.environment import ConfigurationError, required
from lambda_common.structured_log import StructuredLogger
from preprocess.service import ServedCatalog, Settings, load_catalog, preprocess_batch

# Created once per execution environment. boto3 honours AWS_ENDPOINT_URL (the local emulator sets it).
s3 = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
log = StructuredLogger("preprocess")


@lru_cache(maxsize=4)
def _catalog(path: str) -> ServedCatalog:
    try:
        return load_catalog(Path(path))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the served models at {path}: {exc.strerror or exc}; package served_models.json "
            "(platform_config.serving.served_models_json) or set SERVED_MODELS_PATH"
        ) from exc


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    """Settings from INFERENCE_BUCKET and SERVED_MODELS_PATH (the schemas are compiled once per path)."""
    bucket = required(environ, "INFERENCE_BUCKET", "the inference bucket")
    return Settings(bucket=bucket, catalog=_catalog(str(served_models_path(environ))))


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Preprocess the batch the execution input names; see the module docstring."""
    log.set_correlation_id(getattr(context, "aws_request_id", None))
    settings = settings_from_env(os.environ)
    try:
        request = parse_request(event, bucket=settings.bucket, served=settings.catalog.models)
    except InvalidInferenceInput as exc:
        log.warning("request refused", error=str(exc))
        raise
    fields = {
        "model": request.model.name,
        "execution_id": request.execution_id,
        "input_uri": request.source.uri,
        "run": request.layout.run,
    }
    log.info("request", **fields)
    try:
        result = preprocess_batch(s3, request, settings, log=log)
    except InvalidInferenceInput as exc:
        log.warning("batch refused", **fields, error=str(exc))
        raise
    except Exception as exc:
        log.error("preprocess failed", **fields, error_type=type(exc).__name__, error=str(exc))
        raise
    document = result.to_dict(settings.bucket)
    log.info("batch preprocessed", **fields, input=document["input"], rows=document["rows"])
    if result.rows_rejected:
        log.warning(
            "rows rejected", **fields, rows_rejected=result.rows_rejected, rejected_uri=document["rejected_uri"]
        )
    return document

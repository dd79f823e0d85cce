"""Lambda entry point (data_processor.handler.handler): parse the event, process each object, log, return.

Environment:
  PROCESSED_BUCKET       required; the bucket receiving processed/ and quarantine/ outputs
  DATASET_SCHEMAS_PATH   optional; default schemas.json beside this module (packaged with the function)
  LOG_LEVEL              optional; default INFO
Returns {"results": [ObjectResult.to_dict(), ...]}, one entry per object of the event; each has a status
(processed, quarantined or superseded; see data_processor.service).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from data_processor.events import parse_event
from data_processor.schema import CompiledSchema, load_schemas
from data_processor.service import PROCESSED, SUPERSEDED, Settings, process_object
from lambda_common.environment import required
from lambda_common.structured_log import StructuredLogger

DEFAULT_SCHEMAS_PATH = Path(__file__).resolve().parent / "schemas.json"

# Created once per execution environment. boto3 honours AWS_ENDPOINT_URL (the local emulator sets it).
s3 = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
log = StructuredLogger("data-processor")


@lru_cache(maxsize=4)
def _schemas(path: str) -> Mapping[str, CompiledSchema]:
    return load_schemas(Path(path))


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    """Settings from PROCESSED_BUCKET and DATASET_SCHEMAS_PATH (schemas are compiled once per path)."""
    bucket = required(environ, "PROCESSED_BUCKET", "the processed bucket")
    path = environ.get("DATASET_SCHEMAS_PATH") or str(DEFAULT_SCHEMAS_PATH)
    return Settings(processed_bucket=bucket, schemas=_schemas(path))


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Process every object of an S3 notification or a backfill item; see the module docstring."""
    log.set_correlation_id(getattr(context, "aws_request_id", None))
    settings = settings_from_env(os.environ)
    results = []
    for ref in parse_event(event):
        try:
            result = process_object(s3, ref, settings, log=log)
        except Exception as exc:
            log.error(
                "object failed; the invocation fails and is retried",
                source_bucket=ref.bucket,
                source_key=ref.key,
                version_id=ref.version_id,
                error_type=type(exc).__name__,
                error=str(exc),
            )
            raise
        fields = {key: value for key, value in result.to_dict().items() if value is not None}
        if result.status == PROCESSED:
            log.info("object processed", **fields)
        elif result.status == SUPERSEDED:
            # Expected under out-of-order delivery: the current version's own run publishes it.
            log.info("object superseded", **fields)
        else:
            log.warning("object quarantined", **fields)
        results.append(result.to_dict())
    return {"results": results}

"""One prediction run over S3: the production model, the batch scored into the run's outputs, then its summary.

    production bucket   models/<model>/production.json, models/<model>/<version>/model.tar.gz    read (model_store)
    inference bucket    preprocessed/<run>batch.csv.gz                                            read (streamed)
                        predictions/<run>predictions.csv.gz, unscored.csv.gz                       written (multipart)
                        predictions/<run>summary.json                                              written last

The two gzip outputs stream through MultipartUploadWriter: a failure anywhere while scoring aborts both uploads,
so a run never leaves a partial output. The summary is written only once both are complete and the counts add
up (read = rejected + blank + scored + unscored), so its presence means the run's outputs are whole.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from data_processor.outputs import GZIP_CONTENT_TYPE
from data_processor.s3_io import PART_SIZE_BYTES, MultipartUploadWriter, is_missing, put_json
from inference_common.contract import (
    InvalidInferenceInput,
    ModelContractError,
    Preprocessed,
    RunLayout,
    ServedModel,
)
from lambda_common.structured_log import StructuredLogger
from predict.model_store import CACHE, ModelCache, ProductionModel, load_production_model
from predict.scoring import ScoreCounts, score_batch

PART_SIZE = PART_SIZE_BYTES  # of the output uploads (8 MiB); read at each run, so tests can make it small


@dataclass(frozen=True)
class Settings:
    """Where the function reads and writes, and the models it serves (served_models.json)."""

    production_bucket: str
    inference_bucket: str
    served: Mapping[str, ServedModel]


def run_prediction(
    client: Any, event: Preprocessed, settings: Settings, *, log: StructuredLogger, cache: ModelCache = CACHE
) -> dict[str, Any]:
    """Score the run's batch with the model production serves now; returns the execution's output (module
    docstring of predict.handler), which summary.json holds too with the model's provenance.

    cache (default model_store.CACHE, kept across warm invocations): validated models by version and sha256."""
    served = settings.served.get(event.model)
    if served is None:
        raise InvalidInferenceInput(
            f"model {event.model!r} is not served here; served: {', '.join(sorted(settings.served))}"
        )
    if not event.run.endswith(f"{event.execution_id}/"):
        raise InvalidInferenceInput(
            f"run {event.run!r} is not the folder of execution {event.execution_id!r} (<output_prefix><execution_id>/)"
        )
    layout = RunLayout(settings.inference_bucket, event.run)
    production = load_production_model(client, settings.production_bucket, event.model, cache=cache)
    pointer, model = production.pointer, production.model
    log.info(
        "production model",
        model=pointer.model,
        model_version=pointer.version,
        model_sha256=pointer.sha256,
        promotion_sequence=pointer.sequence,
        cache="hit" if production.cache_hit else "miss",
    )
    if model.label != served.label:
        raise ModelContractError(
            f"model {pointer.model!r} version {pointer.version} predicts {model.label!r}; "
            f"the served model predicts {served.label!r}"
        )
    started = time.perf_counter()
    counts = _score_into_outputs(client, layout, event, served, production)
    seconds = time.perf_counter() - started
    result = {
        "model": pointer.model,
        "model_version": pointer.version,
        "model_sha256": pointer.sha256,
        "execution_id": event.execution_id,
        "run": event.run,
        "predictions_uri": layout.uri(layout.predictions_key),
        "unscored_uri": layout.uri(layout.unscored_key),
        "rejected_uri": layout.uri(layout.rejected_key),  # preprocess's: every output of the run in one place
        "summary_uri": layout.uri(layout.summary_key),
        "rows": {
            "read": event.rows_read,
            "rejected": event.rows_rejected,
            "blank": event.rows_blank,
            "scored": counts.scored,
            "unscored": counts.unscored,
            "positive": counts.positive,
        },
    }
    put_json(client, layout.bucket, layout.summary_key, {**result, **_provenance(event, production, seconds)})
    log.info(
        "batch scored",
        model=pointer.model,
        model_version=pointer.version,
        rows=result["rows"],
        scoring_seconds=round(seconds, 3),
        rows_per_second=round(counts.read / seconds) if seconds > 0 else None,
        summary_uri=result["summary_uri"],
    )
    return result


def _score_into_outputs(
    client: Any, layout: RunLayout, event: Preprocessed, served: ServedModel, production: ProductionModel
) -> ScoreCounts:
    """Stream the batch through scoring into both outputs; the counts are checked before the uploads complete,
    so outputs whose counts do not add up are aborted, never published."""
    batch = _open_batch(client, layout)
    bucket = layout.bucket
    upload: dict[str, Any] = {"part_size": PART_SIZE, "content_type": GZIP_CONTENT_TYPE}
    try:
        with (
            MultipartUploadWriter(client, bucket, layout.predictions_key, **upload) as predictions_out,
            MultipartUploadWriter(client, bucket, layout.unscored_key, **upload) as unscored_out,
        ):
            counts = score_batch(
                batch,
                production.model,
                served,
                model_version=production.pointer.version,
                predictions_out=predictions_out,
                unscored_out=unscored_out,
            )
            if counts.read != counts.scored + counts.unscored or counts.read != event.rows_valid:
                raise RuntimeError(
                    f"the counts do not add up for {layout.uri(layout.batch_key)}: read {counts.read}, scored "
                    f"{counts.scored} + unscored {counts.unscored}, and preprocess wrote {event.rows_valid} valid rows"
                )
    finally:
        batch.close()
    return counts


def _open_batch(client: Any, layout: RunLayout) -> Any:
    """The batch's streaming body; InvalidInferenceInput when preprocess's output is not there."""
    try:
        return client.get_object(Bucket=layout.bucket, Key=layout.batch_key)["Body"]
    except ClientError as exc:
        if is_missing(client, layout.bucket, layout.batch_key, exc):
            raise InvalidInferenceInput(
                f"the batch {layout.uri(layout.batch_key)} does not exist: preprocess writes it before predict runs"
            ) from exc
        raise


def _provenance(event: Preprocessed, production: ProductionModel, seconds: float) -> dict[str, Any]:
    """What summary.json adds to the result: the input, the pointer's promotion and quality record, the threshold
    the labels used and the time scoring took."""
    document = production.pointer.document
    return {
        "input": {"uri": event.input_uri, "sha256": event.input_sha256, "bytes": event.input_bytes},
        "promotion": document.get("promotion"),
        "quality": document.get("quality"),
        "training_data_uri": document.get("training_data_uri"),
        "threshold": production.model.threshold,
        "scoring_seconds": round(seconds, 3),
    }

"""The inference contract: execution input, run layout, the preprocess result, served models, error types.

Execution input (what `StartExecution` is given; README "Running inference"):

    {"model": "churn",                                   a served model (served_models.json)
     "input_uri": "s3://<inference bucket>/batches/<key>",  the batch CSV (.csv or .csv.gz), dataset columns
                                                         without the label, in order
     "output_prefix": "daily/2026-11-30/"}               optional, default "<model>/": relative folder of the run

The state machine hands preprocess `{"request": <execution input>, "execution_id": <execution name>}`, so a
missing or malformed field reaches the function and fails as InvalidInferenceInput (a States.Runtime error
in the definition itself could not be caught). Each run writes under `<output_prefix><execution_id>/`:

    preprocessed/<run>batch.csv.gz      clean rows (gzip CSV, header = the batch columns)       preprocess
    preprocessed/<run>rejected.csv.gz   rows the dataset schema refused: row_number, reason, fields
    predictions/<run>predictions.csv.gz <id column>, score, label, model_version                  predict
    predictions/<run>unscored.csv.gz    rows the model could not score: row_number, reason, fields
    predictions/<run>summary.json       the predict result below, plus the model's provenance

Preprocess returns the Preprocessed document (predict's event); predict returns its summary, the execution
output. Row counts add up end to end: read = rejected + blank + scored + unscored.

Error types (a Lambda error is named after its exception class; the state machine catches every error,
publishes it to the failure topic and fails): InvalidInferenceInput, ModelNotPromoted, ModelContractError,
ModelChecksumMismatch.

Standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVED_MODELS_FORMAT_VERSION = 1
SERVED_MODELS_FILE = "served_models.json"
BATCHES_PREFIX = "batches/"
PREPROCESSED_PREFIX = "preprocessed/"
PREDICTIONS_PREFIX = "predictions/"
REQUEST_FIELDS = ("model", "input_uri", "output_prefix")
BATCH_SUFFIXES = (".csv", ".csv.gz")
MAX_OUTPUT_PREFIX_CHARS = 256
# Step Functions execution names may hold more (any non-space character but a few); the run folder is an S3 key
# segment that people type, so only these.
EXECUTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.=-]*")
_S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.+)", re.DOTALL)


class InvalidInferenceInput(ValueError):
    """The execution input, the batch object or the preprocess result is unusable; the message names the field
    or object and what is wrong. Not retried."""


class ModelNotPromoted(LookupError):
    """The model has no production pointer: nothing of it was promoted (or it was never trained)."""


class ModelContractError(ValueError):
    """The production pointer, the archive or its model.json breaks the model artifact contract, or the batch
    lacks a column the model needs; the message names which and why."""


class ModelChecksumMismatch(ModelContractError):
    """The archive's bytes are not the ones promoted: their sha256 (or size) differs from the pointer's."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: Any, field: str = "input_uri") -> S3Location:
    """`s3://bucket/key` -> S3Location; InvalidInferenceInput naming `field` otherwise."""
    if not isinstance(uri, str):
        raise InvalidInferenceInput(f"{field} must be a string s3://<bucket>/<key>, not {type(uri).__name__}")
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise InvalidInferenceInput(f"{field} {uri!r} is not an S3 URI s3://<bucket>/<key>")
    return S3Location(match.group(1), match.group(2))


@dataclass(frozen=True)
class ServedModel:
    """A model the workflow serves: its batch columns (the training dataset's, label left out) as a schemas.json
    dataset entry (`dataset`, compiled by preprocess with data_processor.schema.compile_dataset), the column
    that identifies a row in the predictions (`id_column`) and the label the model predicts (`label`)."""

    name: str
    id_column: str
    label: str
    dataset: Mapping[str, Any]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(column["name"] for column in self.dataset["columns"])


def parse_served_models(text: str) -> dict[str, ServedModel]:
    """served_models.json (rendered at synth by platform_config.serving.served_models_json) -> models by name.
    A malformed document is a packaging bug: ValueError naming what is wrong."""
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("format_version") != SERVED_MODELS_FORMAT_VERSION:
        raise ValueError(f"served_models.json must have format_version {SERVED_MODELS_FORMAT_VERSION}")
    models = document.get("models")
    if not isinstance(models, dict) or not models:
        raise ValueError("served_models.json declares no model")
    served = {}
    for name, entry in models.items():
        try:
            served[name] = ServedModel(name, entry["id_column"], entry["label"], entry["dataset"])
            if served[name].id_column not in served[name].columns:
                raise ValueError(f"id_column {served[name].id_column!r} is not a batch column")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"served_models.json: model {name!r}: {exc!r}") from exc
    return served


def served_models_path(environ: Mapping[str, str]) -> Path:
    """$SERVED_MODELS_PATH, else served_models.json beside this module (where the stack packages it)."""
    return Path(environ.get("SERVED_MODELS_PATH") or Path(__file__).resolve().parent / SERVED_MODELS_FILE)


def load_served_models(path: Path) -> dict[str, ServedModel]:
    """parse_served_models of the file at `path`."""
    return parse_served_models(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RunLayout:
    """Where one run's outputs go in the inference bucket: `run` is `<output_prefix><execution_id>/`."""

    bucket: str
    run: str

    @property
    def batch_key(self) -> str:
        return f"{PREPROCESSED_PREFIX}{self.run}batch.csv.gz"

    @property
    def rejected_key(self) -> str:
        return f"{PREPROCESSED_PREFIX}{self.run}rejected.csv.gz"

    @property
    def predictions_key(self) -> str:
        return f"{PREDICTIONS_PREFIX}{self.run}predictions.csv.gz"

    @property
    def unscored_key(self) -> str:
        return f"{PREDICTIONS_PREFIX}{self.run}unscored.csv.gz"

    @property
    def summary_key(self) -> str:
        return f"{PREDICTIONS_PREFIX}{self.run}summary.json"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def check_run(run: Any) -> str:
    """`run` if it is `<output_prefix><execution_id>/` with safe segments; InvalidInferenceInput otherwise."""
    if not isinstance(run, str) or not run.endswith("/") or len(run) > MAX_OUTPUT_PREFIX_CHARS + 81:
        raise InvalidInferenceInput(f"run {run!r} is not a run folder <output_prefix><execution_id>/")
    check_output_prefix(run, "run")
    return run


def check_output_prefix(prefix: Any, field: str = "output_prefix") -> str:
    """`prefix` if it is a relative folder: segments of letters, digits, `_ . = -` (not starting with `.`),
    joined and ended by `/`, at most MAX_OUTPUT_PREFIX_CHARS characters; InvalidInferenceInput otherwise."""
    if not isinstance(prefix, str):
        raise InvalidInferenceInput(
            f"{field} must be a string such as 'daily/2026-11-30/', not {type(prefix).__name__}"
        )
    if len(prefix) > MAX_OUTPUT_PREFIX_CHARS and field == "output_prefix":
        raise InvalidInferenceInput(f"{field} is {len(prefix)} characters long; at most {MAX_OUTPUT_PREFIX_CHARS}")
    segments = prefix.split("/")
    if not prefix.endswith("/") or not all(_PREFIX_SEGMENT.fullmatch(segment) for segment in segments[:-1]):
        raise InvalidInferenceInput(
            f"{field} {prefix!r} must be a relative folder ending in '/', e.g. 'daily/2026-11-30/': segments of "
            "letters, digits, '_', '.', '=' and '-', not starting with '.'"
        )
    return prefix


@dataclass(frozen=True)
class InferenceRequest:
    """A checked execution input: the served model, the batch object and the run's layout."""

    model: ServedModel
    source: S3Location
    execution_id: str
    layout: RunLayout


def parse_request(event: Any, *, bucket: str, served: Mapping[str, ServedModel]) -> InferenceRequest:
    """Check preprocess's event `{"request": <execution input>, "execution_id": ...}` (module docstring): the
    input must name a served model and a .csv or .csv.gz object under batches/ of `bucket` (the only place the
    function may read). InvalidInferenceInput names the first bad field."""
    if not isinstance(event, dict) or not isinstance(event.get("request"), dict):
        raise InvalidInferenceInput(
            'the event must be {"request": <execution input object>, "execution_id": <execution name>}'
        )
    execution_id = event.get("execution_id")
    if not isinstance(execution_id, str) or not EXECUTION_NAME.fullmatch(execution_id):
        raise InvalidInferenceInput(
            f"execution_id {execution_id!r} must be 1-80 letters, digits, '_', '.' or '-' (the execution name)"
        )
    request = event["request"]
    unknown = sorted(set(request) - set(REQUEST_FIELDS))
    if unknown:
        raise InvalidInferenceInput(f"unknown input field(s) {', '.join(unknown)}; known: {', '.join(REQUEST_FIELDS)}")
    model_name = request.get("model")
    # A list or object here (unhashable) must fail as the bad field, not as a TypeError of the lookup.
    if not isinstance(model_name, str) or model_name not in served:
        raise InvalidInferenceInput(f"model {model_name!r} is not served here; served: {', '.join(sorted(served))}")
    if "input_uri" not in request:
        raise InvalidInferenceInput(f"input_uri is missing: s3://{bucket}/{BATCHES_PREFIX}<key>.csv")
    source = parse_s3_uri(request["input_uri"])
    if source.bucket != bucket or not source.key.startswith(BATCHES_PREFIX):
        raise InvalidInferenceInput(
            f"input_uri {source.uri!r} is outside the batch folder; upload batches to s3://{bucket}/{BATCHES_PREFIX}"
        )
    if not source.key.endswith(BATCH_SUFFIXES) or source.key.endswith("/"):
        raise InvalidInferenceInput(f"input_uri {source.uri!r} must name a .csv or .csv.gz object")
    prefix = check_output_prefix(request.get("output_prefix", f"{model_name}/"))
    return InferenceRequest(served[model_name], source, execution_id, RunLayout(bucket, f"{prefix}{execution_id}/"))


@dataclass(frozen=True)
class Preprocessed:
    """Preprocess's result and predict's event: the model, the run, the input's fingerprint and the row counts
    (rows_read = rows_valid + rows_rejected + rows_blank)."""

    model: str
    execution_id: str
    run: str
    input_uri: str
    input_sha256: str
    input_bytes: int
    rows_read: int
    rows_valid: int
    rows_rejected: int
    rows_blank: int

    def to_dict(self, bucket: str) -> dict[str, Any]:
        layout = RunLayout(bucket, self.run)
        return {
            "model": self.model,
            "execution_id": self.execution_id,
            "run": self.run,
            "input": {"uri": self.input_uri, "sha256": self.input_sha256, "bytes": self.input_bytes},
            "batch_uri": layout.uri(layout.batch_key),
            "rejected_uri": layout.uri(layout.rejected_key),
            "rows": {
                "read": self.rows_read,
                "valid": self.rows_valid,
                "rejected": self.rows_rejected,
                "blank": self.rows_blank,
            },
        }

    @classmethod
    def from_dict(cls, event: Any) -> Preprocessed:
        """Predict's check of its event; InvalidInferenceInput names the bad field."""
        try:
            rows, source = event["rows"], event["input"]
            result = cls(
                model=event["model"],
                execution_id=event["execution_id"],
                run=check_run(event["run"]),
                input_uri=source["uri"],
                input_sha256=source["sha256"],
                input_bytes=source["bytes"],
                rows_read=rows["read"],
                rows_valid=rows["valid"],
                rows_rejected=rows["rejected"],
                rows_blank=rows["blank"],
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInferenceInput(f"the predict event is not a preprocess result: {exc!r} is missing") from exc
        execution_id = result.execution_id if isinstance(result.execution_id, str) else ""
        if not isinstance(result.model, str) or not EXECUTION_NAME.fullmatch(execution_id):
            raise InvalidInferenceInput(
                f"the predict event's model {result.model!r} must be a name and its execution_id "
                f"{result.execution_id!r} an execution name"
            )
        counts = (result.rows_read, result.rows_valid, result.rows_rejected, result.rows_blank)
        if not all(type(count) is int and count >= 0 for count in counts):
            raise InvalidInferenceInput(f"the predict event's row counts {counts} must be non-negative integers")
        if result.rows_read != result.rows_valid + result.rows_rejected + result.rows_blank:
            raise InvalidInferenceInput(f"the predict event's row counts do not add up: {event['rows']}")
        return result

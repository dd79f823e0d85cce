"""The portable linear model ("ml-platform/linear-model", version 1): load, validate, dump and score model.json.

Standard library only: the inference Lambda reuses this module as is, so it never imports numpy or scikit-learn.
The format is documented field by field in training/README.md; the short version:

    expanded vector = for each feature in list order:
        numeric      one value, (x - mean) / scale; an empty value is the training mean when "missing" is "mean"
        categorical  one value per category in list order: 1.0 for the row's category, else 0.0
                     (a category not in the list, or an empty value, gives all zeros)
    probability     = sigmoid(intercept + sum(coefficients[i] * expanded[i]))
    prediction      = probability >= threshold
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

FORMAT = "ml-platform/linear-model"
FORMAT_VERSION = 1
MISSING_POLICIES = ("mean", "error")  # what an empty numeric value becomes: the training mean, or an error
# A plain decimal number as the data processor writes it; float() alone would also take "nan", "1_000", "inf".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TOP_LEVEL = (
    "format",
    "format_version",
    "label",
    "features",
    "coefficients",
    "intercept",
    "threshold",
    "training_data",
    "training",
)


class ModelFormatError(ValueError):
    """model.json is not a valid linear model; the message names the bad field (e.g. `features[2].scale`)."""


class RowError(ValueError):
    """A row cannot be scored: a missing column, or a numeric value that is not a number."""


@dataclass(frozen=True)
class NumericFeature:
    """A standardized number: (x - mean) / scale. missing "mean": an empty value scores as the mean (0.0 after
    standardization); "error": an empty value is a RowError."""

    name: str
    mean: float
    scale: float
    missing: str = "error"

    @property
    def width(self) -> int:
        return 1


@dataclass(frozen=True)
class CategoricalFeature:
    """A one-hot category: one value per entry of `categories`; an unknown or empty value gives all zeros."""

    name: str
    categories: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.categories)


# typing.Union, not `|`: this alias is evaluated at run time, and `type | type` needs Python 3.10.
Feature = Union[NumericFeature, CategoricalFeature]


@dataclass(frozen=True)
class TrainingData:
    """Where the model was trained from: the input URI, the training rows and how many of them were positive."""

    uri: str
    rows: int
    positives: int


@dataclass(frozen=True)
class LinearModel:
    """A binary logistic model over `features`; `coefficients` follow the expanded vector (module docstring).
    `training` is free-form provenance (algorithm, library version, hyperparameters), kept as given."""

    label: str
    features: tuple[Feature, ...]
    coefficients: tuple[float, ...]
    intercept: float
    threshold: float
    training_data: TrainingData
    training: Mapping[str, Any]

    @property
    def width(self) -> int:
        """Length of the expanded feature vector."""
        return sum(feature.width for feature in self.features)

    def expanded_names(self) -> list[str]:
        """One name per coefficient: the numeric feature's name, or `<feature>=<category>`."""
        names: list[str] = []
        for feature in self.features:
            if isinstance(feature, NumericFeature):
                names.append(feature.name)
            else:
                names.extend(f"{feature.name}={category}" for category in feature.categories)
        return names


# ---- reading and validation -------------------------------------------------------------------------------------


def loads(text: str | bytes) -> LinearModel:
    """Parse and validate model.json text; ModelFormatError names the first bad field."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"model.json is not valid JSON: {exc}") from exc
    return from_dict(document)


def load(path: str | Path) -> LinearModel:
    """Read and validate a model.json file."""
    try:
        return loads(Path(path).read_bytes())
    except ModelFormatError as exc:
        raise ModelFormatError(f"{path}: {exc}") from exc


def from_dict(document: Any) -> LinearModel:
    """Validate a parsed model.json document and return the model."""
    doc = _object(document, "model.json")
    unknown = sorted(set(doc) - set(_TOP_LEVEL))
    if unknown:
        raise ModelFormatError(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(_TOP_LEVEL)})")
    if _field(doc, "format") != FORMAT:
        raise ModelFormatError(f"format is {doc['format']!r}, expected {FORMAT!r}")
    version = _field(doc, "format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ModelFormatError(f"format_version {version!r} is not supported (this reader knows {FORMAT_VERSION})")
    label = _text(_field(doc, "label"), "label")
    raw_features = _field(doc, "features")
    if not isinstance(raw_features, list) or not raw_features:
        raise ModelFormatError("features must be a non-empty list")
    features = tuple(_feature(item, f"features[{i}]") for i, item in enumerate(raw_features))
    names = [feature.name for feature in features]
    for i, name in enumerate(names):
        if name == label:
            raise ModelFormatError(f"features[{i}].name {name!r} is the label")
        if name in names[:i]:
            raise ModelFormatError(f"features[{i}].name {name!r} appears twice")
    width = sum(feature.width for feature in features)
    coefficients = _field(doc, "coefficients")
    if not isinstance(coefficients, list) or len(coefficients) != width:
        count = len(coefficients) if isinstance(coefficients, list) else "not a list"
        raise ModelFormatError(f"coefficients must be a list of {width} numbers, one per expanded feature ({count})")
    threshold = _number(_field(doc, "threshold"), "threshold")
    if not 0.0 < threshold < 1.0:
        raise ModelFormatError(f"threshold {threshold} must be between 0 and 1 (exclusive)")
    return LinearModel(
        label=label,
        features=features,
        coefficients=tuple(_number(value, f"coefficients[{i}]") for i, value in enumerate(coefficients)),
        intercept=_number(_field(doc, "intercept"), "intercept"),
        threshold=threshold,
        training_data=_training_data(_field(doc, "training_data")),
        training=dict(_object(_field(doc, "training"), "training")),
    )


def _feature(item: Any, where: str) -> Feature:
    entry = _object(item, where)
    kind = _field(entry, "kind", where)
    name = _text(_field(entry, "name", where), f"{where}.name")
    if kind == "numeric":
        _only(entry, ("name", "kind", "mean", "scale", "missing"), where)
        scale = _number(_field(entry, "scale", where), f"{where}.scale")
        if scale <= 0.0:
            raise ModelFormatError(f"{where}.scale {scale} must be > 0")
        missing = _field(entry, "missing", where)
        if missing not in MISSING_POLICIES:
            raise ModelFormatError(f"{where}.missing {missing!r} must be one of {', '.join(MISSING_POLICIES)}")
        return NumericFeature(name, _number(_field(entry, "mean", where), f"{where}.mean"), scale, missing)
    if kind == "categorical":
        _only(entry, ("name", "kind", "categories"), where)
        categories = _field(entry, "categories", where)
        if not isinstance(categories, list) or not categories or not all(isinstance(c, str) for c in categories):
            raise ModelFormatError(f"{where}.categories must be a non-empty list of strings")
        if len(set(categories)) != len(categories):
            raise ModelFormatError(f"{where}.categories has duplicates")
        return CategoricalFeature(name, tuple(categories))
    raise ModelFormatError(f"{where}.kind {kind!r} must be 'numeric' or 'categorical'")


def _training_data(value: Any) -> TrainingData:
    entry = _object(value, "training_data")
    _only(entry, ("uri", "rows", "positives"), "training_data")
    rows, positives = _field(entry, "rows", "training_data"), _field(entry, "positives", "training_data")
    if type(rows) is not int or rows < 1:
        raise ModelFormatError(f"training_data.rows {rows!r} must be a positive integer")
    if type(positives) is not int or not 0 <= positives <= rows:
        raise ModelFormatError(f"training_data.positives {positives!r} must be an integer from 0 to rows ({rows})")
    return TrainingData(_text(_field(entry, "uri", "training_data"), "training_data.uri"), rows, positives)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelFormatError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _field(entry: dict[str, Any], key: str, where: str = "") -> Any:
    if key not in entry:
        raise ModelFormatError(f"{where + '.' if where else ''}{key} is missing")
    return entry[key]


def _only(entry: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise ModelFormatError(f"{where} has unknown field(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ModelFormatError(f"{where} must be a non-empty string, not {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    # bool is an int subclass: `true` is not a coefficient.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelFormatError(f"{where} must be a finite number, not {value!r}")
    return float(value)


# ---- writing ----------------------------------------------------------------------------------------------------


def to_dict(model: LinearModel) -> dict[str, Any]:
    """The model.json document of `model` (from_dict(to_dict(m)) == m)."""
    features: list[dict[str, Any]] = []
    for feature in model.features:
        if isinstance(feature, NumericFeature):
            features.append(
                {
                    "name": feature.name,
                    "kind": "numeric",
                    "mean": feature.mean,
                    "scale": feature.scale,
                    "missing": feature.missing,
                }
            )
        else:
            features.append({"name": feature.name, "kind": "categorical", "categories": list(feature.categories)})
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "label": model.label,
        "features": features,
        "coefficients": list(model.coefficients),
        "intercept": model.intercept,
        "threshold": model.threshold,
        "training_data": {
            "uri": model.training_data.uri,
            "rows": model.training_data.rows,
            "positives": model.training_data.positives,
        },
        "training": dict(model.training),
    }


def dumps(model: LinearModel) -> str:
    """model.json text: validated first, so an invalid model is never written. Floats keep full precision
    (json writes repr), so a dumped model scores exactly as the one in memory."""
    document = to_dict(model)
    from_dict(json.loads(json.dumps(document)))
    return json.dumps(document, indent=2) + "\n"


# ---- scoring ----------------------------------------------------------------------------------------------------


def expand(model: LinearModel, row: Mapping[str, Any]) -> list[float]:
    """The expanded feature vector of `row` (column name -> value as read from CSV: str; int/float/None accepted)."""
    vector: list[float] = []
    for feature in model.features:
        if feature.name not in row:
            raise RowError(f"the row has no column {feature.name!r}")
        value = row[feature.name]
        if isinstance(feature, NumericFeature):
            number = parse_number(value, feature.name)
            if number is None:
                if feature.missing != "mean":
                    raise RowError(f"column {feature.name!r} is empty (the model has no value to impute for it)")
                number = feature.mean
            vector.append((number - feature.mean) / feature.scale)
        else:
            vector.extend(1.0 if value == category else 0.0 for category in feature.categories)
    return vector


def score(model: LinearModel, row: Mapping[str, Any]) -> float:
    """The probability that `row`'s label is true."""
    vector = expand(model, row)
    if len(vector) != len(model.coefficients):  # an explicit check: zip(strict=True) needs Python 3.10
        raise ModelFormatError(f"the model has {len(model.coefficients)} coefficients for {len(vector)} features")
    logit = model.intercept + math.fsum(c * x for c, x in zip(model.coefficients, vector))
    return sigmoid(logit)


def predict(model: LinearModel, row: Mapping[str, Any]) -> bool:
    """True when score(model, row) reaches the model's threshold."""
    return score(model, row) >= model.threshold


def sigmoid(logit: float) -> float:
    """1 / (1 + e^-logit) without overflow for large |logit|."""
    if logit >= 0.0:
        return 1.0 / (1.0 + math.exp(-logit))
    exp = math.exp(logit)
    return exp / (1.0 + exp)


def parse_number(value: Any, column: str) -> float | None:
    """A finite float from a CSV field; None for an empty field (or None); RowError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError(f"column {column!r} value {value!r} is not a number")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _NUMBER.fullmatch(text):
            raise RowError(f"column {column!r} value {value!r} is not a number")
        value = float(text)
    number = float(value)
    if not math.isfinite(number):
        raise RowError(f"column {column!r} value {value!r} is not a finite number")
    return number

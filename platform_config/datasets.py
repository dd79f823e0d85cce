"""Load and validate platform_config/datasets.toml: the schemas of the datasets the processor accepts.

Every problem raises ConfigError(env="datasets", key="<dataset>.<column>.<key>", value, reason), so a bad
schema fails synth (and the tests) with one line naming what to fix. `schemas_json()` renders the loaded
schemas as the JSON the data-processor Lambda reads (lambdas/data_processor/schema.py); it is the only
contract between the two sides:

    {"format_version": 1,
     "datasets": {"<name>": {"name": "<name>", "description": "...", "max_object_mib": 1024,
                             "max_row_kib": 256,
                             "columns": [{"name": "...", "type": "int", "required": true,
                                          "min": 0, "max": 600}, ...]}}}

A column carries `min`/`max` only when set (int/float), `allowed` only for enum, `pattern` only when set
(string). `python -m platform_config.datasets [--out PATH]` prints or writes that JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platform_config.loader import REPO_ROOT, ConfigError

if TYPE_CHECKING:
    from platform_config.model import EnvironmentConfig

DEFAULT_DATASETS_FILE = REPO_ROOT / "platform_config" / "datasets.toml"
SCHEMAS_FORMAT_VERSION = 1
COLUMN_TYPES = ("string", "int", "float", "bool", "date", "enum")
NUMERIC_TYPES = ("int", "float")

# A dataset name is one S3 path segment of incoming/<dataset>/ and a partition prefix of processed/.
_DATASET_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
# Column names end up in CSV headers and in reasons ("<column>: ..."); keep them identifiers.
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_DATASET_KEYS = {"description", "max_object_mib", "max_row_kib", "columns"}
# A row (a record's field text) larger than this is rejected on its own, never the whole file. 256 KiB is twice
# the csv module's own field limit and leaves room for wide text columns; the processor sizes its batches from
# the bound, so memory stays flat whatever the value (see lambdas/data_processor/processing.py).
DEFAULT_MAX_ROW_KIB = 256
MAX_ROW_KIB_LIMIT = 16 * 1024  # 16 MiB: a "row" beyond that is a document, not a CSV record
_COLUMN_KEYS = {"name", "type", "required", "min", "max", "allowed", "pattern"}
_ENV = "datasets"


@dataclass(frozen=True)
class ColumnSpec:
    """One CSV column. required defaults to True; min/max/pattern default to None; allowed to ()."""

    name: str
    type: str
    required: bool = True
    min: int | float | None = None
    max: int | float | None = None
    allowed: tuple[str, ...] = ()
    pattern: str | None = None

    def to_json(self) -> dict[str, Any]:
        """This column in the schemas.json format (optional keys only when set)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.type == "enum":
            out["allowed"] = list(self.allowed)
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out


@dataclass(frozen=True)
class DatasetSchema:
    """A dataset: its columns in header order, the largest object the processor reads and the largest row
    (max_row_kib, default DEFAULT_MAX_ROW_KIB) it accepts; description defaults to ""."""

    name: str
    columns: tuple[ColumnSpec, ...]
    max_object_mib: int
    description: str = ""
    max_row_kib: int = DEFAULT_MAX_ROW_KIB

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def to_json(self) -> dict[str, Any]:
        """This dataset in the schemas.json format."""
        return {
            "name": self.name,
            "description": self.description,
            "max_object_mib": self.max_object_mib,
            "max_row_kib": self.max_row_kib,
            "columns": [column.to_json() for column in self.columns],
        }


def load_datasets(path: Path = DEFAULT_DATASETS_FILE) -> dict[str, DatasetSchema]:
    """Every dataset of `path` (default platform_config/datasets.toml), validated, keyed by name."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_ENV, "file", Path(path).name, f"not valid TOML: {exc}") from exc
    if not raw:
        raise ConfigError(_ENV, "file", Path(path).name, "declares no dataset")
    return {name: _dataset(name, body) for name, body in raw.items()}


def training_dataset(config: EnvironmentConfig, datasets: dict[str, DatasetSchema]) -> DatasetSchema:
    """The dataset `[<env>.training]` trains on, checked: it exists and its `label` is one of its bool columns;
    a ConfigError names the key otherwise. Training and serving both start from it."""
    training = config.training
    if training.dataset not in datasets:
        known = ", ".join(sorted(datasets))
        raise ConfigError(config.name, "training.dataset", training.dataset, f"not in datasets.toml ({known})")
    dataset = datasets[training.dataset]
    label = next((column for column in dataset.columns if column.name == training.label), None)
    if label is None or label.type != "bool":
        raise ConfigError(
            config.name, "training.label", training.label, f"not a bool column of dataset {training.dataset!r}"
        )
    return dataset


def schemas_json(datasets: dict[str, DatasetSchema]) -> str:
    """The schemas.json text packaged with the data-processor Lambda (stable: sorted keys, trailing newline)."""
    document = {
        "format_version": SCHEMAS_FORMAT_VERSION,
        "datasets": {name: datasets[name].to_json() for name in sorted(datasets)},
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _dataset(name: str, body: Any) -> DatasetSchema:
    if not _DATASET_NAME.fullmatch(name):
        raise ConfigError(_ENV, name, name, "dataset name must match [a-z][a-z0-9_-]* (at most 63 characters)")
    if not isinstance(body, dict):
        raise ConfigError(_ENV, name, body, "must be a table")
    for key in body:
        if key not in _DATASET_KEYS:
            raise ConfigError(
                _ENV, f"{name}.{key}", body[key], f"unknown key; expected one of {', '.join(sorted(_DATASET_KEYS))}"
            )
    description = body.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(_ENV, f"{name}.description", description, "must be a string")
    limit = body.get("max_object_mib")
    if limit is None:
        raise ConfigError(_ENV, f"{name}.max_object_mib", None, "required key is missing")
    if not _is_int(limit) or limit <= 0:
        raise ConfigError(_ENV, f"{name}.max_object_mib", limit, "must be a positive integer")
    row_kib = body.get("max_row_kib", DEFAULT_MAX_ROW_KIB)
    if not _is_int(row_kib) or not 0 < row_kib <= MAX_ROW_KIB_LIMIT:
        raise ConfigError(
            _ENV, f"{name}.max_row_kib", row_kib, f"must be an integer from 1 to {MAX_ROW_KIB_LIMIT} (KiB)"
        )
    columns_raw = body.get("columns")
    if not isinstance(columns_raw, list) or not columns_raw:
        raise ConfigError(_ENV, f"{name}.columns", columns_raw, "must be a non-empty array of tables")
    columns: list[ColumnSpec] = []
    seen: set[str] = set()
    for index, column_raw in enumerate(columns_raw):
        column = _column(name, index, column_raw)
        if column.name in seen:
            raise ConfigError(_ENV, f"{name}.{column.name}.name", column.name, "duplicate column name")
        seen.add(column.name)
        columns.append(column)
    return DatasetSchema(
        name=name, columns=tuple(columns), max_object_mib=limit, description=description, max_row_kib=row_kib
    )


def _column(dataset: str, index: int, raw: Any) -> ColumnSpec:
    if not isinstance(raw, dict):
        raise ConfigError(_ENV, f"{dataset}.columns[{index}]", raw, "must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not _COLUMN_NAME.fullmatch(name):
        raise ConfigError(
            _ENV,
            f"{dataset}.columns[{index}].name",
            name,
            "column name must match [A-Za-z_][A-Za-z0-9_]* (at most 128 characters)",
        )
    where = f"{dataset}.{name}"
    for key in raw:
        if key not in _COLUMN_KEYS:
            raise ConfigError(
                _ENV, f"{where}.{key}", raw[key], f"unknown key; expected one of {', '.join(sorted(_COLUMN_KEYS))}"
            )
    type_ = raw.get("type")
    if type_ not in COLUMN_TYPES:
        raise ConfigError(_ENV, f"{where}.type", type_, f"unknown type; expected one of {', '.join(COLUMN_TYPES)}")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise ConfigError(_ENV, f"{where}.required", required, "must be true or false")
    low, high = _bound(where, "min", type_, raw), _bound(where, "max", type_, raw)
    if low is not None and high is not None and low > high:
        raise ConfigError(_ENV, f"{where}.min", low, f"is greater than max {high}")
    return ColumnSpec(
        name=name,
        type=type_,
        required=required,
        min=low,
        max=high,
        allowed=_allowed(where, type_, raw),
        pattern=_pattern(where, type_, raw),
    )


def _bound(where: str, key: str, type_: str, raw: dict[str, Any]) -> int | float | None:
    if key not in raw:
        return None
    value = raw[key]
    if type_ not in NUMERIC_TYPES:
        raise ConfigError(_ENV, f"{where}.{key}", value, f"only int and float columns take {key}, not {type_}")
    if type_ == "int" and not _is_int(value):
        raise ConfigError(_ENV, f"{where}.{key}", value, "must be an integer for an int column")
    if type_ == "float" and not (_is_int(value) or (isinstance(value, float) and math.isfinite(value))):
        raise ConfigError(_ENV, f"{where}.{key}", value, "must be a finite number")
    return value


def _allowed(where: str, type_: str, raw: dict[str, Any]) -> tuple[str, ...]:
    if type_ != "enum":
        if "allowed" in raw:
            raise ConfigError(_ENV, f"{where}.allowed", raw["allowed"], f"only enum columns take allowed, not {type_}")
        return ()
    allowed = raw.get("allowed")
    if allowed is None:
        raise ConfigError(_ENV, f"{where}.allowed", None, "an enum column needs allowed values")
    if not isinstance(allowed, list) or not allowed:
        raise ConfigError(_ENV, f"{where}.allowed", allowed, "must be a non-empty array of strings")
    for value in allowed:
        if not isinstance(value, str) or not value:
            raise ConfigError(
                _ENV,
                f"{where}.allowed",
                value,
                "each allowed value must be a non-empty string (use required = false for empty)",
            )
    duplicates = sorted({value for value in allowed if allowed.count(value) > 1})
    if duplicates:
        raise ConfigError(_ENV, f"{where}.allowed", duplicates[0], "duplicate allowed value")
    return tuple(allowed)


def _pattern(where: str, type_: str, raw: dict[str, Any]) -> str | None:
    if "pattern" not in raw:
        return None
    pattern = raw["pattern"]
    if type_ != "string":
        raise ConfigError(_ENV, f"{where}.pattern", pattern, f"only string columns take pattern, not {type_}")
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(_ENV, f"{where}.pattern", pattern, "must be a non-empty regular expression")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(_ENV, f"{where}.pattern", pattern, f"not a valid regular expression: {exc}") from exc
    return pattern


def _is_int(value: Any) -> bool:
    # bool is an int subclass; `true` is never a valid bound or size.
    return isinstance(value, int) and not isinstance(value, bool)


def main(argv: list[str] | None = None) -> int:
    """Print (or write with --out) the schemas.json of platform_config/datasets.toml."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--config", type=Path, default=DEFAULT_DATASETS_FILE, help="datasets TOML file")
    parser.add_argument("--out", type=Path, help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    text = schemas_json(load_datasets(args.config))
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

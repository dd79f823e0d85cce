"""platform_config.datasets: the churn schema loads, every bad input names key and value, and
schemas_json is exactly what the Lambda reads."""

from __future__ import annotations

import json
import textwrap

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest

from data_processor.schema import parse_schemas
from platform_config.datasets import ColumnSpec, DatasetSchema, load_datasets, main, schemas_json
from platform_config.loader import ConfigError
from sample_data import COLUMNS

VALID = """
[orders]
description = "test"
max_object_mib = 10

[[orders.columns]]
name = "order_id"
type = "string"
pattern = "O[0-9]+"

[[orders.columns]]
name = "amount"
type = "float"
required = false
min = 0
max = 1e6

[[orders.columns]]
name = "status"
type = "enum"
allowed = ["open", "closed"]
"""


def load_text(tmp_path, text: str):
    path = tmp_path / "datasets.toml"
    path.write_text(textwrap.dedent(text))
    return load_datasets(path)


def test_the_repository_declares_the_churn_dataset():
    churn = load_datasets()["churn"]
    assert churn.column_names == COLUMNS, "sample_data generates the declared columns"
    assert churn.max_object_mib == 1024
    assert churn.max_row_kib == 256, "the default"
    by_name = {column.name: column for column in churn.columns}
    assert by_name["tenure_months"] == ColumnSpec("tenure_months", "int", True, 0, 600)
    assert by_name["contract"].allowed == ("month-to-month", "one-year", "two-year")
    assert by_name["total_charges"].required is False
    assert by_name["customer_id"].pattern == "CUST-[0-9]{8}"


def test_a_valid_file_loads_into_frozen_dataclasses(tmp_path):
    orders = load_text(tmp_path, VALID)["orders"]
    assert orders == DatasetSchema(
        "orders",
        (
            ColumnSpec("order_id", "string", pattern="O[0-9]+"),
            ColumnSpec("amount", "float", required=False, min=0, max=1e6),
            ColumnSpec("status", "enum", allowed=("open", "closed")),
        ),
        max_object_mib=10,
        description="test",
    )
    with pytest.raises(AttributeError):
        orders.name = "x"  # type: ignore[misc]


def replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "key", "value", "reason"),
    [
        (replace('description = "test"', 'owner = "me"'), "orders.owner", "me", "unknown key"),
        (
            replace("max_object_mib = 10", "max_object_mib = 0"),
            "orders.max_object_mib",
            0,
            "must be a positive integer",
        ),
        (replace("max_object_mib = 10", "max_object_mib = -5"), "orders.max_object_mib", -5, "positive integer"),
        (replace("max_object_mib = 10", "max_object_mib = true"), "orders.max_object_mib", True, "positive integer"),
        (replace("max_object_mib = 10", ""), "orders.max_object_mib", None, "required key is missing"),
        (
            replace("max_object_mib = 10", "max_object_mib = 10\nmax_row_kib = 0"),
            "orders.max_row_kib",
            0,
            "must be an integer from 1 to 16384 (KiB)",
        ),
        (
            replace("max_object_mib = 10", "max_object_mib = 10\nmax_row_kib = 16385"),
            "orders.max_row_kib",
            16385,
            "from 1 to 16384",
        ),
        (
            replace("max_object_mib = 10", "max_object_mib = 10\nmax_row_kib = 2.5"),
            "orders.max_row_kib",
            2.5,
            "integer",
        ),
        (
            replace("max_object_mib = 10", "max_object_mib = 10\nmax_row_kib = true"),
            "orders.max_row_kib",
            True,
            "integer",
        ),
        (replace('type = "float"', 'type = "money"'), "orders.amount.type", "money", "unknown type"),
        (replace('type = "float"', 'type = "float"\nunit = "EUR"'), "orders.amount.unit", "EUR", "unknown key"),
        (replace("min = 0", "min = 2e6"), "orders.amount.min", 2e6, "is greater than max 1000000.0"),
        (replace("max = 1e6", "max = nan"), "orders.amount.max", "nan", "must be a finite number"),
        (replace("min = 0", 'min = "0"'), "orders.amount.min", "0", "must be a finite number"),
        (replace("required = false", 'required = "no"'), "orders.amount.required", "no", "must be true or false"),
        (replace('allowed = ["open", "closed"]', ""), "orders.status.allowed", None, "needs allowed values"),
        (replace('allowed = ["open", "closed"]', "allowed = []"), "orders.status.allowed", [], "non-empty array"),
        (
            replace('allowed = ["open", "closed"]', 'allowed = ["open", "open"]'),
            "orders.status.allowed",
            "open",
            "duplicate allowed value",
        ),
        (
            replace('allowed = ["open", "closed"]', 'allowed = ["open", ""]'),
            "orders.status.allowed",
            "",
            "non-empty string",
        ),
        (
            replace('pattern = "O[0-9]+"', 'pattern = "O[0-9+"'),
            "orders.order_id.pattern",
            "O[0-9+",
            "not a valid regular expression",
        ),
        (replace("max = 1e6", 'max = 1e6\npattern = "x"'), "orders.amount.pattern", "x", "only string columns"),
        (replace('type = "string"', 'type = "int"'), "orders.order_id.pattern", "O[0-9]+", "only string columns"),
        (replace('name = "amount"', 'name = "order_id"'), "orders.order_id.name", "order_id", "duplicate column name"),
        (
            replace('name = "amount"', 'name = "total amount"'),
            "orders.columns[1].name",
            "total amount",
            "column name must match",
        ),
        (
            replace('name = "status"\ntype = "enum"', 'name = "status"\ntype = "int"'),
            "orders.status.allowed",
            ["open", "closed"],
            "only enum columns take allowed",
        ),
        (replace('type = "string"', 'type = "bool"\nmin = 1'), "orders.order_id.min", 1, "only int and float columns"),
        (
            VALID.replace("[orders]", "[Orders]").replace("[[orders.", "[[Orders."),
            "Orders",
            "Orders",
            "dataset name must match",
        ),
        ("[orders]\nmax_object_mib = 1\ncolumns = []\n", "orders.columns", [], "non-empty array of tables"),
        ("", "file", "datasets.toml", "declares no dataset"),
        ("[orders\n", "file", "datasets.toml", "not valid TOML"),
    ],
)
def test_every_bad_input_names_the_key_and_value(tmp_path, text, key, value, reason):
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    error = caught.value
    assert (error.env, error.key) == ("datasets", key)
    assert error.value == value or (value == "nan" and error.value != error.value)
    assert reason in error.reason
    assert str(error).startswith(f"config [datasets] {key} = ")


def test_max_row_kib_is_read_and_carried_to_the_lambda(tmp_path):
    orders = load_text(tmp_path, replace("max_object_mib = 10", "max_object_mib = 10\nmax_row_kib = 4"))["orders"]
    assert orders.max_row_kib == 4
    assert parse_schemas(schemas_json({"orders": orders}))["orders"].max_row_chars == 4 * 1024


def test_int_bounds_must_be_integers(tmp_path):
    text = replace('type = "float"', 'type = "int"').replace("max = 1e6", "max = 10.5")
    with pytest.raises(ConfigError, match=r"orders.amount.max = 10.5: must be an integer"):
        load_text(tmp_path, text)


def test_schemas_json_is_the_documented_format(tmp_path):
    document = json.loads(schemas_json(load_text(tmp_path, VALID)))
    assert document == {
        "format_version": 1,
        "datasets": {
            "orders": {
                "name": "orders",
                "description": "test",
                "max_object_mib": 10,
                "max_row_kib": 256,
                "columns": [
                    {"name": "order_id", "type": "string", "required": True, "pattern": "O[0-9]+"},
                    {"name": "amount", "type": "float", "required": False, "min": 0, "max": 1e6},
                    {"name": "status", "type": "enum", "required": True, "allowed": ["open", "closed"]},
                ],
            }
        },
    }


def test_schemas_json_is_stable_and_read_by_the_lambda():
    text = schemas_json(load_datasets())
    assert text == schemas_json(load_datasets()) and text.endswith("\n")
    compiled = parse_schemas(text)
    assert compiled["churn"].columns == COLUMNS


def test_cli_prints_or_writes_the_json(tmp_path, capsys):
    assert main([]) == 0
    assert json.loads(capsys.readouterr().out)["datasets"]["churn"]["name"] == "churn"
    out = tmp_path / "schemas.json"
    assert main(["--out", str(out)]) == 0
    assert out.read_text() == schemas_json(load_datasets())

"""Row validation (data_processor.schema): every rule, its message, and the fast path agreeing with the
exact one."""

from __future__ import annotations

import json
import random

import lambda_support  # noqa: F401  - puts lambdas/ on sys.path
import pytest

from data_processor.schema import SchemaError, compile_column, compile_dataset, parse_schemas
from sample_data import generate_rows

GOOD = [
    "CUST-00000001",
    "2024-02-29",
    "12",
    "70.50",
    "845.10",
    "one-year",
    "credit-card",
    "dsl",
    "2",
    "europe",
    "false",
]


def with_value(column: int, value: str) -> list[str]:
    row = list(GOOD)
    row[column] = value
    return row


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (0, "", "customer_id: required value is missing"),
        (0, "C-12", "customer_id: 'C-12' does not match the pattern CUST-[0-9]{8}"),
        (0, "CUST-000000011", "customer_id: 'CUST-000000011' does not match the pattern CUST-[0-9]{8}"),
        (1, "2024-02-30", "signup_date: '2024-02-30' is not a valid date (YYYY-MM-DD)"),
        (1, "2023-02-29", "signup_date: '2023-02-29' is not a valid date (YYYY-MM-DD)"),
        (1, "20240101", "signup_date: '20240101' is not a valid date (YYYY-MM-DD)"),
        (1, "31/12/2023", "signup_date: '31/12/2023' is not a valid date (YYYY-MM-DD)"),
        (2, "-3", "tenure_months: '-3' is below the minimum 0"),
        (2, "601", "tenure_months: '601' is above the maximum 600"),
        (2, "1.5", "tenure_months: '1.5' is not an integer"),
        (2, " 5", "tenure_months: ' 5' is not an integer"),
        (2, "1_000", "tenure_months: '1_000' is not an integer"),
        (2, "1" * 19, f"tenure_months: '{'1' * 19}' has more than 18 digits"),
        (3, "N/A", "monthly_charges: 'N/A' is not a number"),
        (3, "nan", "monthly_charges: 'nan' is not a number"),
        (3, "inf", "monthly_charges: 'inf' is not a number"),
        (3, "-0.01", "monthly_charges: '-0.01' is below the minimum 0"),
        (3, "10000.01", "monthly_charges: '10000.01' is above the maximum 10000"),
        (3, "1e999", "monthly_charges: '1e999' is above the maximum 10000"),
        (5, "weekly", "contract: 'weekly' is not one of month-to-month, one-year, two-year"),
        (5, "One-Year", "contract: 'One-Year' is not one of month-to-month, one-year, two-year"),
        (10, "yes", "churned: 'yes' is not a boolean (true or false)"),
        (10, "", "churned: required value is missing"),
    ],
)
def test_each_rule_rejects_with_a_specific_stable_reason(churn, column, value, reason):
    row = with_value(column, value)
    assert not churn.is_valid(row)
    assert not churn.fast_flags([row])[0]
    assert churn.explain(row) == reason


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (1, "2024-02-29"),
        (1, "2023-12-31"),
        (1, "2023-04-30"),  # dates the fast regex leaves to the exact check
        (2, "0"),
        (2, "600"),
        (2, "007"),
        (2, "-0"),  # non-canonical ints leave the fast set
        (3, "0"),
        (3, "10000"),
        (3, "10000.0"),
        (3, "1e3"),
        (3, ".5"),
        (3, "5."),
        (4, ""),  # total_charges is optional
        (8, "100"),
        (10, "true"),
    ],
)
def test_valid_values_pass_even_where_the_fast_check_declines(churn, column, value):
    row = with_value(column, value)
    assert churn.is_valid(row)
    assert churn.explain(row) == "rejected by the schema (no reason found)"


def test_wrong_field_count_is_reported_before_values(churn):
    assert churn.explain(GOOD[:9]) == "expected 11 fields, got 9"
    assert churn.explain([*GOOD, "x"]) == "expected 11 fields, got 12"
    assert churn.explain([]) == "expected 11 fields, got 0"
    assert not any(churn.fast_flags([GOOD[:9], [], [*GOOD, "x"]]))


def test_every_failing_column_is_listed_in_column_order(churn):
    row = with_value(2, "-1")
    row[5] = "weekly"
    assert churn.explain(row) == (
        "tenure_months: '-1' is below the minimum 0; "
        "contract: 'weekly' is not one of month-to-month, one-year, two-year"
    )


def test_long_values_are_cut_in_reasons(churn):
    reason = churn.explain(with_value(5, "x" * 100))
    assert "'" + "x" * 37 + "...'" in reason and "x" * 41 not in reason


def test_fast_flags_never_accept_an_invalid_row_and_agree_with_is_valid(churn):
    """Generated rows of every defect kind, plus random mutations: a fast True implies is_valid."""
    rng = random.Random(5)
    rows = [list(sample.fields) for sample in generate_rows(3000, seed=9, bad_fraction=0.3)]
    alphabet = ["", "0", "-1", "1e5", "true", "2024-02-30", "x", "dsl", "99999999", "CUST-1", " ", "1.", "."]
    for _ in range(3000):
        row = list(GOOD)
        row[rng.randrange(11)] = rng.choice(alphabet)
        rows.append(row)
    flags = churn.fast_flags(rows)
    exact = [churn.is_valid(row) for row in rows]
    assert all(valid for flag, valid in zip(flags, exact, strict=True) if flag)
    generated = 3000
    assert sum(flags[:generated]) >= 0.99 * sum(exact[:generated]), "the fast path handles realistic rows"
    for row, valid in zip(rows, exact, strict=True):
        assert valid == (churn.explain(row) == "rejected by the schema (no reason found)")


def test_sample_rows_are_valid_and_defects_are_invalid(churn):
    for sample in generate_rows(2000, seed=4, bad_fraction=0.1):
        assert churn.is_valid(list(sample.fields)) == (sample.defect is None), sample


def test_fast_flags_handle_batches_of_short_rows_only(churn):
    assert churn.fast_flags([["a"], []]) == [False, False]


@pytest.mark.parametrize(
    ("spec", "good", "bad"),
    [
        ({"name": "n", "type": "int", "required": False, "min": -5, "max": 5}, ["", "-5", "5", "0"], ["-6", "6", "x"]),
        ({"name": "n", "type": "int", "min": 10}, ["10", "99999999999"], ["9", "-10"]),
        ({"name": "n", "type": "int"}, ["-123456789012345678", "0"], ["", "1.0"]),
        ({"name": "n", "type": "float", "min": 0.5, "max": 0.75}, ["0.5", "0.75", "6e-1"], ["0.4", "0.76", "0"]),
        ({"name": "n", "type": "float"}, ["-1e300", "12.5"], ["1e400", "-1e400", "NaN", ""]),
        ({"name": "s", "type": "string", "required": False}, ["", "anything, at all"], []),
        ({"name": "s", "type": "string"}, ["x"], [""]),
        ({"name": "s", "type": "string", "pattern": "[a-z]*"}, ["abc"], ["", "ABC"]),
        ({"name": "s", "type": "string", "required": False, "pattern": "(?i)[a-z]+"}, ["", "AbC"], ["1"]),
        ({"name": "e", "type": "enum", "required": False, "allowed": ["a", "b"]}, ["", "a"], ["c", "A"]),
        (
            {"name": "d", "type": "date", "required": False},
            ["", "2000-02-29", "1999-12-31"],
            ["1900-02-29", "2000-1-1"],
        ),
        ({"name": "b", "type": "bool", "required": False}, ["", "true", "false"], ["True", "0"]),
    ],
)
def test_column_rules_of_every_type(spec, good, bad):
    rule = compile_column(spec)
    check = rule.accepts or (lambda value: True)
    for value in good:
        assert check(value) and rule.explain(value) is None, value
    for value in bad:
        assert not check(value), value
        assert rule.explain(value).startswith(f"{spec['name']}: "), value
        assert not (rule.fast or check)(value), f"fast check accepted {value!r}"


def test_schemas_json_from_the_config_compiles(churn):
    assert churn.columns[0] == "customer_id" and churn.field_count == 11
    assert churn.max_object_bytes == 1024 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        (json.dumps({"format_version": 2, "datasets": {}}), "format_version 1"),
        (json.dumps({"format_version": 1, "datasets": {}}), "declares no dataset"),
        (
            json.dumps(
                {
                    "format_version": 1,
                    "datasets": {
                        "d": {
                            "name": "d",
                            "max_object_mib": 1,
                            "max_row_kib": 1,
                            "columns": [{"name": "c", "type": "money"}],
                        }
                    },
                }
            ),
            "unknown type 'money'",
        ),
        (json.dumps({"format_version": 1, "datasets": {"d": {"name": "d", "columns": []}}}), "max_object_mib"),
        (
            json.dumps({"format_version": 1, "datasets": {"d": {"name": "d", "max_object_mib": 1, "columns": []}}}),
            "max_row_kib",
        ),
    ],
)
def test_malformed_schemas_json_is_a_schema_error(text, message):
    with pytest.raises(SchemaError, match=message):
        parse_schemas(text)


def test_dataset_with_a_single_checked_column():
    schema = compile_dataset(
        {
            "name": "d",
            "max_object_mib": 1,
            "max_row_kib": 1,
            "columns": [
                {"name": "free", "type": "string", "required": False},
                {"name": "n", "type": "int", "min": 0, "max": 9},
            ],
        }
    )
    assert schema.fast_flags([["x", "5"], ["x", "10"]]) == [True, False]
    assert schema.is_valid(["", "9"]) and not schema.is_valid(["", "-1"])

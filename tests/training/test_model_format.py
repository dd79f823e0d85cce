"""model_format: model.json round-trips, every bad field is named, scoring equals scikit-learn's, stdlib only."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import model_format
from model_format import ModelFormatError, RowError
from tests.training import fitted_model
from tests.training.conftest import TRAINING_DIR


@pytest.fixture(scope="module")
def trained() -> dict[str, Any]:
    """A model fitted on 1500 churn rows, and a test table of 500 other rows (some with an unknown region)."""
    fitted = fitted_model.trained()
    return {"fitted": fitted.fitted, "model": fitted.model, "test": fitted.test_table}


def test_model_json_round_trips(trained: dict[str, Any]) -> None:
    text = model_format.dumps(trained["model"])
    loaded = model_format.loads(text)
    assert loaded == trained["model"]
    assert model_format.dumps(loaded) == text
    document = json.loads(text)
    assert model_format.to_dict(model_format.from_dict(document)) == document


def test_stdlib_scores_equal_scikit_learn_predict_proba(trained: dict[str, Any]) -> None:
    test = trained["test"]
    # The comparison must cover the imputed and the unknown-category paths, not only plain rows.
    assert "" in test.column("total_charges") and "antarctica" in test.column("region")
    model = model_format.loads(model_format.dumps(trained["model"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn warns about the unknown category
        expected = trained["fitted"].predict_proba(test)
    scores = [model_format.score(model, record) for record in test.records()]
    assert max(abs(a - b) for a, b in zip(scores, expected, strict=True)) < 1e-9
    assert [model_format.predict(model, r) for r in test.records()] == [s >= model.threshold for s in scores]


def test_unknown_or_empty_category_expands_to_zeros_and_missing_number_to_the_mean(trained: dict[str, Any]) -> None:
    model = trained["model"]
    row = next(trained["test"].records())
    names = model.expanded_names()
    for value in ("antarctica", ""):
        vector = model_format.expand(model, {**row, "region": value})
        assert [x for name, x in zip(names, vector, strict=True) if name.startswith("region=")] == [0.0] * 5
    vector = model_format.expand(model, {**row, "total_charges": ""})
    assert vector[names.index("total_charges")] == 0.0  # the training mean, standardized


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tenure_months": ""}, "column 'tenure_months' is empty"),
        ({"monthly_charges": "12,50"}, "column 'monthly_charges' value '12,50' is not a number"),
        ({"monthly_charges": "nan"}, "column 'monthly_charges' value 'nan' is not a number"),
        ({"support_calls": 1e400}, "is not a finite number"),
    ],
)
def test_a_row_that_cannot_be_scored_names_the_column(trained: dict[str, Any], change: dict, message: str) -> None:
    row = {**next(trained["test"].records()), **change}
    with pytest.raises(RowError, match=message):
        model_format.score(trained["model"], row)


def test_a_row_without_a_feature_column_is_refused(trained: dict[str, Any]) -> None:
    row = next(trained["test"].records())
    del row["contract"]
    with pytest.raises(RowError, match="no column 'contract'"):
        model_format.score(trained["model"], row)


def test_a_model_whose_coefficients_do_not_fit_its_features_cannot_score(trained: dict[str, Any]) -> None:
    # LinearModel built in code skips from_dict's width check; score checks it itself (no zip(strict=True) on 3.9).
    model = dataclasses.replace(trained["model"], coefficients=trained["model"].coefficients[:-1])
    width = trained["model"].width
    with pytest.raises(ModelFormatError, match=f"the model has {width - 1} coefficients for {width} features"):
        model_format.score(model, next(trained["test"].records()))


def _set(document: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        document = document[int(key)] if isinstance(document, list) else document[key]
    if value is _DELETE:
        del document[last]
    elif isinstance(document, list):
        document[int(last)] = value
    else:
        document[last] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", _DELETE, "format is missing"),
        ("format", "onnx", "format is 'onnx', expected 'ml-platform/linear-model'"),
        ("format_version", 2, "format_version 2 is not supported"),
        ("label", "", "label must be a non-empty string"),
        ("features.0.scale", 0, r"features\[0\].scale 0.0 must be > 0"),
        ("features.0.mean", "12", r"features\[0\].mean must be a finite number"),
        ("features.2.missing", "zero", r"features\[2\].missing 'zero' must be one of mean, error"),
        ("features.0.kind", "ordinal", r"features\[0\].kind 'ordinal' must be 'numeric' or 'categorical'"),
        ("features.1.name", "tenure_months", r"features\[1\].name 'tenure_months' appears twice"),
        ("features.1.name", "churned", r"features\[1\].name 'churned' is the label"),
        ("features.4.categories", [], r"features\[4\].categories must be a non-empty list"),
        ("features.4.categories", ["a", "a", "b"], r"features\[4\].categories has duplicates"),
        ("features.4.colour", "red", r"features\[4\] has unknown field\(s\) colour"),
        ("coefficients.3", True, r"coefficients\[3\] must be a finite number"),
        ("intercept", None, "intercept must be a finite number"),
        ("threshold", 1.0, "threshold 1.0 must be between 0 and 1"),
        ("training_data.rows", 0, "training_data.rows 0 must be a positive integer"),
        ("training_data.positives", 10**9, "training_data.positives 1000000000 must be an integer from 0 to rows"),
        ("training_data.uri", _DELETE, "training_data.uri is missing"),
        ("training", [], "training must be a JSON object"),
        ("extra", 1, r"unknown field\(s\) extra"),
    ],
)
def test_an_invalid_model_names_the_bad_field(trained: dict[str, Any], path: str, value: Any, message: str) -> None:
    document = copy.deepcopy(model_format.to_dict(trained["model"]))
    _set(document, path, value)
    with pytest.raises(ModelFormatError, match=message):
        model_format.from_dict(document)


def test_coefficients_must_match_the_expanded_width(trained: dict[str, Any]) -> None:
    document = model_format.to_dict(trained["model"])
    document["coefficients"].pop()
    width = trained["model"].width
    with pytest.raises(ModelFormatError, match=f"coefficients must be a list of {width} numbers"):
        model_format.from_dict(document)


def test_load_names_the_file_of_an_invalid_model(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("{not json")
    with pytest.raises(ModelFormatError, match=f"{path}: model.json is not valid JSON"):
        model_format.load(path)


def test_model_format_and_model_archive_import_only_the_standard_library() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import model_format, model_archive; "
        "ours = {'model_format', 'model_archive', '__main__'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names) - ours))"
    )
    # -I -S: no site-packages at all, so an import of numpy or scikit-learn would fail outright.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(TRAINING_DIR)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

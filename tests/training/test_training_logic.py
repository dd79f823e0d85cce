"""The pure pieces: the model learns, the split is stratified and seeded, the metrics equal scikit-learn's,
names and versions, the feature spec follows datasets.toml, outputs are all or nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sklearn import metrics as sk

import model_format
from atomic_output import staged_directory, staged_files
from classification_metrics import classification_metrics, log_loss, roc_auc
from csv_data import read_table
from feature_spec import CHURN, FeatureSpec
from model_naming import check_model_name, check_model_version, resolve_version
from platform_config.datasets import load_datasets
from prepare import stratified_split
from tests.training.conftest import LABEL, churn_rows, files_under, separable_rows, write_csv
from train import export, fit


def _auc_of_fitted(tmp_path: Path, rows: list[list[str]]) -> float:
    train_table = read_table([write_csv(tmp_path / "train.csv", rows[:600])], LABEL, CHURN)
    test_table = read_table([write_csv(tmp_path / "test.csv", rows[600:])], LABEL, CHURN)
    fitted, _ = fit(train_table, CHURN, regularization=1.0, max_iter=1000)
    model = export(fitted, train_table, threshold=0.5, training_data_uri="s3://b/p/", converged=True)
    scores = [model_format.score(model, record) for record in test_table.records()]
    return roc_auc(test_table.labels, scores)


def test_the_model_ranks_a_separable_sample_almost_perfectly(tmp_path: Path) -> None:
    assert _auc_of_fitted(tmp_path, separable_rows(900, seed=3)) > 0.97


def test_the_model_learns_the_generated_churn_signal(tmp_path: Path) -> None:
    # sample_data draws churn from contract, tenure, service, payment and calls: a fair model gets well above 0.5.
    assert _auc_of_fitted(tmp_path, churn_rows(900, seed=4)) > 0.75


def test_the_split_is_stratified_disjoint_complete_and_seeded() -> None:
    rng = random.Random(0)
    labels = [1 if rng.random() < 0.3 else 0 for _ in range(1000)]
    train, test = stratified_split(labels, 0.2, seed=42)
    assert sorted(train + test) == list(range(1000))
    for value in (0, 1):
        total = labels.count(value)
        assert sum(labels[i] == value for i in test) == round(total * 0.2)
    assert stratified_split(labels, 0.2, seed=42) == (train, test)
    assert stratified_split(labels, 0.2, seed=43)[1] != test


def test_a_tiny_class_still_lands_in_both_splits() -> None:
    train, test = stratified_split([0] * 50 + [1, 1], 0.2, seed=1)
    assert {50, 51} & set(train) and {50, 51} & set(test)


def test_metrics_equal_scikit_learns_including_ties() -> None:
    rng = random.Random(9)
    labels = [rng.randint(0, 1) for _ in range(400)]
    # Rounded scores make many ties, which the rank-based AUC must average as scikit-learn does.
    scores = [round(min(0.99, max(0.01, 0.35 * y + rng.random() * 0.65)), 1) for y in labels]
    got = classification_metrics(labels, scores, threshold=0.5)
    predicted = [int(s >= 0.5) for s in scores]
    expected = {
        "auc": sk.roc_auc_score(labels, scores),
        "accuracy": sk.accuracy_score(labels, predicted),
        "precision": sk.precision_score(labels, predicted),
        "recall": sk.recall_score(labels, predicted),
        "f1": sk.f1_score(labels, predicted),
        "log_loss": sk.log_loss(labels, scores),
    }
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name


def test_log_loss_refuses_scores_of_another_length() -> None:
    # An explicit check, not zip(strict=True): the scripts run on Python 3.9 in SageMaker.
    with pytest.raises(ValueError, match=r"log loss needs as many scores as labels \(2 vs 3\)"):
        log_loss([0, 1, 1], [0.1, 0.9])


def test_auc_refuses_a_single_class() -> None:
    with pytest.raises(ValueError, match="AUC needs both classes: 0 positive, 3 negative"):
        roc_auc([0, 0, 0], [0.1, 0.2, 0.3])


@pytest.mark.parametrize("name", ["churn", "churn-v2", "a1"])
def test_good_model_names(name: str) -> None:
    assert check_model_name(name) == name


@pytest.mark.parametrize("name", ["Churn", "c", "1churn", "churn_v2", "churn/x", "a" * 64, ""])
def test_bad_model_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=f"model name '{name}' is invalid"):
        check_model_name(name)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0.0", "latest", "1.0.0-", ""])
def test_bad_model_versions_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match=f"model version '{version}' is invalid"):
        check_model_version(version)


def test_auto_version_is_the_base_then_the_utc_clock() -> None:
    now = datetime(2025, 6, 30, 23, 59, 58, tzinfo=timezone(timedelta(hours=-2)))
    assert resolve_version("auto", "2.3", now) == "2.3.20250701015958"
    assert resolve_version("1.4.0-rc.1", "2.3", now) == "1.4.0-rc.1"
    later = resolve_version("auto", "1.0", datetime(2025, 7, 1, 2, 0, 0, tzinfo=UTC))
    assert check_model_version(later) == later
    with pytest.raises(ValueError, match="version base '1' is invalid"):
        resolve_version("auto", "1", now)


def test_the_feature_spec_follows_the_churn_schema_types() -> None:
    columns = load_datasets()["churn"].columns
    by_type = {t: {c.name for c in columns if c.type in t} for t in [("int", "float"), ("enum",), ("string", "date")]}
    assert set(CHURN.numeric) == by_type[("int", "float")]
    assert set(CHURN.categorical) == by_type[("enum",)]
    assert set(CHURN.excluded) == by_type[("string", "date")]
    assert CHURN.optional_numeric == {c.name for c in columns if c.type in ("int", "float") and not c.required}
    assert [c.name for c in columns if c.type == "bool"] == [LABEL]


def test_a_spec_with_a_column_in_two_roles_is_refused() -> None:
    with pytest.raises(ValueError, match="lists region in more than one role"):
        FeatureSpec(numeric=("region",), categorical=("region",), excluded=())


def test_staged_files_leave_nothing_when_the_block_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), staged_files() as stage:
        stage(tmp_path / "a" / "train.csv").write_text("x")
        stage(tmp_path / "b" / "test.csv").write_text("y")
        raise RuntimeError("fails after both were written")
    assert files_under(tmp_path) == []
    with staged_files() as stage:
        stage(tmp_path / "a" / "train.csv").write_text("x")
    assert files_under(tmp_path) == ["a/train.csv"]


def test_a_staged_directory_appears_whole_or_not_at_all_and_never_over_another(tmp_path: Path) -> None:
    target = tmp_path / "1.0.0"
    with pytest.raises(RuntimeError), staged_directory(target) as staging:
        (staging / "model.tar.gz").write_bytes(b"x")
        raise RuntimeError("fails midway")
    assert files_under(tmp_path) == []
    with staged_directory(target) as staging:
        (staging / "model.tar.gz").write_bytes(b"x")
    assert files_under(tmp_path) == ["1.0.0/model.tar.gz"]
    with pytest.raises(FileExistsError, match="already exists"), staged_directory(target):
        pass

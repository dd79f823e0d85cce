"""A model fitted by the training code, shared by the tests that score with it (training, predict, integration):
import it as `tests.training.fitted_model` from anywhere in the suite."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

UNKNOWN_REGION = "antarctica"  # a region no training row has


@dataclass(frozen=True)
class Trained:
    """A model fitted by train.fit and exported by train.export, and rows it never saw."""

    fitted: Any  # the scikit-learn pipeline, for reference scores (predict_proba)
    model: Any  # model_format.LinearModel
    test_rows: list[list[str]]  # with the label, as the training CSVs hold them
    test_table: Any  # csv_data.Table of test_rows

    @property
    def model_json(self) -> str:
        import model_format

        return model_format.dumps(self.model)

    @property
    def batch_rows(self) -> list[list[str]]:
        """test_rows without the label: an inference batch."""
        return [row[:-1] for row in self.test_rows]


@cache
def trained() -> Trained:
    """Fitted once per session on 1500 churn rows; 500 others to score, every 50th of them in UNKNOWN_REGION."""
    from csv_data import read_table
    from feature_spec import CHURN
    from tests.training.conftest import LABEL, churn_rows, write_csv
    from train import export, fit

    rows = churn_rows(2000, seed=5)
    test_rows = rows[1500:]
    for row in test_rows[::50]:
        row[9] = UNKNOWN_REGION
    with tempfile.TemporaryDirectory() as folder:
        train_table = read_table([write_csv(Path(folder) / "train.csv", rows[:1500])], LABEL, CHURN)
        test_table = read_table([write_csv(Path(folder) / "test.csv", test_rows)], LABEL)
    fitted, converged = fit(train_table, CHURN, regularization=1.0, max_iter=1000)
    model = export(
        fitted, train_table, threshold=0.5, training_data_uri="s3://bucket/processed/churn/", converged=converged
    )
    return Trained(fitted, model, test_rows, test_table)

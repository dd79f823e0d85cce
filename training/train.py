"""Train: fit scikit-learn's LogisticRegression on the standardized numeric and one-hot categorical features of
train.csv and export it as model.json (model_format), which is all that scoring needs.

SageMaker framework mode runs `python train.py --label churned --regularization 1.0 --max-iter 1000
--training-data-uri s3://...` (the hyperparameters) with SM_CHANNEL_TRAIN (the folder holding train.csv) and
SM_MODEL_DIR (where model.json goes; SageMaker tars that folder into model.tar.gz).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import model_format
from atomic_output import staged_files
from csv_data import DataError, Table, read_table, require_both_classes
from feature_spec import CHURN, FeatureSpec
from model_archive import MODEL_FILE
from model_format import CategoricalFeature, LinearModel, NumericFeature, TrainingData, parse_number
from script_cli import env_path, run

TRAIN_FILE = "train.csv"


@dataclass(frozen=True)
class FittedModel:
    """The fitted scikit-learn pieces: numeric columns -> mean imputation -> standardization; categorical
    columns -> one-hot (unknown categories -> zeros); both, in that order -> logistic regression."""

    spec: FeatureSpec
    imputer: SimpleImputer
    scaler: StandardScaler
    encoder: OneHotEncoder
    classifier: LogisticRegression

    def design(self, table: Table) -> np.ndarray:
        """The expanded feature matrix of `table`, through the fitted transforms."""
        numeric = self.scaler.transform(self.imputer.transform(numeric_matrix(table, self.spec)))
        return np.hstack([numeric, self.encoder.transform(categorical_matrix(table, self.spec))])

    def predict_proba(self, table: Table) -> np.ndarray:
        """scikit-learn's probability of the positive class for each row of `table`."""
        return self.classifier.predict_proba(self.design(table))[:, 1]


def numeric_matrix(table: Table, spec: FeatureSpec) -> np.ndarray:
    """The numeric columns as floats, NaN where empty."""
    columns = [[parse_number(value, name) for value in table.column(name)] for name in spec.numeric]
    return np.array([[np.nan if v is None else v for v in column] for column in columns], dtype=float).T


def categorical_matrix(table: Table, spec: FeatureSpec) -> np.ndarray:
    return np.array([table.column(name) for name in spec.categorical], dtype=object).T


def fit(table: Table, spec: FeatureSpec, *, regularization: float, max_iter: int) -> tuple[FittedModel, bool]:
    """Fit on `table`; returns the model and whether the solver converged within max_iter."""
    if regularization <= 0 or max_iter < 1:
        raise ValueError(f"regularization ({regularization}) must be > 0 and max-iter ({max_iter}) >= 1")
    require_both_classes(table)
    numeric = numeric_matrix(table, spec)
    for position, name in enumerate(spec.numeric):
        if np.isnan(numeric[:, position]).all():
            # SimpleImputer would silently drop the column, shifting every coefficient after it.
            raise DataError(f"numeric column {name!r} is empty in every row: nothing to impute it with")
    imputer = SimpleImputer(strategy="mean")
    scaler = StandardScaler()
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=float)
    numeric = scaler.fit_transform(imputer.fit_transform(numeric))
    design = np.hstack([numeric, encoder.fit_transform(categorical_matrix(table, spec))])
    classifier = LogisticRegression(C=regularization, max_iter=max_iter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        classifier.fit(design, np.array(table.labels))
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return FittedModel(spec, imputer, scaler, encoder, classifier), converged


def export(
    fitted: FittedModel, table: Table, *, threshold: float, training_data_uri: str, converged: bool
) -> LinearModel:
    """The portable model of `fitted`: numeric features with the scaler's mean/scale (an empty optional value is
    imputed with the training mean, which is that same mean), categorical ones with the encoder's categories, and
    the classifier's coefficients in that expanded order."""
    spec, classifier = fitted.spec, fitted.classifier
    if list(classifier.classes_) != [0, 1]:
        raise DataError(f"the classifier saw classes {list(classifier.classes_)}, expected [0, 1]")
    numeric = tuple(
        NumericFeature(
            name,
            float(fitted.scaler.mean_[i]),
            float(fitted.scaler.scale_[i]),
            "mean" if name in spec.optional_numeric else "error",
        )
        for i, name in enumerate(spec.numeric)
    )
    categorical = tuple(
        CategoricalFeature(name, tuple(str(c) for c in fitted.encoder.categories_[i]))
        for i, name in enumerate(spec.categorical)
    )
    return LinearModel(
        label=table.label,
        features=(*numeric, *categorical),
        coefficients=tuple(float(c) for c in classifier.coef_[0]),
        intercept=float(classifier.intercept_[0]),
        threshold=threshold,
        training_data=TrainingData(training_data_uri, len(table.rows), table.positives),
        training={
            "algorithm": "logistic-regression",
            "library": f"scikit-learn {sklearn.__version__}",
            "regularization": classifier.C,
            "max_iter": classifier.max_iter,
            "iterations": int(classifier.n_iter_[0]),
            "converged": converged,
        },
    )


def train(
    train_dir: Path,
    model_dir: Path,
    *,
    label: str,
    regularization: float,
    max_iter: int,
    threshold: float,
    training_data_uri: str,
    spec: FeatureSpec = CHURN,
) -> LinearModel:
    """Read train_dir/train.csv, fit, and write model_dir/model.json (whole or not at all)."""
    table = read_table([train_dir / TRAIN_FILE], label, spec)
    fitted, converged = fit(table, spec, regularization=regularization, max_iter=max_iter)
    if not converged:
        print(f"train: warning: the solver did not converge in {max_iter} iterations", file=sys.stderr)
    model = export(fitted, table, threshold=threshold, training_data_uri=training_data_uri, converged=converged)
    with staged_files() as stage:
        stage(model_dir / MODEL_FILE).write_text(model_format.dumps(model), encoding="utf-8")
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit the logistic model on train.csv and write model.json.")
    parser.add_argument("--label", default="churned", help="the label column (default churned)")
    parser.add_argument("--regularization", type=float, default=1.0, help="inverse regularization C (default 1.0)")
    parser.add_argument("--max-iter", type=int, default=1000, help="solver iterations at most (default 1000)")
    parser.add_argument("--threshold", type=float, default=0.5, help="decision threshold in model.json (0.5)")
    parser.add_argument("--training-data-uri", required=True, help="where the data came from, kept in model.json")
    args = parser.parse_args(argv)

    def body() -> None:
        model = train(
            env_path("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"),
            env_path("SM_MODEL_DIR", "/opt/ml/model"),
            label=args.label,
            regularization=args.regularization,
            max_iter=args.max_iter,
            threshold=args.threshold,
            training_data_uri=args.training_data_uri,
        )
        print(json.dumps({"train": {"rows": model.training_data.rows, **model.training}}))

    return run("train", body)


if __name__ == "__main__":
    raise SystemExit(main())

"""Which columns of the processed churn CSV the model uses, and how: the one place that says so.

The roles follow the column types of the `churn` dataset in platform_config/datasets.toml (a test keeps them
equal): int/float columns are numeric features, enum columns categorical ones, the bool column is the label,
string and date columns (an id, a date) are excluded. This file ships with the scripts because the SageMaker
containers only get the training/ folder, not the platform config.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """Column roles. numeric: standardized numbers, in expanded-vector order; optional_numeric: the numeric
    columns that may be empty (imputed with the training mean); categorical: one-hot columns, after the numeric
    ones; excluded: columns read but not used. Every column of the CSV except the label must be in one role."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    excluded: tuple[str, ...]
    optional_numeric: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        columns = [*self.numeric, *self.categorical, *self.excluded]
        duplicates = sorted({column for column in columns if columns.count(column) > 1})
        if duplicates:
            raise ValueError(f"feature spec lists {', '.join(duplicates)} in more than one role")
        stray = sorted(self.optional_numeric - set(self.numeric))
        if stray:
            raise ValueError(f"optional_numeric {', '.join(stray)} must be numeric columns")

    @property
    def features(self) -> tuple[str, ...]:
        """The feature columns in model order: numeric, then categorical."""
        return (*self.numeric, *self.categorical)

    @property
    def known(self) -> frozenset[str]:
        """Every column with a role (the label aside)."""
        return frozenset((*self.features, *self.excluded))


CHURN = FeatureSpec(
    numeric=("tenure_months", "monthly_charges", "total_charges", "support_calls"),
    # Empty for customers in their first month (datasets.toml: required = false).
    optional_numeric=frozenset({"total_charges"}),
    categorical=("contract", "payment_method", "internet_service", "region"),
    excluded=("customer_id", "signup_date"),
)

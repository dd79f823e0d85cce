"""served_models.json: what the inference Lambdas serve, rendered at synth and packaged with both.

    {"format_version": 1,
     "models": {"<model>": {"id_column": "customer_id", "label": "churned",
                            "dataset": <the training dataset's schemas.json entry, label column left out>}}}

The workflow serves the model the training pipeline produces (`[<env>.training] model_name`); a batch holds
that model's training dataset columns without the label. lambdas/inference_common/contract.py reads it.
"""

from __future__ import annotations

import json
from dataclasses import replace

from lambdas.inference_common.contract import SERVED_MODELS_FORMAT_VERSION  # the reader's: one definition
from platform_config.datasets import DatasetSchema, training_dataset
from platform_config.loader import ConfigError
from platform_config.model import EnvironmentConfig


def batch_schema(config: EnvironmentConfig, datasets: dict[str, DatasetSchema]) -> DatasetSchema:
    """The columns a batch for the served model holds: its training dataset's, without the label.
    ConfigError names the setting when the dataset, the label or the id column does not fit."""
    dataset = training_dataset(config, datasets)
    columns = tuple(column for column in dataset.columns if column.name != config.training.label)
    id_column = config.inference.id_column
    if id_column not in (column.name for column in columns):
        raise ConfigError(
            config.name,
            "inference.id_column",
            id_column,
            f"must be a column of dataset {dataset.name} other than the label: {', '.join(c.name for c in columns)}",
        )
    return replace(dataset, columns=columns)


def served_models_json(config: EnvironmentConfig, datasets: dict[str, DatasetSchema]) -> str:
    """The served_models.json text (stable: sorted keys, trailing newline)."""
    document = {
        "format_version": SERVED_MODELS_FORMAT_VERSION,
        "models": {
            config.training.model_name: {
                "id_column": config.inference.id_column,
                "label": config.training.label,
                "dataset": batch_schema(config, datasets).to_json(),
            }
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"

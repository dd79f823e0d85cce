"""served_models.json: the served model's batch columns (its training dataset without the label), checked at synth."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from platform_config import ConfigError
from platform_config.datasets import load_datasets
from platform_config.serving import served_models_json
from tests.conftest import load_config


def test_the_training_model_is_served_with_its_dataset_columns_minus_the_label():
    config = load_config("dev")
    document = json.loads(served_models_json(config, load_datasets()))
    served = document["models"][config.training.model_name]
    columns = [column["name"] for column in served["dataset"]["columns"]]
    dataset = load_datasets()[config.training.dataset]
    assert columns == [name for name in dataset.column_names if name != config.training.label]
    assert (served["id_column"], served["label"]) == (config.inference.id_column, config.training.label)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"id_column": "churned"}, "inference.id_column"),  # the label is not in a batch
        ({"id_column": "account_no"}, "inference.id_column"),
    ],
)
def test_an_id_column_that_is_not_a_batch_column_fails_synth_naming_the_key(change, key):
    config = load_config("dev")
    config = replace(config, inference=replace(config.inference, **change))
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as error:
        served_models_json(config, load_datasets())
    assert "customer_id" in str(error.value)  # the columns it could be


def test_a_label_missing_from_the_dataset_fails_synth_naming_the_key():
    config = load_config("dev")
    config = replace(config, training=replace(config.training, label="left"))
    with pytest.raises(ConfigError, match=r"training\.label"):
        served_models_json(config, load_datasets())

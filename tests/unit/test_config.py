"""Configuration: every environment loads; every bad value fails naming key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

import platform_config
from platform_config import ConfigError

BASE = {
    "defaults": {
        "project": '"ml-platform"',
        "repository": '"example-org/ml-platform"',
        "log_retention_days": "30",
        "noncurrent_version_expiration_days": "90",
        "abort_incomplete_multipart_upload_days": "7",
        "access_log_expiration_days": "30",
        "kms_deletion_window_days": "30",
        "processor_reserved_concurrency": "5",
        "processor_memory_mb": "512",
        "processor_timeout_seconds": "60",
        "backfill_max_concurrency": "4",
        "backfill_tolerated_failure_percentage": "5",
    },
    "local": {"region": '"us-east-1"', "name_prefix": '"mlp-local"', "emulator_port": "4566"},
    "dev": {"region": '"eu-west-1"', "name_prefix": '"mlp-dev"'},
    "dev.state": {"bucket": '"mlp-dev-terraform-state"', "key_prefix": '"ml-platform/dev"', "region": '"eu-west-1"'},
}


def write_config(tmp_path: Path, local: str = "", dev: str = "") -> Path:
    """A config file like the shipped one; `local`/`dev` give one `key = value` line to set."""
    sections = {name: dict(values) for name, values in BASE.items()}
    for section, line in (("local", local), ("dev", dev)):
        if line:
            key, value = (part.strip() for part in line.split("=", 1))
            sections[section][key] = value
    text = "".join(
        f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "\n" for name, values in sections.items()
    )
    path = tmp_path / "environments.toml"
    path.write_text(text)
    return path


def load_error(path: Path, env: str = "local", **environ: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        platform_config.load(env, path=path, environ=environ)
    return caught.value


@pytest.mark.parametrize("env", platform_config.ENVIRONMENTS)
def test_every_shipped_environment_loads(env: str) -> None:
    config = platform_config.load(env, environ={})
    assert config.name == env
    assert config.is_local == (env == "local")
    assert (config.state is None) == (env == "local")


def test_local_is_the_default_environment() -> None:
    assert platform_config.load(environ={}).name == "local"


def test_env_variable_selects_the_environment() -> None:
    assert platform_config.load(environ={"ENV": "prod"}).name == "prod"


def test_unknown_environment_is_named() -> None:
    error = load_error(platform_config.loader.DEFAULT_CONFIG_FILE, env="staging")
    assert str(error) == "config [staging] ENV = 'staging': unknown environment; expected one of local, dev, prod"


@pytest.mark.parametrize("region", ["eu-wst-1", "EU-WEST-1", "moon-base-1", ""])
def test_bad_region_is_named(tmp_path: Path, region: str) -> None:
    error = load_error(write_config(tmp_path, dev=f'region = "{region}"'), env="dev")
    assert (error.key, error.value) == ("region", region)
    assert "not an AWS region code" in str(error)


@pytest.mark.parametrize(
    "prefix, reason",
    [
        ("MLP", "lowercase letters"),
        ("mlp_local", "lowercase letters"),
        ("-mlp", "start and end with a letter or digit"),
        ("mlp.local", "lowercase letters"),
        ("xn--mlp", "reserved prefix"),
        ("a" * 50, "3-63 characters"),
    ],
)
def test_name_prefix_that_gives_an_invalid_bucket_name_is_refused(tmp_path: Path, prefix: str, reason: str) -> None:
    error = load_error(write_config(tmp_path, local=f'name_prefix = "{prefix}"'))
    assert error.key == "name_prefix" and error.value == prefix
    assert reason in str(error)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    error = load_error(write_config(tmp_path, local="log_retention = 7"))
    assert str(error) == "config [local] log_retention = 7: unknown key"


def test_unknown_section_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text() + '\n[staging]\nregion = "eu-west-1"\n')
    assert load_error(path).key == "section"


@pytest.mark.parametrize(
    "line, key",
    [
        ('log_retention_days = "thirty"', "log_retention_days"),
        ("log_retention_days = true", "log_retention_days"),
        ("log_retention_days = 31", "log_retention_days"),
        ("kms_deletion_window_days = 3", "kms_deletion_window_days"),
        ("noncurrent_version_expiration_days = 0", "noncurrent_version_expiration_days"),
        ("emulator_port = 80", "emulator_port"),
        ("processor_timeout_seconds = 901", "processor_timeout_seconds"),
        ("backfill_tolerated_failure_percentage = 101", "backfill_tolerated_failure_percentage"),
        ("processor_reserved_concurrency = 0", "processor_reserved_concurrency"),
        ('repository = "no-slash"', "repository"),
        ('tags = { "aws:owner" = "x" }', "tags.aws:owner"),
        ("tags = { owner = 3 }", "tags.owner"),
        ('allowed_account_ids = ["1234"]', "allowed_account_ids"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, line: str, key: str) -> None:
    assert load_error(write_config(tmp_path, local=line)).key == key


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('name_prefix = "mlp-local"\n', ""))
    error = load_error(path)
    assert (error.key, error.reason) == ("name_prefix", "required key is missing")


def test_dev_without_state_backend_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().split("[dev.state]")[0])
    assert load_error(path, env="dev").key == "state"


def test_state_bucket_name_is_validated(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('bucket = "mlp-dev-terraform-state"', 'bucket = "Bad_Bucket"'))
    error = load_error(path, env="dev")
    assert (error.key, error.value) == ("state.bucket", "Bad_Bucket")


def test_emulator_port_only_belongs_to_local(tmp_path: Path) -> None:
    assert load_error(write_config(tmp_path, dev="emulator_port = 4566"), env="dev").key == "emulator_port"


def test_emulator_port_override_from_environment_is_validated(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    assert (
        platform_config.load("local", path=path, environ={"EMULATOR_PORT": "5123"}).emulator_url
        == "http://127.0.0.1:5123"
    )
    assert load_error(path, EMULATOR_PORT="abc").key == "EMULATOR_PORT"


def test_default_tags_cannot_be_overridden_by_user_tags(tmp_path: Path) -> None:
    path = write_config(tmp_path, local='tags = { environment = "spoofed", team = "ml" }')
    tags = platform_config.load("local", path=path, environ={}).default_tags()
    assert tags["environment"] == "local" and tags["team"] == "ml" and tags["managed-by"] == "cdktf"

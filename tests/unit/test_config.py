"""Configuration: every environment loads; every bad value fails naming key and value."""

from __future__ import annotations

import json
import tomllib
import typing
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest

import platform_config
from platform_config import ConfigError
from platform_config.loader import DEFAULT_CONFIG_FILE
from platform_config.model import EnvironmentConfig
from platform_config.settings import field_doc, load_settings, setting, toml_fields

_DELETE = object()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value) if isinstance(value, str) else str(value)


def _dump(tables: dict[str, Any], path: str = "") -> str:
    """A minimal TOML writer for the config's shape (tables of scalars, arrays and inline tables)."""
    scalars = {k: v for k, v in tables.items() if not isinstance(v, dict) or k == "tags"}
    text = f"[{path}]\n" if path else ""
    text += "".join(f"{json.dumps(k) if ':' in k else k} = {_toml_value(v)}\n" for k, v in scalars.items())
    for key, value in tables.items():
        if isinstance(value, dict) and key != "tags":
            text += "\n" + _dump(value, f"{path}.{key}" if path else key)
    return text


def write_config(tmp_path: Path, **changes: Any) -> Path:
    """The shipped config with changes: `write_config(tmp, **{"dev.data_pipeline.processor_memory_mb": 64})`;
    a value of _DELETE removes the key."""
    tables = tomllib.loads(DEFAULT_CONFIG_FILE.read_text())
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        table = tables
        for parent in parents:
            table = table.setdefault(parent, {})
        if value is _DELETE:
            table.pop(key, None)
        else:
            table[key] = value
    path = tmp_path / "environments.toml"
    path.write_text(_dump(tables))
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


def test_the_test_writer_round_trips_the_shipped_file(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    for env in platform_config.ENVIRONMENTS:
        assert platform_config.load(env, path=path, environ={}) == platform_config.load(env, environ={})


def test_environment_tables_override_defaults_key_by_key() -> None:
    prod, dev = platform_config.load("prod", environ={}), platform_config.load("dev", environ={})
    assert prod.data_pipeline.processor_reserved_concurrency == 50  # [prod.data_pipeline]
    assert prod.data_pipeline.processor_memory_mb == dev.data_pipeline.processor_memory_mb  # [defaults.data_pipeline]
    assert prod.buckets.noncurrent_version_expiration_days == 365
    assert prod.buckets.abort_incomplete_multipart_upload_days == dev.buckets.abort_incomplete_multipart_upload_days


def test_local_is_the_default_environment() -> None:
    assert platform_config.load(environ={}).name == "local"


def test_env_variable_selects_the_environment() -> None:
    assert platform_config.load(environ={"ENV": "prod"}).name == "prod"


def test_unknown_environment_is_named() -> None:
    error = load_error(DEFAULT_CONFIG_FILE, env="staging")
    assert str(error) == "config [staging] ENV = 'staging': unknown environment; expected one of local, dev, prod"


@pytest.mark.parametrize("region", ["eu-wst-1", "EU-WEST-1", "moon-base-1", ""])
def test_bad_region_is_named(tmp_path: Path, region: str) -> None:
    error = load_error(write_config(tmp_path, **{"dev.region": region}), env="dev")
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
    error = load_error(write_config(tmp_path, **{"local.name_prefix": prefix}))
    assert error.key == "name_prefix" and error.value == prefix
    assert reason in str(error)


def test_unknown_key_is_named(tmp_path: Path) -> None:
    error = load_error(write_config(tmp_path, **{"local.log_retention": 7}))
    assert str(error).startswith("config [local] log_retention = 7: unknown key")


def test_unknown_key_in_a_stack_section_is_named_with_its_section(tmp_path: Path) -> None:
    error = load_error(write_config(tmp_path, **{"local.data_pipeline.processor_memory": 512}))
    assert error.key == "data_pipeline.processor_memory"
    assert "expected one of processor_reserved_concurrency, processor_memory_mb" in str(error)


def test_unknown_section_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text() + '\n[staging]\nregion = "eu-west-1"\n')
    assert load_error(path).key == "section"


@pytest.mark.parametrize(
    "change, key",
    [
        ({"local.log_retention_days": "thirty"}, "log_retention_days"),
        ({"local.log_retention_days": True}, "log_retention_days"),
        ({"local.log_retention_days": 31}, "log_retention_days"),
        ({"local.kms_deletion_window_days": 3}, "kms_deletion_window_days"),
        ({"local.buckets.noncurrent_version_expiration_days": 0}, "buckets.noncurrent_version_expiration_days"),
        ({"local.emulator_port": 80}, "emulator_port"),
        ({"local.data_pipeline.processor_timeout_seconds": 901}, "data_pipeline.processor_timeout_seconds"),
        (
            {"local.data_pipeline.backfill_tolerated_failure_percentage": 101},
            "data_pipeline.backfill_tolerated_failure_percentage",
        ),
        ({"local.data_pipeline.processor_reserved_concurrency": 0}, "data_pipeline.processor_reserved_concurrency"),
        ({"local.data_pipeline": "fast"}, "data_pipeline"),
        ({"local.repository": "no-slash"}, "repository"),
        ({"local.repository": "owner/"}, "repository"),
        ({"local.tags": {"aws:owner": "x"}}, "tags.aws:owner"),
        ({"local.tags": {"owner": 3}}, "tags.owner"),
        ({"local.allowed_account_ids": ["1234"]}, "allowed_account_ids"),
        ({"local.allowed_account_ids": "123456789012"}, "allowed_account_ids"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, change: dict[str, Any], key: str) -> None:
    assert load_error(write_config(tmp_path, **change)).key == key


def test_range_error_says_the_allowed_range(tmp_path: Path) -> None:
    error = load_error(write_config(tmp_path, **{"dev.data_pipeline.processor_memory_mb": 64}), env="dev")
    assert str(error) == "config [dev] data_pipeline.processor_memory_mb = 64: must be between 128 and 10240"


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    error = load_error(write_config(tmp_path, **{"local.name_prefix": _DELETE}))
    assert (error.key, error.reason) == ("name_prefix", "required key is missing")


def test_missing_key_of_a_stack_section_is_named(tmp_path: Path) -> None:
    error = load_error(write_config(tmp_path, **{"defaults.data_pipeline.processor_memory_mb": _DELETE}))
    assert (error.key, error.reason) == ("data_pipeline.processor_memory_mb", "required key is missing")


def test_dev_without_state_backend_is_refused(tmp_path: Path) -> None:
    assert load_error(write_config(tmp_path, **{"dev.state": _DELETE}), env="dev").key == "state"


def test_local_with_a_state_backend_is_refused(tmp_path: Path) -> None:
    state = {"bucket": "mlp-local-state", "key_prefix": "x", "region": "us-east-1"}
    assert load_error(write_config(tmp_path, **{"local.state": state})).key == "state"


def test_state_bucket_name_is_validated(tmp_path: Path) -> None:
    error = load_error(write_config(tmp_path, **{"dev.state.bucket": "Bad_Bucket"}), env="dev")
    assert (error.key, error.value) == ("state.bucket", "Bad_Bucket")


def test_emulator_port_only_belongs_to_local(tmp_path: Path) -> None:
    assert load_error(write_config(tmp_path, **{"dev.emulator_port": 4566}), env="dev").key == "emulator_port"


def test_emulator_port_override_from_environment_is_validated(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    assert (
        platform_config.load("local", path=path, environ={"EMULATOR_PORT": "5123"}).emulator_url
        == "http://127.0.0.1:5123"
    )
    assert load_error(path, EMULATOR_PORT="abc").key == "EMULATOR_PORT"
    assert load_error(path, EMULATOR_PORT="22").key == "emulator_port"


def test_default_tags_cannot_be_overridden_by_user_tags(tmp_path: Path) -> None:
    path = write_config(tmp_path, **{"local.tags": {"environment": "spoofed", "team": "ml"}})
    tags = platform_config.load("local", path=path, environ={}).default_tags()
    assert tags["environment"] == "local" and tags["team"] == "ml" and tags["managed-by"] == "cdktf"


def test_environment_tags_add_to_the_default_tags(tmp_path: Path) -> None:
    path = write_config(tmp_path, **{"defaults.tags": {"team": "ml"}, "dev.tags": {"cost-center": "42"}})
    assert dict(platform_config.load("dev", path=path, environ={}).tags) == {"team": "ml", "cost-center": "42"}


def test_emulator_credentials_exist_only_for_local() -> None:
    assert platform_config.load("local", environ={}).emulator_credentials.access_key_id == "test"
    with pytest.raises(ValueError, match="has no emulator"):
        _ = platform_config.load("dev", environ={}).emulator_credentials


def test_every_setting_is_documented() -> None:
    """The doc of each field is what a reader of environments.toml needs; none may be missing."""
    pending: list[type] = [EnvironmentConfig]
    while pending:
        cls = pending.pop()
        hints = typing.get_type_hints(cls)
        for field in fields(cls):
            assert field_doc(cls, field.name), f"{cls.__name__}.{field.name} has no doc"
            # Nested tables, optional ones too (state: StateBackend | None).
            pending.extend(t for t in (hints[field.name], *typing.get_args(hints[field.name])) if is_dataclass(t))


# -- the generic loader, on a settings class of its own: what a new stack's section gets for free --------


@dataclass(frozen=True, kw_only=True)
class _Nested:
    depth: int = setting(between=(1, 3), doc="a bounded int")


@dataclass(frozen=True, kw_only=True)
class _Section:
    name: str = setting(doc="required string")
    ratio: float = setting(0.5, between=(0, 1), doc="a float with a default")
    mode: str = setting("a", one_of=("a", "b"), doc="a choice")
    enabled: bool = setting(True, doc="a bool")
    labels: tuple[str, ...] = setting((), doc="strings")
    nested: _Nested | None = setting(None, doc="an optional sub-table")


def test_a_new_section_is_one_dataclass_and_its_toml_table() -> None:
    loaded = load_settings(
        _Section, {"name": "x", "ratio": 1, "labels": ["a", "b"], "nested": {"depth": 2}}, env="dev", where="s"
    )
    assert loaded == _Section(name="x", ratio=1, labels=("a", "b"), nested=_Nested(depth=2))
    assert [f.name for f in toml_fields(_Section)] == ["name", "ratio", "mode", "enabled", "labels", "nested"]


@pytest.mark.parametrize(
    "table, key, reason",
    [
        ({}, "s.name", "required key is missing"),
        ({"name": 1}, "s.name", "must be a str"),
        ({"name": "x", "ratio": 2}, "s.ratio", "must be between 0 and 1"),
        ({"name": "x", "ratio": "high"}, "s.ratio", "must be a float"),
        ({"name": "x", "mode": "c"}, "s.mode", "must be one of a, b"),
        ({"name": "x", "enabled": 1}, "s.enabled", "must be a bool"),
        ({"name": "x", "labels": [1]}, "s.labels", "must be an array of strings"),
        ({"name": "x", "nested": {"depth": 9}}, "s.nested.depth", "must be between 1 and 3"),
        ({"name": "x", "nested": {"deep": 1}}, "s.nested.deep", "unknown key; expected one of depth"),
    ],
)
def test_generic_loader_names_the_dotted_key(table: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_Section, table, env="dev", where="s")
    assert (caught.value.key, caught.value.reason) == (key, reason)

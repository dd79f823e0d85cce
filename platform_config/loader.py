"""Load and validate platform_config/environments.toml into an EnvironmentConfig.

Every problem raises ConfigError whose message names the environment, the key and the
bad value, so `make synth` fails with one readable line instead of a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from platform_config.model import ENVIRONMENTS, EnvironmentConfig, StateBackend
from platform_config.naming import bucket_name_problem, is_account_id, is_region

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = REPO_ROOT / "platform_config" / "environments.toml"

# The longest bucket purpose the stacks use; the prefix must leave room for it.
LONGEST_BUCKET_PURPOSE = "artifact-access-logs"

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Integer keys every environment needs, with their allowed ranges.
_INT_RANGES = {
    "noncurrent_version_expiration_days": (1, 3650),
    "abort_incomplete_multipart_upload_days": (1, 3650),
    "access_log_expiration_days": (1, 3650),
    "kms_deletion_window_days": (7, 30),
    "processor_reserved_concurrency": (1, 1000),
    "processor_memory_mb": (128, 10240),
    "processor_timeout_seconds": (1, 900),
    "backfill_max_concurrency": (1, 10000),
    "backfill_tolerated_failure_percentage": (0, 100),
}
_SCALAR_KEYS = {
    "project": str,
    "repository": str,
    "region": str,
    "name_prefix": str,
    "log_retention_days": int,
    "emulator_port": int,
    **{key: int for key in _INT_RANGES},
}
_TABLE_KEYS = {"tags", "state", "allowed_account_ids"}
_STATE_KEYS = {"bucket", "key_prefix", "region"}
_REQUIRED = ("project", "repository", "region", "name_prefix", "log_retention_days", *_INT_RANGES)


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names key and value."""

    def __init__(self, env: str, key: str, value: Any, reason: str) -> None:
        self.env, self.key, self.value, self.reason = env, key, value, reason
        super().__init__(f"config [{env}] {key} = {value!r}: {reason}")


def load(
    env_name: str | None = None, *, path: Path = DEFAULT_CONFIG_FILE, environ: Mapping[str, str] | None = None
) -> EnvironmentConfig:
    """Return the validated config of `env_name` (default: $ENV, else 'local').

    Runtime overrides from the environment: EMULATOR_PORT (local only) and
    LOCAL_STATE_DIR (local only, default .state/local in the repo).
    """
    environ = os.environ if environ is None else environ
    name = env_name or environ.get("ENV") or "local"
    if name not in ENVIRONMENTS:
        raise ConfigError(name, "ENV", name, f"unknown environment; expected one of {', '.join(ENVIRONMENTS)}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "file", str(path.name), f"not valid TOML: {exc}") from exc
    for section in raw:
        if section not in (*ENVIRONMENTS, "defaults"):
            raise ConfigError(
                section, "section", section, f"unknown section; expected defaults or one of {', '.join(ENVIRONMENTS)}"
            )
    values = {**raw.get("defaults", {}), **raw.get(name, {})}
    if name == "local" and "EMULATOR_PORT" in environ:
        values["emulator_port"] = _parse_int(name, "EMULATOR_PORT", environ["EMULATOR_PORT"])
    return _build(name, values, environ)


def _parse_int(env: str, key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ConfigError(env, key, text, "not an integer") from exc


def _build(env: str, values: dict[str, Any], environ: Mapping[str, str]) -> EnvironmentConfig:
    for key, value in values.items():
        if key in _SCALAR_KEYS:
            expected = _SCALAR_KEYS[key]
            # bool is an int subclass in Python; `true` is never a valid number of days.
            if not isinstance(value, expected) or isinstance(value, bool):
                raise ConfigError(env, key, value, f"must be a {expected.__name__}")
        elif key not in _TABLE_KEYS:
            raise ConfigError(env, key, value, "unknown key")
    for key in _REQUIRED:
        if key not in values:
            raise ConfigError(env, key, None, "required key is missing")

    _check_region(env, "region", values["region"])
    _check_name_prefix(env, values["name_prefix"])
    _check_choice(env, "log_retention_days", values["log_retention_days"], LOG_RETENTION_DAYS)
    for key, (low, high) in _INT_RANGES.items():
        _check_range(env, key, values[key], low, high)
    if not values["repository"].count("/") == 1:
        raise ConfigError(env, "repository", values["repository"], "must be 'owner/name'")

    is_local = env == "local"
    port = values.get("emulator_port")
    if is_local:
        if port is None:
            raise ConfigError(env, "emulator_port", None, "required for the local environment")
        _check_range(env, "emulator_port", port, 1024, 65535)
    elif port is not None:
        raise ConfigError(env, "emulator_port", port, "only the local environment uses the emulator")

    return EnvironmentConfig(
        name=env,
        project=values["project"],
        repository=values["repository"],
        region=values["region"],
        name_prefix=values["name_prefix"],
        log_retention_days=values["log_retention_days"],
        noncurrent_version_expiration_days=values["noncurrent_version_expiration_days"],
        abort_incomplete_multipart_upload_days=values["abort_incomplete_multipart_upload_days"],
        access_log_expiration_days=values["access_log_expiration_days"],
        kms_deletion_window_days=values["kms_deletion_window_days"],
        processor_reserved_concurrency=values["processor_reserved_concurrency"],
        processor_memory_mb=values["processor_memory_mb"],
        processor_timeout_seconds=values["processor_timeout_seconds"],
        backfill_max_concurrency=values["backfill_max_concurrency"],
        backfill_tolerated_failure_percentage=values["backfill_tolerated_failure_percentage"],
        allowed_account_ids=_account_ids(env, values.get("allowed_account_ids", [])),
        tags=MappingProxyType(_tags(env, values.get("tags", {}))),
        state=_state(env, values.get("state"), is_local),
        emulator_port=port,
        local_state_dir=_local_state_dir(environ) if is_local else None,
    )


def _check_region(env: str, key: str, value: str) -> None:
    if not is_region(value):
        raise ConfigError(env, key, value, "not an AWS region code (like 'eu-west-1')")


def _check_name_prefix(env: str, prefix: str) -> None:
    longest = f"{prefix}-{LONGEST_BUCKET_PURPOSE}"
    problem = bucket_name_problem(longest)
    if problem:
        raise ConfigError(env, "name_prefix", prefix, f"gives invalid bucket name {longest!r}: {problem}")


def _check_range(env: str, key: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ConfigError(env, key, value, f"must be between {low} and {high}")


def _check_choice(env: str, key: str, value: int, choices: tuple[int, ...]) -> None:
    if value not in choices:
        raise ConfigError(env, key, value, f"must be one of {', '.join(map(str, choices))}")


def _account_ids(env: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(env, "allowed_account_ids", value, "must be a list of 12-digit account ids")
    for account in value:
        if not isinstance(account, str) or not is_account_id(account):
            raise ConfigError(env, "allowed_account_ids", account, "not a 12-digit account id string")
    return tuple(value)


def _tags(env: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(env, "tags", value, "must be a table of string values")
    for key, tag in value.items():
        if not isinstance(tag, str) or not 1 <= len(key) <= 128 or len(tag) > 256:
            raise ConfigError(env, f"tags.{key}", tag, "tag keys are 1-128 and values 0-256 characters")
        if key.lower().startswith("aws:"):
            raise ConfigError(env, f"tags.{key}", tag, "the 'aws:' tag prefix is reserved")
    return dict(value)


def _state(env: str, value: Any, is_local: bool) -> StateBackend | None:
    if is_local:
        if value is not None:
            raise ConfigError(env, "state", value, "local keeps state on disk; remove the state table")
        return None
    if not isinstance(value, dict):
        raise ConfigError(env, "state", value, "required table with bucket, key_prefix and region")
    for key in value:
        if key not in _STATE_KEYS:
            raise ConfigError(env, f"state.{key}", value[key], "unknown key")
    for key in sorted(_STATE_KEYS):
        if not isinstance(value.get(key), str) or not value[key]:
            raise ConfigError(env, f"state.{key}", value.get(key), "required non-empty string")
    problem = bucket_name_problem(value["bucket"])
    if problem:
        raise ConfigError(env, "state.bucket", value["bucket"], problem)
    _check_region(env, "state.region", value["region"])
    return StateBackend(bucket=value["bucket"], key_prefix=value["key_prefix"], region=value["region"])


def _local_state_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get("LOCAL_STATE_DIR")
    return Path(configured).resolve() if configured else REPO_ROOT / ".state" / "local"

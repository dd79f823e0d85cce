"""Load and validate platform_config/environments.toml into an EnvironmentConfig.

The file has a `[defaults]` table and one table per environment; each may hold sub-tables per concern
(`[defaults.data_pipeline]`, `[prod.data_pipeline]`, ...). An environment is `[defaults]` with its own
table merged over it, sub-table by sub-table, then read field by field by platform_config.settings.
Every problem raises ConfigError whose message names the environment, the key and the bad value, so
`make synth` fails with one readable line instead of a traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from platform_config.errors import ConfigError
from platform_config.model import ENVIRONMENTS, EnvironmentConfig, merge_tables
from platform_config.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = REPO_ROOT / "platform_config" / "environments.toml"

__all__ = ["DEFAULT_CONFIG_FILE", "REPO_ROOT", "ConfigError", "load"]


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
    table = merge_tables(raw.get("defaults", {}), raw.get(name, {}))
    if name == "local" and "EMULATOR_PORT" in environ:
        table["emulator_port"] = _parse_int(name, "EMULATOR_PORT", environ["EMULATOR_PORT"])
    is_local = name == "local"
    config: EnvironmentConfig = load_settings(
        EnvironmentConfig,
        table,
        env=name,
        name=name,
        local_state_dir=_local_state_dir(environ) if is_local else None,
    )
    _check_environment_kind(config)
    _check_training_trigger(config)
    return config


def _check_training_trigger(config: EnvironmentConfig) -> None:
    """An EventBridge rule has no time zone and no flexible window: refuse settings it would ignore."""
    training = config.training
    if training.trigger != "eventbridge-rule":
        return
    if training.schedule_timezone != "UTC":
        raise ConfigError(
            config.name,
            "training.schedule_timezone",
            training.schedule_timezone,
            "trigger 'eventbridge-rule' runs its cron in UTC; set UTC or use trigger 'scheduler'",
        )
    if training.flexible_window_minutes:
        raise ConfigError(
            config.name,
            "training.flexible_window_minutes",
            training.flexible_window_minutes,
            "trigger 'eventbridge-rule' starts on time; set 0 or use trigger 'scheduler'",
        )


def _check_environment_kind(config: EnvironmentConfig) -> None:
    """What only the emulator, or only a real account, may (or must) have."""
    env = config.name
    if config.is_local:
        if config.emulator_port is None:
            raise ConfigError(env, "emulator_port", None, "required for the local environment")
        if config.state is not None:
            raise ConfigError(env, "state", config.state, "local keeps state on disk; remove the state table")
        return
    if config.emulator_port is not None:
        raise ConfigError(env, "emulator_port", config.emulator_port, "only the local environment uses the emulator")
    if config.state is None:
        raise ConfigError(env, "state", None, "required table with bucket, key_prefix and region")


def _parse_int(env: str, key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ConfigError(env, key, text, "not an integer") from exc


def _local_state_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get("LOCAL_STATE_DIR")
    return Path(configured).resolve() if configured else REPO_ROOT / ".state" / "local"

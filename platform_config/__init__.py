"""Typed, validated environment configuration (local, dev, prod)."""

from platform_config.loader import ConfigError, load
from platform_config.model import ENVIRONMENTS, EnvironmentConfig, StateBackend

__all__ = ["ENVIRONMENTS", "ConfigError", "EnvironmentConfig", "StateBackend", "load"]

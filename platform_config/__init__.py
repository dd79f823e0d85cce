"""Typed, validated environment configuration (local, dev, prod)."""

from platform_config.errors import ConfigError
from platform_config.loader import load
from platform_config.model import (
    ENVIRONMENTS,
    BucketSettings,
    DataPipelineSettings,
    EnvironmentConfig,
    StateBackend,
)

__all__ = [
    "ENVIRONMENTS",
    "BucketSettings",
    "ConfigError",
    "DataPipelineSettings",
    "EnvironmentConfig",
    "StateBackend",
    "load",
]

"""The one error type of the configuration: it names the environment, the key and the bad value."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names key and value."""

    def __init__(self, env: str, key: str, value: Any, reason: str) -> None:
        self.env, self.key, self.value, self.reason = env, key, value, reason
        super().__init__(f"config [{env}] {key} = {value!r}: {reason}")

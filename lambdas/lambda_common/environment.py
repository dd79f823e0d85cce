"""A function's settings from its environment variables: a missing one is a deployment bug, named at once."""

from __future__ import annotations

from collections.abc import Mapping


class ConfigurationError(RuntimeError):
    """A required environment variable is missing (or what it names cannot be read); the message names it."""


def required(environ: Mapping[str, str], name: str, what: str) -> str:
    """The value of `name` (stripped); ConfigurationError "<name> is not set: it must name <what>" when it is
    missing or blank."""
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is not set: it must name {what}")
    return value

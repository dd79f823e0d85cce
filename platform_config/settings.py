"""Declarative settings: one frozen dataclass per TOML table, each field carrying its own rule.

A setting is declared once, next to its rule:

    @dataclass(frozen=True, kw_only=True)
    class DataPipelineSettings:
        processor_memory_mb: int = setting(between=(128, 10240), doc="memory of the processor Lambda")

and `load_settings(DataPipelineSettings, table, env=..., where="data_pipeline")` builds it from a TOML
table: unknown keys, missing required keys, wrong types and values outside the rule raise ConfigError
naming `<where>.<key>` and the value. Adding a setting is one field here plus its line in
environments.toml; nothing else changes.

Supported field types: int, float, str, bool, tuple[str, ...] (a TOML array of strings),
Mapping[str, str] (a TOML table of strings), a nested settings dataclass (a TOML sub-table), and any of
these `| None` (optional: absent means None). A field without a default is required.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from platform_config.errors import ConfigError

# A check returns the problem with a value (completing "<key> = <value>: ...") or None when it is fine.
Check = Callable[[Any], str | None]


class Invalid(ValueError):
    """Raised by a check to blame one part of a value: Invalid(reason, part="aws:owner", value="x") is
    reported as `<key>.aws:owner = 'x': reason`. part default None (blame the key), value default the
    whole value."""

    def __init__(self, reason: str, *, part: str | None = None, value: Any = dataclasses.MISSING) -> None:
        super().__init__(reason)
        self.reason, self.part, self.value = reason, part, value


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a value must satisfy besides its type. between: inclusive (low, high); one_of: the allowed
    values; check: any other rule. All default to None (no constraint)."""

    between: tuple[float, float] | None = None
    one_of: tuple[Any, ...] | None = None
    check: Check | None = None

    def problem(self, value: Any) -> str | None:
        """Why `value` breaks this rule, or None."""
        if self.between is not None:
            low, high = self.between
            if not low <= value <= high:
                return f"must be between {low} and {high}"
        if self.one_of is not None and value not in self.one_of:
            return f"must be one of {', '.join(map(str, self.one_of))}"
        if self.check is not None:
            return self.check(value)
        return None


_RULE = "platform_config.rule"
_DOC = "platform_config.doc"
_FROM_TOML = "platform_config.from_toml"


def setting(
    default: Any = dataclasses.MISSING,
    *,
    between: tuple[float, float] | None = None,
    one_of: tuple[Any, ...] | None = None,
    check: Check | None = None,
    doc: str = "",
) -> Any:
    """A dataclass field read from TOML. No default: the key is required. See Rule for the checks."""
    metadata = {_RULE: Rule(between=between, one_of=one_of, check=check), _DOC: doc}
    if isinstance(default, (dict, list, set)):
        raise TypeError("use an immutable default (tuple, MappingProxyType) for a setting")
    if isinstance(default, Mapping):  # a read-only mapping is unhashable: dataclasses want a factory
        return dataclasses.field(default_factory=lambda: default, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def runtime(default: Any = None, *, doc: str = "") -> Any:
    """A field the loader fills from the process (environment name, paths), never from TOML."""
    return dataclasses.field(default=default, metadata={_FROM_TOML: False, _DOC: doc})


def toml_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields of a settings class that TOML may set, in declaration order."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get(_FROM_TOML, True)]


def field_doc(cls: type, name: str) -> str:
    """The `doc` of one field (empty when none was given)."""
    return next(f.metadata.get(_DOC, "") for f in dataclasses.fields(cls) if f.name == name)


def load_settings(cls: type, table: Mapping[str, Any], *, env: str, where: str = "", **runtime_values: Any) -> Any:
    """Build settings class `cls` from a TOML `table`; ConfigError names `<where>.<key>` on any problem.

    runtime_values fill the fields declared with `runtime()` (the loader's own values)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in toml_fields(cls)}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(env, _key(where, key), value, _unknown_key_reason(fields))
    values: dict[str, Any] = dict(runtime_values)
    for name, field in fields.items():
        key = _key(where, name)
        if name not in table:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise ConfigError(env, key, None, "required key is missing")
            continue
        value = _convert(hints[name], table[name], env=env, key=key)
        if value is not None:
            try:
                problem = field.metadata[_RULE].problem(value)
            except Invalid as exc:
                blamed = exc.value if exc.value is not dataclasses.MISSING else table[name]
                raise ConfigError(env, _key(key, exc.part) if exc.part else key, blamed, exc.reason) from exc
            if problem:
                raise ConfigError(env, key, table[name], problem)
        values[name] = value
    return cls(**values)


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _unknown_key_reason(fields: Mapping[str, dataclasses.Field[Any]]) -> str:
    return "unknown key" + (f"; expected one of {', '.join(fields)}" if len(fields) <= 12 else "")


def _convert(annotation: Any, value: Any, *, env: str, key: str) -> Any:
    """Check `value` against the field's type; return it in the dataclass's form (tuples, mappings)."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
    if options:
        (inner,) = [option for option in options if option is not type(None)]
        return _convert(inner, value, env=env, key=key)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise ConfigError(env, key, value, "must be a table")
        return load_settings(annotation, value, env=env, where=key)
    origin = typing.get_origin(annotation)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(env, key, value, "must be an array of strings")
        return tuple(value)
    if origin is Mapping or annotation is Mapping:
        if not isinstance(value, dict):
            raise ConfigError(env, key, value, "must be a table of strings")
        for name, item in value.items():
            if not isinstance(item, str):
                raise ConfigError(env, f"{key}.{name}", item, "must be a string")
        return types.MappingProxyType(dict(value))
    expected = {float: (int, float)}.get(annotation, annotation)
    # bool is an int subclass in Python; `true` is never a valid number of days.
    if not isinstance(value, expected) or (isinstance(value, bool) and annotation is not bool):
        raise ConfigError(env, key, value, f"must be a {annotation.__name__}")
    return value

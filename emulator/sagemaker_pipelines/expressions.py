"""Pipeline definition expressions: ``Get``, ``Std:Join``, ``Std:JsonGet``, and the steps they reference.

A definition (AWS format 2020-12-01) puts expressions anywhere a value goes:

* ``{"Get": "Parameters.X"}``: the execution's value of parameter X (over the definition's default);
* ``{"Get": "Execution.PipelineExecutionId"}`` (``...Arn``, ``PipelineName``, ``StartDateTime``);
* ``{"Get": "Steps.Name.Some.Path['item'][0]"}``: a property of a step that has succeeded, over its
  Describe*Job-shaped properties; ``['x']`` on a list picks the item whose ``OutputName``,
  ``ChannelName``, ``InputName`` (...) is ``x``;
* ``{"Std:Join": {"On": ",", "Values": [...]}}``: the values as text, joined;
* ``{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Name.PropertyFiles.F"}, "Path": "a.b[0]"}}``:
  a value from the JSON file the step declared as property file F.

``resolve`` replaces every expression in a value; ``referenced_steps`` lists the steps a value needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Keys that name an item of a list, so that `Outputs['train']` finds {"OutputName": "train", ...}.
ITEM_NAME_KEYS = ("OutputName", "InputName", "ChannelName", "PropertyFileName", "MetricName", "Name")
_PATH_TOKEN = re.compile(
    r"""\.?(?P<key>[A-Za-z_][A-Za-z0-9_\-]*)|\[(?P<index>-?\d+)\]|\[(?P<quote>['"])(?P<name>.*?)(?P=quote)\]"""
)

PropertyFileReader = Callable[[str, str], Any]
"""``read(step_name, property_file_name)`` -> the parsed JSON file (raises ``UnresolvedReference``)."""


class UnresolvedReference(Exception):
    """A reference the execution cannot resolve; the message names it."""


@dataclass(frozen=True)
class Named:
    """``['name']`` in a path: a list item by its name (or a dict key)."""

    name: str


def parse_path(path: str) -> list[str | int | Named]:
    """``Outputs['train'].S3Output.S3Uri`` -> ``["Outputs", Named("train"), "S3Output", "S3Uri"]``."""
    tokens: list[str | int | Named] = []
    position = 0
    while position < len(path):
        found = _PATH_TOKEN.match(path, position)
        if found is None or (found.group("key") and position and path[position] != "."):
            raise ValueError(f"cannot parse {path!r} at character {position}")
        if found.group("key") is not None:
            tokens.append(found.group("key"))
        elif found.group("index") is not None:
            tokens.append(int(found.group("index")))
        else:
            tokens.append(Named(found.group("name")))
        position = found.end()
    return tokens


def walk(value: Any, path: str) -> Any:
    """Follow ``path`` (see ``parse_path``) into ``value``; ``LookupError`` when a part is missing."""
    try:
        tokens = parse_path(path)
    except ValueError as exc:
        raise LookupError(str(exc)) from exc
    for token in tokens:
        if isinstance(token, int):
            if not isinstance(value, list):
                raise LookupError(f"[{token}] applied to a {type(value).__name__}")
            value = value[token]  # IndexError is a LookupError
        elif isinstance(token, Named) and isinstance(value, list):
            value = _named_item(value, token.name)
        else:
            key = token.name if isinstance(token, Named) else token
            if not isinstance(value, dict) or key not in value:
                raise LookupError(f"no {key!r}")
            value = value[key]
    return value


def _named_item(items: list[Any], name: str) -> Any:
    for item in items:
        if isinstance(item, dict) and any(item.get(key) == name for key in ITEM_NAME_KEYS):
            return item
    raise LookupError(f"no item named {name!r}")


def _is_expression(value: Any, key: str) -> bool:
    return isinstance(value, dict) and len(value) == 1 and key in value


def referenced_steps(value: Any) -> set[str]:
    """Names of the steps whose properties (or property files) ``value`` reads."""
    found: set[str] = set()
    if _is_expression(value, "Get"):
        reference = str(value["Get"])
        if reference.startswith("Steps."):
            found.add(reference.split(".")[1].split("[")[0])
    elif isinstance(value, dict):
        for item in value.values():
            found |= referenced_steps(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_steps(item)
    return found


def as_text(value: Any) -> str:
    """A resolved value as ``Std:Join`` writes it: text as is, numbers plainly, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class Context:
    """What expressions of one execution can read.

    ``parameters``: every declared parameter that has a value; ``execution``: the ``Execution.*``
    values; ``steps``: the properties of each step that has succeeded; ``read_property_file``
    reads a step's declared property file.
    """

    parameters: Mapping[str, Any]
    execution: Mapping[str, str]
    steps: Mapping[str, Mapping[str, Any]]
    read_property_file: PropertyFileReader

    def resolve(self, value: Any) -> Any:
        """``value`` with every expression replaced by its value; raises ``UnresolvedReference``."""
        if _is_expression(value, "Get"):
            return self._get(value["Get"])
        if _is_expression(value, "Std:Join"):
            join = value["Std:Join"]
            if not isinstance(join, dict) or not isinstance(join.get("Values"), list):
                raise UnresolvedReference(f"Std:Join needs On and a list of Values: {json.dumps(value)}")
            return str(join.get("On", "")).join(as_text(self.resolve(item)) for item in join["Values"])
        if _is_expression(value, "Std:JsonGet"):
            return self._json_get(value["Std:JsonGet"])
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def _get(self, reference: Any) -> Any:
        text = str(reference)
        scope, _, rest = text.partition(".")
        if scope == "Parameters":
            if rest not in self.parameters:
                raise UnresolvedReference(f"{{'Get': '{text}'}}: no parameter {rest!r} is declared with a value")
            return self.parameters[rest]
        if scope == "Execution":
            if rest not in self.execution:
                raise UnresolvedReference(f"{{'Get': '{text}'}}: unknown execution variable {rest!r}")
            return self.execution[rest]
        if scope == "Steps":
            step, _, path = rest.partition(".")
            step = step.split("[")[0]
            if step not in self.steps:
                raise UnresolvedReference(f"{{'Get': '{text}'}}: step {step!r} has not succeeded in this execution")
            if not path:
                raise UnresolvedReference(f"{{'Get': '{text}'}}: names a step, not one of its properties")
            try:
                return walk(self.steps[step], path)
            except LookupError as exc:
                raise UnresolvedReference(f"{{'Get': '{text}'}}: step {step} has no such property ({exc})") from exc
        raise UnresolvedReference(f"{{'Get': '{text}'}}: unknown scope {scope!r}")

    def _json_get(self, arguments: Any) -> Any:
        if not isinstance(arguments, dict) or "Path" not in arguments:
            raise UnresolvedReference(f"Std:JsonGet needs PropertyFile and Path: {json.dumps(arguments)}")
        source = arguments.get("PropertyFile")
        reference = str(source.get("Get", "")) if isinstance(source, dict) else ""
        parts = reference.split(".")
        if len(parts) != 4 or parts[0] != "Steps" or parts[2] != "PropertyFiles":
            raise UnresolvedReference(
                f"Std:JsonGet PropertyFile must be {{'Get': 'Steps.<step>.PropertyFiles.<name>'}}, not {source!r}"
            )
        step, name, path = parts[1], parts[3], str(arguments["Path"])
        if step not in self.steps:
            raise UnresolvedReference(f"{{'Get': '{reference}'}}: step {step!r} has not succeeded in this execution")
        document = self.read_property_file(step, name)
        try:
            return walk(document, path)
        except LookupError as exc:
            raise UnresolvedReference(
                f"Std:JsonGet {path!r} in property file {name} of step {step}: no such value ({exc})"
            ) from exc


__all__ = ["Context", "Named", "UnresolvedReference", "as_text", "parse_path", "referenced_steps", "walk"]

"""Which attributes one planned resource change touches, with sensitive values masked.

`terraform show -json <plan>` gives each resource change `before` and `after` values plus three shadow trees of
the same shape: `before_sensitive` / `after_sensitive` (true where a value is sensitive, or `true` for the whole
object) and `after_unknown` (true where the value is known only after apply). `attribute_changes` flattens both
sides to dotted paths (`tags.team`, `rule[0].id`) and returns the leaves that differ, each value rendered for a
reviewer: a sensitive value is never rendered, only `(sensitive)`, whichever side marks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SENSITIVE = "(sensitive)"
KNOWN_AFTER_APPLY = "(known after apply)"
ABSENT = "null"


@dataclass(frozen=True)
class AttributeChange:
    path: str
    before: str  # rendered: JSON text, SENSITIVE or ABSENT
    after: str  # rendered: JSON text, SENSITIVE, KNOWN_AFTER_APPLY or ABSENT
    forces_replacement: bool = False  # Terraform's replace_paths name it: this attribute is why it is replaced


@dataclass(frozen=True)
class _Leaf:
    value: Any
    sensitive: bool = False
    unknown: bool = False


def attribute_changes(change: Mapping[str, Any]) -> list[AttributeChange]:
    """The differing leaves of one `resource_changes[].change` object, in path order.

    null, [] and {} count as absent. Left out, as they say nothing a reviewer can check: for a create (no
    `before`) the values known only after apply (ids, ARNs) and `tags_all` (the provider's default tags, the same
    on every resource); for a replacement every value the new object only gets after apply or no longer has (its
    new id, ARN, computed blocks), except what forces the replacement; and `tags_all.<key>` where `tags.<key>`
    shows the same change. For an update the values known after apply stay, since they are what changes."""
    creating = change.get("before") is None
    replacing = sorted(change.get("actions") or ()) == ["create", "delete"]
    before = _present(_leaves(change.get("before"), change.get("before_sensitive")))
    after = _present(_leaves(change.get("after"), change.get("after_sensitive"), change.get("after_unknown")))
    replace_paths = [_path_text(path) for path in change.get("replace_paths") or ()]
    changes = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old == new and not (new and new.unknown):
            continue
        # ids and ARNs known only after apply, and the provider's default tags repeated on every resource.
        if creating and ((new is not None and new.unknown) or path.startswith("tags_all.")):
            continue
        forces = any(path == replace or path.startswith((f"{replace}.", f"{replace}[")) for replace in replace_paths)
        if replacing and not forces and (new is None or new.unknown):
            continue
        # Mask a value on both sides when either marks it: a secret turned public still shows no old secret.
        masked = bool((old and old.sensitive) or (new and new.sensitive))
        changes.append(AttributeChange(path, _render(old, masked), _render(new, masked), forces))
    shown = {(c.path, c.before, c.after) for c in changes}
    return [
        c
        for c in changes
        if not (c.path.startswith("tags_all.") and (f"tags.{c.path[9:]}", c.before, c.after) in shown)
    ]


def _present(leaves: Iterator[tuple[str, _Leaf]]) -> dict[str, _Leaf]:
    """The leaves that hold something: null, [] and {} count as absent."""
    return {path: leaf for path, leaf in leaves if leaf.value not in (None, [], {}) or leaf.sensitive or leaf.unknown}


def _path_text(steps: list[str | int]) -> str:
    """Terraform's replace path (["rule", 0, "id"]) in this module's notation (rule[0].id)."""
    text = ""
    for step in steps:
        text = _join(text, step)
    return text


def _join(path: str, step: str | int) -> str:
    """`path` one step further: a list index as `[0]`, a key as `.key` (or `key` at the top)."""
    if isinstance(step, int):
        return f"{path}[{step}]"
    return f"{path}.{step}" if path else str(step)


def _render(leaf: _Leaf | None, masked: bool) -> str:
    if leaf is None:
        return ABSENT
    if leaf.unknown:
        return KNOWN_AFTER_APPLY
    if masked or leaf.sensitive:
        return SENSITIVE
    return json.dumps(leaf.value, sort_keys=True)


def _leaves(value: Any, sensitive: Any = None, unknown: Any = None, path: str = "") -> Iterator[tuple[str, _Leaf]]:
    """(path, leaf) for every scalar (and every empty list or map) under `value`, carrying the shadow trees down.

    A `true` shadow marks everything below it. An unknown value may have no `value` at all (null or missing)."""
    if sensitive is True:
        yield path or "(value)", _Leaf(None, sensitive=True, unknown=unknown is True)
        return
    if unknown is True:
        yield path or "(value)", _Leaf(None, unknown=True)
        return
    if isinstance(value, Mapping) and value:
        for key in value:
            yield from _leaves(value[key], _child(sensitive, key), _child(unknown, key), _join(path, key))
        yield from _unknown_keys(unknown, path, present=value)  # keys with no value until apply
        return
    if isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, _child(sensitive, index), _child(unknown, index), _join(path, index))
        return
    if value is None and isinstance(unknown, Mapping):  # a whole block known only after apply
        yield from _unknown_keys(unknown, path, present={})
        return
    if path:
        yield path, _Leaf(value)


def _unknown_keys(unknown: Any, path: str, present: Mapping[str, Any]) -> Iterator[tuple[str, _Leaf]]:
    """A `(known after apply)` leaf for each key `unknown` marks true that `present` has no value for."""
    if isinstance(unknown, Mapping):
        for key, flag in unknown.items():
            if flag is True and key not in present:
                yield _join(path, key), _Leaf(None, unknown=True)


def _child(shadow: Any, key: str | int) -> Any:
    if isinstance(shadow, Mapping) and isinstance(key, str):
        return shadow.get(key)
    if isinstance(shadow, list) and isinstance(key, int) and key < len(shadow):
        return shadow[key]
    return None

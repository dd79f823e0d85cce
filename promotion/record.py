"""The promotion record: which version of each model production serves, and every promotion before it.

One JSON file per environment, append-only:

    platform_config/promotions/dev.json, prod.json   tracked in git (reviewed, the audit trail)
    <LOCAL_STATE_DIR>/promotions.json                 local: git-ignored, goes with the emulator's state

    {
      "record_format": 1,
      "environment": "prod",
      "models": {
        "churn": [
          {"action": "promote", "version": "1.0.3", "artifact": {"sha256": "<hex>", "bytes": 1234}, ...},
          {"action": "promote", "version": "1.1.0", ...},
          {"action": "rollback", "version": "1.0.3", ...}
        ]
      }
    }

Each model's entries are a stack: `promote` pushes a version, `rollback` pops the newest one (and names the
version it returns to). Production serves the top of the stack. The artifact store stack (synth) declares one
copy per version ever promoted and the production pointer from this file, so the file is the whole truth of
what production holds; `promotion/` checks it here, before anything reaches Terraform.

Standard library only: the stacks import it at synth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from training.model_naming import check_model_name, check_model_version

RECORD_FORMAT = 1
ACTIONS = ("promote", "rollback")
TRACKED_RECORDS = Path(__file__).resolve().parent.parent / "platform_config" / "promotions"
LOCAL_RECORD_FILE = "promotions.json"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA = re.compile(r"[0-9a-f]{40}")
_ETAG = re.compile(r'"[0-9A-Za-z-]{1,64}"')
# Values that become S3 object tags: the characters S3 allows in a tag value, at most 128 of them.
_TAG_VALUE = re.compile(r"[A-Za-z0-9 +\-=._:/@]{1,128}")
_RUN = re.compile(r"local|https://[A-Za-z0-9.-]+/[A-Za-z0-9._/-]+/actions/runs/[0-9]+(?:/attempts/[0-9]+)?")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
REASON_MAX = 500
# The pointer's content is a Terraform string, where these start a template expression.
_TEMPLATE = re.compile(r"[$%]\{")
_S3_URI = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:/[A-Za-z0-9!_.*'()/=-]*)?")


class RecordError(ValueError):
    """The record (or an entry about to join it) is malformed; the message names the file, model and field."""


@dataclass(frozen=True)
class Quality:
    """The metric the promotion checked, its value in the candidate's metrics.json, and the threshold then."""

    metric: str
    value: float
    threshold: float


@dataclass(frozen=True)
class Entry:
    """One promotion or rollback of one model.

    `approved_by` is who asked for it and answers for it (the workflow's dispatcher, or the person at the
    terminal); `reviewed_by` is filled after the fact with the GitHub environment reviewers who released it
    (audit only: it never reaches Terraform, so recording it changes no resource)."""

    action: str
    version: str
    sha256: str  # hex sha256 of model.tar.gz, as the candidate's manifest states and the check recomputed
    bytes: int
    etag: str  # the candidate object's ETag when those bytes were hashed: the copy's copy_if_match
    manifest_sha256: str
    training_data_uri: str
    quality: Quality
    approved_by: str
    approved_at: str  # UTC, 2026-11-29T22:30:00Z
    reason: str
    run: str  # the workflow run URL, or "local"
    git_sha: str  # the commit of the code that staged it
    reviewed_by: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "action": self.action,
            "version": self.version,
            "artifact": {"sha256": self.sha256, "bytes": self.bytes, "etag": self.etag},
            "manifest_sha256": self.manifest_sha256,
            "training_data_uri": self.training_data_uri,
            "quality": {
                "metric": self.quality.metric,
                "value": self.quality.value,
                "threshold": self.quality.threshold,
            },
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "reason": self.reason,
            "run": self.run,
            "git_sha": self.git_sha,
        }
        if self.reviewed_by:
            document["reviewed_by"] = list(self.reviewed_by)
        return document


@dataclass(frozen=True)
class Production:
    """What production serves for one model: the version, the entry that put it there (newest first), and the
    1-based position of that entry in the model's history (the pointer carries it, see promotion.guard)."""

    model: str
    version: str
    entry: Entry
    sequence: int


@dataclass(frozen=True)
class PromotionRecord:
    environment: str
    models: Mapping[str, tuple[Entry, ...]] = field(default_factory=dict)

    def history(self, model: str) -> tuple[Entry, ...]:
        return tuple(self.models.get(model, ()))

    def production(self, model: str) -> Production | None:
        """The version production serves for `model` (None if it was never promoted)."""
        history = self.history(model)
        stack = _version_stack(history)
        if not stack:
            return None
        return Production(model, stack[-1], history[-1], len(history))

    def productions(self) -> Iterator[Production]:
        for model in sorted(self.models):
            current = self.production(model)
            if current is not None:
                yield current

    def rollback_target(self, model: str) -> str:
        """The version a rollback of `model` returns to; RecordError when there is none."""
        stack = _version_stack(self.history(model))
        if not stack:
            raise RecordError(f"model {model} has never been promoted in {self.environment}: nothing to roll back")
        if len(stack) < 2:
            raise RecordError(
                f"model {model} has no earlier production version in {self.environment} to roll back to "
                f"({stack[0]} is the oldest one not rolled back already)"
            )
        return stack[-2]

    def promoted_versions(self, model: str) -> dict[str, Entry]:
        """Every version of `model` ever in production, each with the entry that first promoted it (whose
        approver and git sha tag the production copy; later entries of the same version change only the
        pointer, so re-promoting never rewrites bytes)."""
        first: dict[str, Entry] = {}
        for entry in self.history(model):
            first.setdefault(entry.version, entry)
        return first

    def with_entry(self, model: str, entry: Entry) -> PromotionRecord:
        """A new record with `entry` appended to `model`'s history (checked like a loaded one)."""
        check_entry(entry, f"new {model} entry")
        models = dict(self.models)
        models[model] = (*self.history(model), entry)
        record = replace(self, models=models)
        check_history(model, record.models[model], where=f"{self.environment} record")
        return record

    def to_json(self) -> dict[str, Any]:
        return {
            "record_format": RECORD_FORMAT,
            "environment": self.environment,
            "models": {model: [entry.to_json() for entry in entries] for model, entries in sorted(self.models.items())},
        }

    def dumps(self) -> str:
        """Deterministic JSON (stable key order, two-space indent, final newline): diffs show only what changed."""
        return json.dumps(self.to_json(), indent=2) + "\n"


def _version_stack(history: tuple[Entry, ...]) -> list[str]:
    stack: list[str] = []
    for entry in history:
        if entry.action == "promote":
            stack.append(entry.version)
        elif stack:
            stack.pop()
    return stack


# -- reading and checking ---------------------------------------------------------------------------


def record_path(environment: str, local_state_dir: Path | None = None) -> Path:
    """Where `environment`'s record lives: tracked for dev/prod, beside the local Terraform state for local."""
    if environment == "local":
        if local_state_dir is None:
            raise RecordError("the local promotion record needs the local state directory")
        return local_state_dir / LOCAL_RECORD_FILE
    return TRACKED_RECORDS / f"{environment}.json"


def display_path(path: Path) -> str:
    """`path` relative to the repository when it is inside it (messages name files as a user sees them)."""
    root = TRACKED_RECORDS.parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def load(path: Path, environment: str) -> PromotionRecord:
    """Read and check `path`. A missing local record is empty; a missing tracked record is an error, because
    deploying without it would point production back at nothing."""
    if not path.exists():
        if environment == "local":
            return PromotionRecord(environment)
        raise RecordError(f"{path} is missing: it is {environment}'s promotion record (tracked in git); restore it")
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path} is not readable JSON: {exc}") from exc
    return parse(document, environment, where=str(path))


def save(record: PromotionRecord, path: Path) -> None:
    """Write `record` to `path` whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(record.dumps())
    temporary.replace(path)


def parse(document: Any, environment: str, *, where: str) -> PromotionRecord:
    """A PromotionRecord from its JSON, every field checked; RecordError names `where`, the model and the field."""
    _require(isinstance(document, dict), where, "must be a JSON object")
    _only(document, ("record_format", "environment", "models"), where)
    _require(document.get("record_format") == RECORD_FORMAT, where, f"record_format must be {RECORD_FORMAT}")
    _require(
        document.get("environment") == environment,
        where,
        f"environment is {document.get('environment')!r}, expected {environment!r}",
    )
    models = document.get("models")
    _require(isinstance(models, dict), where, "models must be an object of model name -> entries")
    parsed: dict[str, tuple[Entry, ...]] = {}
    for model, entries in models.items():
        try:
            check_model_name(model)
        except ValueError as exc:
            raise RecordError(f"{where}: {exc}") from exc
        _require(isinstance(entries, list) and entries, f"{where}: {model}", "must be a non-empty list of entries")
        history = tuple(_entry(item, f"{where}: {model}[{index}]") for index, item in enumerate(entries))
        check_history(model, history, where=where)
        parsed[model] = history
    return PromotionRecord(environment, parsed)


def check_history(model: str, history: tuple[Entry, ...], *, where: str) -> None:
    """A history's rules: it starts with a promotion, a rollback returns to the version below the top, a
    rollback never empties production, and one version always has one sha256 and ETag (bytes never change)."""
    stack: list[str] = []
    identity: dict[str, tuple[str, str]] = {}
    for index, entry in enumerate(history):
        at = f"{where}: {model}[{index}]"
        known = identity.setdefault(entry.version, (entry.sha256, entry.etag))
        _require(
            known == (entry.sha256, entry.etag),
            at,
            f"version {entry.version} had sha256 {known[0]} (ETag {known[1]}), not {entry.sha256} ({entry.etag}): "
            "bytes never change",
        )
        if entry.action == "promote":
            stack.append(entry.version)
            continue
        _require(len(stack) >= 2, at, "a rollback needs an earlier production version")
        stack.pop()
        _require(
            stack[-1] == entry.version,
            at,
            f"a rollback here returns to {stack[-1]}, but the entry names {entry.version}",
        )


def _entry(item: Any, where: str) -> Entry:
    _require(isinstance(item, dict), where, "must be an object")
    _only(
        item,
        (
            "action",
            "version",
            "artifact",
            "manifest_sha256",
            "training_data_uri",
            "quality",
            "approved_by",
            "approved_at",
            "reason",
            "run",
            "git_sha",
            "reviewed_by",
        ),
        where,
    )
    artifact = _object(item, "artifact", where)
    quality = _object(item, "quality", where)
    reviewed = item.get("reviewed_by", [])
    _require(
        isinstance(reviewed, list)
        and all(isinstance(login, str) and _TAG_VALUE.fullmatch(login) for login in reviewed),
        where,
        "reviewed_by must be a list of logins",
    )
    entry = Entry(
        action=_text(item, "action", where),
        version=_text(item, "version", where),
        sha256=_text(artifact, "sha256", f"{where}.artifact"),
        bytes=_integer(artifact, "bytes", f"{where}.artifact"),
        etag=_text(artifact, "etag", f"{where}.artifact"),
        manifest_sha256=_text(item, "manifest_sha256", where),
        training_data_uri=_text(item, "training_data_uri", where),
        quality=Quality(
            metric=_text(quality, "metric", f"{where}.quality"),
            value=_number(quality, "value", f"{where}.quality"),
            threshold=_number(quality, "threshold", f"{where}.quality"),
        ),
        approved_by=_text(item, "approved_by", where),
        approved_at=_text(item, "approved_at", where),
        reason=_text(item, "reason", where),
        run=_text(item, "run", where),
        git_sha=_text(item, "git_sha", where),
        reviewed_by=tuple(reviewed),
    )
    check_entry(entry, where)
    return entry


def check_entry(entry: Entry, where: str) -> None:
    """Every field of one entry, wherever it comes from (a file, or the CLI about to stage it)."""
    _require(entry.action in ACTIONS, where, f"action {entry.action!r} must be one of {', '.join(ACTIONS)}")
    try:
        check_model_version(entry.version)
    except ValueError as exc:
        raise RecordError(f"{where}: {exc}") from exc
    _require(entry.version != "auto", where, "version must be a published semantic version, not 'auto'")
    for name, value in (("artifact.sha256", entry.sha256), ("manifest_sha256", entry.manifest_sha256)):
        _require(bool(_SHA256.fullmatch(value)), where, f"{name} {value!r} is not a lowercase hex sha256")
    _require(entry.bytes > 0, where, f"artifact.bytes {entry.bytes} must be positive")
    _require(bool(_ETAG.fullmatch(entry.etag)), where, f"artifact.etag {entry.etag!r} is not a quoted S3 ETag")
    _require(
        bool(_S3_URI.fullmatch(entry.training_data_uri)),
        where,
        f"training_data_uri {entry.training_data_uri!r} must be an s3:// URI",
    )
    _require(
        bool(_TAG_VALUE.fullmatch(entry.approved_by)),
        where,
        f"approved_by {entry.approved_by!r} must be 1-128 of letters, digits, spaces and + - = . _ : / @ "
        "(it becomes an S3 tag value)",
    )
    _require(bool(_GIT_SHA.fullmatch(entry.git_sha)), where, f"git_sha {entry.git_sha!r} is not a full commit sha")
    _require(bool(_RUN.fullmatch(entry.run)), where, f"run {entry.run!r} must be 'local' or a workflow run URL")
    _require(bool(_TIMESTAMP.fullmatch(entry.approved_at)), where, f"approved_at {entry.approved_at!r} is not UTC")
    try:
        datetime.strptime(entry.approved_at, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise RecordError(f"{where}: approved_at {entry.approved_at!r} is not a date: {exc}") from exc
    check_reason(entry.reason, where)


def check_reason(reason: str, where: str = "reason") -> str:
    """A reason is 1-500 printable characters on one line (it is shown in job summaries and the pointer)."""
    _require(bool(reason.strip()), where, "reason must not be empty: say why this version goes to production")
    _require(len(reason) <= REASON_MAX, where, f"reason is {len(reason)} characters; at most {REASON_MAX}")
    _require(reason.isprintable(), where, "reason must be one line of printable characters")
    _require(not _TEMPLATE.search(reason), where, "reason must not contain '${' or '%{' (Terraform template syntax)")
    return reason


def _require(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise RecordError(f"{where}: {problem}")


def _only(document: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(document) - set(allowed))
    _require(not unknown, where, f"unknown field(s) {', '.join(unknown)}")


def _object(document: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = document.get(key)
    _require(isinstance(value, dict), where, f"{key} must be an object")
    return value


def _text(document: Mapping[str, Any], key: str, where: str) -> str:
    value = document.get(key)
    _require(isinstance(value, str), where, f"{key} must be a string, not {value!r}")
    return value


def _integer(document: Mapping[str, Any], key: str, where: str) -> int:
    value = document.get(key)
    _require(isinstance(value, int) and not isinstance(value, bool), where, f"{key} must be an integer, not {value!r}")
    return value


def _number(document: Mapping[str, Any], key: str, where: str) -> float:
    value = document.get(key)
    _require(
        isinstance(value, (int, float)) and not isinstance(value, bool), where, f"{key} must be a number, not {value!r}"
    )
    return float(value)

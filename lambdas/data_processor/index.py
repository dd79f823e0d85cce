"""The per-object index ("current pointer"): one small JSON document per raw object naming its current
version and that version's outputs, and the commit that moves it, the one place where outputs stop being
current data.

    index/<dataset>/<path>.json   (keys.index_key: the raw key with index/ for incoming/, plus .json)
    {"format_version": 1,
     "source": {"bucket", "key", "version_id", "etag", "size", "last_modified", "sequencer"},
     "version": "<the version as it appears in the output keys>", "dataset": "<dataset or _unknown>",
     "status": "processed" | "quarantined", "reason_code": null | "<code>",
     "outputs": [every output key of that version], "manifest": "<key>" | null, "report": "<key>" | null,
     "rows_read": n, "rows_written": n, "rows_quarantined": n, "rows_blank": n, "committed_at": "...Z"}

Rules:
- A version's outputs are written under keys of their own (the version is in the key) before the index names
  them, so writing them never touches another version's outputs.
- Outputs the index names stop being current only in commit(), run for the version that is current: it
  deletes them, then points the index at its own outputs with a conditional put (If-Match the ETag it read,
  If-None-Match * when there was none). A lost race (412, or 409 for concurrent conditional writes) re-reads
  and decides again, at most COMMIT_ATTEMPTS times.
- A run that finds its version no longer current deletes its own outputs unless the index names them (then
  the current version's commit will), and leaves the index alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from data_processor.s3_io import delete_keys, is_missing, put_json

INDEX_FORMAT_VERSION = 1
COMMIT_ATTEMPTS = 5
CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


class IndexConflict(RuntimeError):
    """The index kept changing under every commit attempt; raised so the invocation is retried later."""


class IndexUnreadable(RuntimeError):
    """The index document is not one this module wrote (not JSON, or no outputs list); the message names it."""


@dataclass(frozen=True)
class Pointer:
    """The index as read: its document and ETag, both None when there is no index yet."""

    document: dict[str, Any] | None
    etag: str | None

    @property
    def outputs(self) -> tuple[str, ...]:
        """The output keys the index names (none without an index)."""
        return tuple(self.document["outputs"]) if self.document is not None else ()

    @property
    def version(self) -> str | None:
        """The version token the index names (None without an index)."""
        return self.document.get("version") if self.document is not None else None


@dataclass(frozen=True)
class CommitResult:
    """committed: the index now names this version. removed: the keys deleted (an older version's outputs
    when committed, this version's own when not). previous: the document that was read last."""

    committed: bool
    removed: tuple[str, ...]
    previous: dict[str, Any] | None


def index_document(
    *,
    source: dict[str, Any],
    version: str,
    dataset: str,
    status: str,
    outputs: Sequence[str],
    counts: dict[str, int],
    committed_at: str,
    reason_code: str | None = None,
    manifest: str | None = None,
    report: str | None = None,
) -> dict[str, Any]:
    """The index document of one version (see the module docstring). `source` holds bucket, key, version_id,
    etag, size, last_modified and sequencer (None when the trigger did not carry one); reason_code, manifest
    and report default to None; counts holds rows_read/written/quarantined/blank."""
    return {
        "format_version": INDEX_FORMAT_VERSION,
        "source": dict(source),
        "version": version,
        "dataset": dataset,
        "status": status,
        "reason_code": reason_code,
        "outputs": list(outputs),
        "manifest": manifest,
        "report": report,
        **counts,
        "committed_at": committed_at,
    }


def read_pointer(s3: Any, bucket: str, key: str) -> Pointer:
    """GetObject of the index; Pointer(None, None) when there is none (a 403 for a missing key counts as
    missing, see s3_io.is_missing). Raises IndexUnreadable for a document this module did not write."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_missing(s3, bucket, key, exc):
            return Pointer(None, None)
        raise
    body = response["Body"]
    try:
        text = body.read()
    finally:
        body.close()
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise IndexUnreadable(f"s3://{bucket}/{key} is not JSON: {exc}") from exc
    outputs = document.get("outputs") if isinstance(document, dict) else None
    if not isinstance(outputs, list) or not all(isinstance(item, str) for item in outputs):
        raise IndexUnreadable(f"s3://{bucket}/{key} has no list of output keys; fix or delete it")
    return Pointer(document, response["ETag"])


def commit(
    s3: Any,
    bucket: str,
    key: str,
    document: dict[str, Any],
    *,
    still_current: Callable[[], bool],
    discard_own: bool = True,
    attempts: int = COMMIT_ATTEMPTS,
) -> CommitResult:
    """Make the index at `key` name `document` (its "outputs" already written), if its version is still current.

    still_current() asks S3 whether this version is still the raw object's current one; it is called after
    each read of the index, so a newer version committed after that read changes the index's ETag and this
    put fails instead of overwriting it. discard_own (default True): when no longer current, delete this
    version's own outputs the index does not name; False when they share keys with the newer version (an
    unversioned bucket, where every version is "null"). attempts (default COMMIT_ATTEMPTS) bounds the retries
    after a lost race; then IndexConflict."""
    own = tuple(document["outputs"])
    for _ in range(attempts):
        pointer = read_pointer(s3, bucket, key)
        if not still_current():
            orphans = [output for output in own if output not in pointer.outputs] if discard_own else []
            delete_keys(s3, bucket, orphans)
            return CommitResult(committed=False, removed=tuple(orphans), previous=pointer.document)
        stale = [output for output in pointer.outputs if output not in own]
        # Delete before the pointer moves. A crash between the two leaves the index naming deleted keys of a
        # version that is no longer current, never current outputs unnamed; the Lambda's retry processes the
        # current version again and commits (or, if that version is stale by then, the newer one's run does).
        delete_keys(s3, bucket, stale)
        try:
            put_json(
                s3,
                bucket,
                key,
                _carry_over(document, pointer),
                if_match=pointer.etag,
                create_only=pointer.etag is None,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in CONFLICT_CODES:
                continue  # another run moved the index since we read it: read it again and decide again
            raise
        return CommitResult(committed=True, removed=tuple(stale), previous=pointer.document)
    raise IndexConflict(f"s3://{bucket}/{key} changed under each of {attempts} commit attempts")


def _carry_over(document: dict[str, Any], pointer: Pointer) -> dict[str, Any]:
    """Keep the event sequencer of an earlier commit of the same version when this run has none (a backfill)."""
    previous = pointer.document
    if previous is None or pointer.version != document["version"] or document["source"].get("sequencer"):
        return document
    sequencer = (previous.get("source") or {}).get("sequencer")
    if not sequencer:
        return document
    return {**document, "source": {**document["source"], "sequencer": sequencer}}

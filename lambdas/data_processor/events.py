"""Parse the processor's trigger events into ObjectRefs (pure).

Accepted shapes:
  S3 notification   {"Records": [{"eventSource": "aws:s3", "eventTime": "...Z",
                                  "s3": {"bucket": {"name": B},
                                         "object": {"key": K, "versionId": V?, "sequencer": Q?, ...}}}]}
                    K is URL-encoded with '+' for space, as S3 sends it. Q orders the events of one key
                    (recorded in the index; the current version itself is asked of S3).
  backfill item     {"bucket": B, "key": K, "versionId": V?}   (a Step Functions Distributed Map item; K plain)
  S3 test event     {"Event": "s3:TestEvent", ...}            (nothing to do)
Anything else raises InvalidEvent: a wiring bug, so the invocation fails and reaches the DLQ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus


class InvalidEvent(ValueError):
    """The event is not one of the accepted shapes; the message says which field is wrong."""


@dataclass(frozen=True)
class ObjectRef:
    """One raw object to process. version_id None: the bucket is unversioned or the sender did not say (a
    backfill item), so the current version is processed. event_time and sequencer: only S3 notifications."""

    bucket: str
    key: str
    version_id: str | None = None
    event_time: datetime | None = None
    sequencer: str | None = None


def parse_event(event: Any) -> list[ObjectRef]:
    """The objects an event asks to process, in event order."""
    if not isinstance(event, dict):
        raise InvalidEvent(f"event must be a JSON object, got {type(event).__name__}")
    if "Records" in event:
        records = event["Records"]
        if not isinstance(records, list):
            raise InvalidEvent("Records must be a list")
        return [_record(index, record) for index, record in enumerate(records)]
    if "bucket" in event or "key" in event:
        return [_backfill(event)]
    if event.get("Event") == "s3:TestEvent":
        return []
    raise InvalidEvent("expected an S3 notification (Records) or a backfill item {bucket, key, versionId?}")


def _record(index: int, record: Any) -> ObjectRef:
    where = f"Records[{index}]"
    if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
        raise InvalidEvent(f"{where}.eventSource must be aws:s3")
    try:
        bucket = record["s3"]["bucket"]["name"]
        obj = record["s3"]["object"]
        key = unquote_plus(obj["key"])
    except (KeyError, TypeError) as exc:
        raise InvalidEvent(f"{where}.s3 needs bucket.name and object.key (missing {exc})") from exc
    return ObjectRef(
        bucket=_text(where, "bucket", bucket),
        key=_text(where, "key", key),
        version_id=obj.get("versionId") or None,
        event_time=_time(where, record.get("eventTime")),
        sequencer=obj.get("sequencer") if isinstance(obj.get("sequencer"), str) and obj.get("sequencer") else None,
    )


def _backfill(event: dict[str, Any]) -> ObjectRef:
    version = event.get("versionId")
    if version is not None and not isinstance(version, str):
        raise InvalidEvent("backfill item: versionId must be a string")
    return ObjectRef(
        bucket=_text("backfill item", "bucket", event.get("bucket")),
        key=_text("backfill item", "key", event.get("key")),
        version_id=version or None,
    )


def _text(where: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{where}: {name} must be a non-empty string, got {value!r}")
    return value


def _time(where: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidEvent(f"{where}.eventTime is not an ISO 8601 time: {value!r}") from exc

"""GetBucketNotificationConfiguration returns the EventBridge switch that was set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_eventbridge_configuration_is_read_back(aws: Callable[[str], Any], name: Callable[[str], str]) -> None:
    s3 = aws("s3")
    bucket = name("events")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["EventBridgeConfiguration"] == {}


def test_bucket_without_eventbridge_reports_none(aws: Callable[[str], Any], name: Callable[[str], str]) -> None:
    s3 = aws("s3")
    bucket = name("quiet")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=bucket)

"""S3 ``EventBridgeConfiguration``: return it from GetBucketNotificationConfiguration.

moto gap: ``moto/s3/responses.py`` ``S3Response.get_bucket_notification`` stores the
EventBridge setting (``NotificationConfiguration.event_bridge``) but never returns it, so
Terraform's ``aws_s3_bucket_notification.eventbridge = true`` shows a diff on every plan.

The patch adds ``EventBridgeConfiguration: {}`` to the response when it is enabled, as
AWS does; everything else of moto's response is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension


def _with_eventbridge(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_bucket_notification(self: Any) -> Any:
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return original(self)
        from moto.core.responses import ActionResult

        serialized = self.serialized

        def serialize_with_eventbridge(result: Any) -> Any:
            if isinstance(result, ActionResult):
                result.result["EventBridgeConfiguration"] = {}
            return serialized(result)

        self.serialized = serialize_with_eventbridge
        try:
            return original(self)
        finally:
            del self.serialized  # back to the class method

    return get_bucket_notification


class S3EventBridgeNotifications(PatchExtension):
    """Round-trip the EventBridge switch of S3 bucket notifications."""

    name = "s3-eventbridge-notifications"

    def patches(self) -> Sequence[Patch]:
        from moto.s3.responses import S3Response

        return (Patch.wrap(S3Response, "get_bucket_notification", _with_eventbridge),)

"""Step Functions Distributed Map: ``arn:aws:states:::s3:listObjectsV2`` ItemReader as on AWS.

moto gap: ``moto/stepfunctions/parser/asl/component/state/exec/state_map/item_reader/eval/resource_eval_s3.py``
``ResourceEvalS3._handle_list_objects_v2`` makes one ``ListObjectsV2`` call and returns its
raw ``Contents``, so

* only the first 1,000 objects of a prefix are processed (no pagination);
* a prefix with no objects raises ``KeyError: 'Contents'`` and fails the execution
  (AWS runs an empty Map run and succeeds with ``[]``);
* every item carries boto3's ``datetime`` ``LastModified`` plus extra keys, and an
  execution whose output or history holds a whole item makes DescribeExecution and
  GetExecutionHistory answer HTTP 500 (``datetime is not JSON serializable``).

The patch replaces that handler: it follows ``NextContinuationToken`` to the end and
yields items shaped like AWS's (``Etag``, ``Key``, ``LastModified`` in epoch seconds,
``Size``, ``StorageClass``), e.g. ``{"Etag": "\\"d41d8...\\"", "Key": "in/a.json",
"LastModified": 1668699881, "Size": 34910, "StorageClass": "STANDARD"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from emulator.extension import Patch, PatchExtension


def item_from_s3(entry: dict[str, Any]) -> dict[str, Any]:
    """One ``ListObjectsV2`` ``Contents`` entry as a Distributed Map item."""
    modified = entry.get("LastModified")
    return {
        "Etag": entry.get("ETag", ""),
        "Key": entry["Key"],
        "LastModified": int(modified.timestamp()) if isinstance(modified, datetime) else modified,
        "Size": entry.get("Size", 0),
        "StorageClass": entry.get("StorageClass", "STANDARD"),
    }


def _list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
        ResourceEvalS3,
    )

    s3_client = ResourceEvalS3._get_s3_client(
        resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
    )
    parameters = dict(env.stack.pop())
    items: list[dict[str, Any]] = []
    while True:
        response = s3_client.list_objects_v2(**parameters)
        items.extend(item_from_s3(entry) for entry in response.get("Contents", []))
        token = response.get("NextContinuationToken")
        if not response.get("IsTruncated") or not token:
            break
        parameters["ContinuationToken"] = token
    env.stack.append(items)


class StepFunctionsS3ItemReader(PatchExtension):
    """Paginate the S3 ListObjectsV2 ItemReader and shape its items like AWS."""

    name = "sfn-s3-item-reader"
    # Patches the ASL interpreter's ItemReader, which only runs once sfn-execution switches it on.
    requires = ("sfn-execution",)

    def patches(self) -> Sequence[Patch]:
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
            ResourceEvalS3,
        )

        return (Patch.replace(ResourceEvalS3, "_handle_list_objects_v2", staticmethod(_list_objects_v2)),)

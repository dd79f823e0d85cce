"""The Amazon States Language definition of an S3 prefix fan-out (pure data, no cdktf),
shared by the construct that deploys it and the emulator tests that run it."""

from __future__ import annotations

from typing import Any

from building_blocks.states_language import lambda_retry, lambda_task


def fan_out_definition(
    bucket_name: str, function_arn: str, max_concurrency: int, tolerated_failure_percentage: int
) -> dict[str, Any]:
    """The Amazon States Language definition (a Distributed Map over ListObjectsV2)."""
    return {
        "Comment": "Run the function once for every object under $.prefix",
        "StartAt": "ProcessEachObject",
        "States": {
            "ProcessEachObject": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": bucket_name, "Prefix.$": "$.prefix"},
                },
                "ItemSelector": {"bucket": bucket_name, "key.$": "$$.Map.Item.Value.Key"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "ProcessObject",
                    "States": {
                        "ProcessObject": lambda_task(function_arn, retry=lambda_retry(3)),
                    },
                },
                "MaxConcurrency": max_concurrency,
                "ToleratedFailurePercentage": tolerated_failure_percentage,
                "ResultSelector": {"objects.$": "States.ArrayLength($)"},
                "End": True,
            }
        },
    }

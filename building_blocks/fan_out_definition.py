"""The Amazon States Language definition of an S3 prefix fan-out (pure data, no cdktf),
shared by the construct that deploys it and the emulator tests that run it."""

from __future__ import annotations

from typing import Any

# Errors worth retrying: Lambda throttles and transient service faults, never handler bugs.
RETRYABLE_LAMBDA_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)


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
                        "ProcessObject": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                            "OutputPath": "$.Payload",
                            "Retry": [
                                {
                                    "ErrorEquals": list(RETRYABLE_LAMBDA_ERRORS),
                                    "IntervalSeconds": 2,
                                    "MaxAttempts": 3,
                                    "BackoffRate": 2,
                                }
                            ],
                            "End": True,
                        }
                    },
                },
                "MaxConcurrency": max_concurrency,
                "ToleratedFailurePercentage": tolerated_failure_percentage,
                "ResultSelector": {"objects.$": "States.ArrayLength($)"},
                "End": True,
            }
        },
    }

"""Amazon States Language pieces every definition of the platform shares (pure data, no cdktf).

A Lambda task is `arn:aws:states:::lambda:invoke` (the function's result is `$.Payload`), retried only for what
is transient: Lambda service faults and throttles, never the handler's own errors, which a retry would repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LAMBDA_INVOKE_RESOURCE = "arn:aws:states:::lambda:invoke"
SNS_PUBLISH_RESOURCE = "arn:aws:states:::sns:publish"
# Errors worth retrying: Lambda throttles and transient service faults, never handler bugs.
# (AWS's list: "Handle transient Lambda service exceptions", Step Functions best practices.)
RETRYABLE_LAMBDA_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
)
ALL_ERRORS = "States.ALL"


def lambda_retry(
    max_attempts: int,
    *,
    interval_seconds: int = 2,
    backoff_rate: float = 2.0,
    max_delay_seconds: int | None = None,
    jitter: bool = False,
) -> dict[str, Any]:
    """One Retry rule for RETRYABLE_LAMBDA_ERRORS: wait interval_seconds (default 2), then backoff_rate times
    longer (default 2.0) per attempt, at most max_delay_seconds (default no cap); jitter (default False) is
    Step Functions' FULL strategy, a random wait up to that delay, so throttled executions spread out instead of
    retrying in lockstep. max_attempts 0 means no retry."""
    if not 0 <= max_attempts <= 99:
        raise ValueError(f"max_attempts={max_attempts} must be 0-99")
    if interval_seconds < 1 or backoff_rate < 1.0:
        raise ValueError(f"interval_seconds={interval_seconds} must be >= 1 and backoff_rate={backoff_rate} >= 1.0")
    retry: dict[str, Any] = {
        "ErrorEquals": list(RETRYABLE_LAMBDA_ERRORS),
        "IntervalSeconds": interval_seconds,
        "MaxAttempts": max_attempts,
        "BackoffRate": backoff_rate,
    }
    if max_delay_seconds is not None:
        retry["MaxDelaySeconds"] = max_delay_seconds
    if jitter:
        retry["JitterStrategy"] = "FULL"
    return retry


def lambda_task(
    function_arn: str,
    *,
    payload: Mapping[str, Any] | None = None,
    retry: Mapping[str, Any],
    next_state: str | None = None,
    catch: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Task state invoking `function_arn` with `payload` (default: the state's input) whose output is the
    function's result; `retry` from lambda_retry; then `next_state`, or the end when None; `catch` (default none)
    is one Catch rule."""
    parameters: dict[str, Any] = {"FunctionName": function_arn}
    if payload is None:
        parameters["Payload.$"] = "$"
    else:
        parameters["Payload"] = dict(payload)
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE_RESOURCE,
        "Parameters": parameters,
        "OutputPath": "$.Payload",
        "Retry": [dict(retry)],
    }
    if catch is not None:
        state["Catch"] = [dict(catch)]
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state

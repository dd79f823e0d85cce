"""The Amazon States Language definition of the inference workflow (pure data, no cdktf), shared by the stack
that deploys it and the tests that run it.

    Preprocess ──▶ Predict ──▶ Succeeded
        │ any error   │ any error      (after Retry: Lambda service errors and throttles only)
        └──────┬──────┘
               ▼
         NotifyFailure (SNS publish: execution, input, error, cause) ──▶ Failed (the step's error and cause,
                                                                            even when the publish fails)

Preprocess gets `{"request": <execution input>, "execution_id": <execution name>}`: the whole input, so the
function (not the interpreter) judges it and a bad input fails as a named, catchable error
(lambdas/inference_common/contract.py). Predict gets preprocess's result; its result is the execution's output.
The failure message carries the execution input and the error, never row data (the functions pass locations
and counts only).
"""

from __future__ import annotations

from typing import Any

from building_blocks.states_language import ALL_ERRORS, SNS_PUBLISH_RESOURCE, lambda_retry, lambda_task

FAILURE_SUBJECT = "Inference execution failed"
RETRY_INTERVAL_SECONDS = 2
RETRY_MAX_DELAY_SECONDS = 60


def inference_definition(
    *, preprocess_arn: str, predict_arn: str, failure_topic_arn: str, retry_max_attempts: int
) -> dict[str, Any]:
    """The definition (module docstring): each step retried retry_max_attempts times on Lambda service errors
    with exponential backoff (2 s, doubling, at most 60 s) and full jitter; any other error is published to
    `failure_topic_arn` and fails the execution."""
    retry = lambda_retry(
        retry_max_attempts,
        interval_seconds=RETRY_INTERVAL_SECONDS,
        max_delay_seconds=RETRY_MAX_DELAY_SECONDS,
        jitter=True,
    )
    # The error replaces the state (ResultPath "$"): a catcher writing beside the input would itself fail, uncaught,
    # on an input that is not a JSON object (a string is valid JSON). The message takes the input from the context.
    catch = {"ErrorEquals": [ALL_ERRORS], "ResultPath": "$", "Next": "NotifyFailure"}
    return {
        "Comment": "Batch inference: preprocess (validate, clean) then predict with the production model",
        "StartAt": "Preprocess",
        "States": {
            "Preprocess": lambda_task(
                preprocess_arn,
                payload={"request.$": "$", "execution_id.$": "$$.Execution.Name"},
                retry=retry,
                catch=catch,
                next_state="Predict",
            ),
            "Predict": lambda_task(predict_arn, retry=retry, catch=catch, next_state="Succeeded"),
            "Succeeded": {"Type": "Succeed"},
            "NotifyFailure": {
                "Type": "Task",
                "Resource": SNS_PUBLISH_RESOURCE,
                "Parameters": {
                    "TopicArn": failure_topic_arn,
                    "Subject": FAILURE_SUBJECT,
                    "Message": {
                        "state_machine.$": "$$.StateMachine.Name",
                        "execution.$": "$$.Execution.Id",
                        "execution_input.$": "$$.Execution.Input",
                        "error.$": "$.Error",
                        "cause.$": "$.Cause",
                    },
                },
                "ResultPath": None,  # keep the error for the Fail state
                "Retry": [
                    {
                        "ErrorEquals": ["SNS.ThrottledException", "SNS.InternalErrorException"],
                        "IntervalSeconds": RETRY_INTERVAL_SECONDS,
                        "MaxAttempts": 3,
                        "BackoffRate": 2.0,
                        "JitterStrategy": "FULL",
                    }
                ],
                # A notification that cannot be sent must not hide the step's error: the execution still fails with it.
                "Catch": [{"ErrorEquals": [ALL_ERRORS], "ResultPath": "$.notification_error", "Next": "Failed"}],
                "Next": "Failed",
            },
            # The execution fails with the step's own error and cause, so DescribeExecution shows them too.
            "Failed": {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"},
        },
    }

"""Local Lambda runtime: deployed zips really run (sync, async, S3 notifications, DLQ, logs, Step Functions)."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lambda_zip_support import create_function, process_alive, run_execution, wait_for, zip_bytes

from emulator import EmulatorServer
from emulator.lambda_runtime import AsyncInvoker, AsyncJob, AsyncSettings, FunctionSpec, LocalLambdaRunner
from emulator.patches.lambda_runtime import LocalLambdaRuntime, remove_stale_work_dirs

Aws = Callable[[str], Any]
Name = Callable[[str], str]
ROLE_ARN = "arn:aws:iam::123456789012:role/sfn-test"


def invoke(aws: Aws, function: str, payload: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = aws("lambda").invoke(FunctionName=function, Payload=json.dumps(payload), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_sync_invoke_returns_the_handlers_result_with_env_and_context(
    aws: Aws, name: Name, emulator_server: EmulatorServer
) -> None:
    function = create_function(
        aws, name, "echo", MemorySize=256, Timeout=7, Environment={"Variables": {"GREETING": "hej"}}
    )
    response, result = invoke(aws, function["FunctionName"], {"n": 1})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert result["event"] == {"n": 1}
    assert result["env"] == {
        "GREETING": "hej",
        "AWS_ENDPOINT_URL": emulator_server.url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_LAMBDA_FUNCTION_NAME": function["FunctionName"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function['FunctionName']}",
        "LAMBDA_TASK_ROOT": result["cwd"],
    }
    assert result["sys_path0"] == result["cwd"]  # the zip's directory comes first
    context = result["context"]
    assert re.fullmatch(r"[0-9a-f-]{36}", context["aws_request_id"])
    assert context["function_name"] == function["FunctionName"]
    assert context["memory_limit_in_mb"] == "256"
    assert context["invoked_function_arn"] == function["FunctionArn"]
    assert 0 < context["remaining"] <= 7000


def test_handler_talks_to_the_emulator(aws: Aws, name: Name) -> None:
    bucket = name("bucket")
    aws("s3").create_bucket(Bucket=bucket)
    aws("s3").put_object(Bucket=bucket, Key="in/a.txt", Body=b"data")
    function = create_function(aws, name, "copy_object", Environment={"Variables": {"GREETING": "hi"}})

    response, result = invoke(aws, function["FunctionName"], {"bucket": bucket, "key": "in/a.txt"})

    assert "FunctionError" not in response, result
    assert result == {"written": ["out/a.txt"]}
    assert aws("s3").get_object(Bucket=bucket, Key="out/a.txt")["Body"].read() == b"hi:data"


def test_handler_exception_is_an_unhandled_function_error(aws: Aws, name: Name) -> None:
    function = create_function(aws, name, "fail")
    response, error = invoke(aws, function["FunctionName"], {"x": 1}, LogType="Tail")

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == 'boom {"x": 1}'
    assert re.fullmatch(r"[0-9a-f-]{36}", error["requestId"])
    assert len(error["stackTrace"]) == 1 and "app.py" in error["stackTrace"][0] and "in fail" in error["stackTrace"][0]
    log = base64.b64decode(response["LogResult"]).decode()
    assert "about to fail" in log
    assert "[ERROR] ValueError: boom" in log
    assert "bootstrap.py" not in log


def test_timeout_kills_the_whole_process_group(aws: Aws, name: Name, tmp_path: Path) -> None:
    function = create_function(aws, name, "hang", Timeout=1)
    pid_file = tmp_path / "pids"

    started = time.monotonic()
    response, error = invoke(aws, function["FunctionName"], {"pid_file": str(pid_file), "seconds": 5})
    elapsed = time.monotonic() - started

    assert 1.0 <= elapsed < 3.0
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    handler_pid, child_pid = (int(pid) for pid in pid_file.read_text().split())
    wait_for(lambda: not process_alive(handler_pid) and not process_alive(child_pid), timeout=3)


def test_logs_go_to_the_log_group_and_the_emulator_log(aws: Aws, name: Name, caplog: pytest.LogCaptureFixture) -> None:
    logs = aws("logs")
    with_group = create_function(aws, name, "echo")
    group = f"/aws/lambda/{with_group['FunctionName']}"
    logs.create_log_group(logGroupName=group)
    without_group = create_function(aws, name, "echo")

    with caplog.at_level(logging.INFO, logger="emulator.lambda"):
        invoke(aws, with_group["FunctionName"], {"tag": "with"})
        invoke(aws, without_group["FunctionName"], {"tag": "without"})

    messages = [event["message"] for event in logs.filter_log_events(logGroupName=group)["events"]]
    assert messages[0].startswith("START RequestId: ")
    assert 'echo log line {"tag": "with"}' in messages
    assert messages[-2].startswith("END RequestId: ") and messages[-1].startswith("REPORT RequestId: ")
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1 and "[$LATEST]" in streams[0]["logStreamName"]
    # Terraform creates the group; without one, nothing is created.
    missing = f"/aws/lambda/{without_group['FunctionName']}"
    assert logs.describe_log_groups(logGroupNamePrefix=missing)["logGroups"] == []
    emulator_lines = caplog.messages
    assert f'[{with_group["FunctionName"]}] echo log line {{"tag": "with"}}' in emulator_lines
    assert f'[{without_group["FunctionName"]}] echo log line {{"tag": "without"}}' in emulator_lines


def test_event_invocation_returns_at_once_and_runs_in_the_background(aws: Aws, name: Name) -> None:
    bucket = name("bucket")
    aws("s3").create_bucket(Bucket=bucket)
    aws("s3").put_object(Bucket=bucket, Key="in/b.txt", Body=b"later")
    function = create_function(aws, name, "copy_object")

    started = time.monotonic()
    response = aws("lambda").invoke(
        FunctionName=function["FunctionName"],
        InvocationType="Event",
        Payload=json.dumps({"bucket": bucket, "key": "in/b.txt", "delay": 1.5}),
    )
    assert time.monotonic() - started < 1.0  # the handler sleeps 1.5 s first
    assert response["StatusCode"] == 202

    def copied() -> bytes | None:
        listed = aws("s3").list_objects_v2(Bucket=bucket, Prefix="out/").get("Contents", [])
        return aws("s3").get_object(Bucket=bucket, Key="out/b.txt")["Body"].read() if listed else None

    assert wait_for(copied) == b":later"


def test_s3_notification_runs_the_function_asynchronously(aws: Aws, name: Name) -> None:
    s3 = aws("s3")
    bucket = name("bucket")
    s3.create_bucket(Bucket=bucket)
    function = create_function(aws, name, "copy_object", Environment={"Variables": {"GREETING": "seen"}})
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": function["FunctionArn"],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                }
            ]
        },
    )

    started = time.monotonic()
    s3.put_object(Bucket=bucket, Key="in/c.txt", Body=b"payload")
    assert time.monotonic() - started < 0.5  # PutObject does not wait for the function

    def copied() -> bool:
        return bool(s3.list_objects_v2(Bucket=bucket, Prefix="out/").get("Contents"))

    wait_for(copied)
    assert s3.get_object(Bucket=bucket, Key="out/c.txt")["Body"].read() == b"seen:payload"


def _dead_letter_messages(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    response = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"], WaitTimeSeconds=0)
    return list(response.get("Messages", []))


def test_async_failure_is_retried_twice_then_dead_lettered(aws: Aws, name: Name) -> None:
    sqs, logs = aws("sqs"), aws("logs")
    queue_url = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function = create_function(aws, name, "fail", DeadLetterConfig={"TargetArn": queue_arn})
    group = f"/aws/lambda/{function['FunctionName']}"
    logs.create_log_group(logGroupName=group)

    event = {"order": 7}
    response = aws("lambda").invoke(
        FunctionName=function["FunctionName"], InvocationType="Event", Payload=json.dumps(event)
    )
    assert response["StatusCode"] == 202

    messages = wait_for(lambda: _dead_letter_messages(sqs, queue_url), timeout=20)
    assert len(messages) == 1
    assert json.loads(messages[0]["Body"]) == event
    attributes = messages[0]["MessageAttributes"]
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"]["StringValue"] == 'boom {"order": 7}'
    assert re.fullmatch(r"[0-9a-f-]{36}", attributes["RequestID"]["StringValue"])
    starts = [e for e in logs.filter_log_events(logGroupName=group)["events"] if e["message"].startswith("START")]
    assert len(starts) == 3  # the first attempt and two retries
    assert attributes["RequestID"]["StringValue"] in starts[-1]["message"]


def test_maximum_retry_attempts_zero_dead_letters_after_one_attempt(aws: Aws, name: Name) -> None:
    sqs, logs = aws("sqs"), aws("logs")
    queue_url = sqs.create_queue(QueueName=name("dlq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function = create_function(aws, name, "fail", DeadLetterConfig={"TargetArn": queue_arn})
    aws("lambda").put_function_event_invoke_config(FunctionName=function["FunctionName"], MaximumRetryAttempts=0)
    group = f"/aws/lambda/{function['FunctionName']}"
    logs.create_log_group(logGroupName=group)

    started = time.monotonic()
    aws("lambda").invoke(FunctionName=function["FunctionName"], InvocationType="Event", Payload="{}")
    wait_for(lambda: _dead_letter_messages(sqs, queue_url), timeout=10)

    assert time.monotonic() - started < 1.0 + 1.0  # no retry delay was waited
    starts = [e for e in logs.filter_log_events(logGroupName=group)["events"] if e["message"].startswith("START")]
    assert len(starts) == 1


def test_step_functions_sees_a_function_error_as_a_task_failure(aws: Aws, name: Name) -> None:
    function = create_function(aws, name, "fail")
    machine = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function["FunctionArn"], "Payload.$": "$"},
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.failure", "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    sfn = aws("stepfunctions")
    arn = sfn.create_state_machine(name=name("sm"), definition=json.dumps(machine), roleArn=ROLE_ARN)["stateMachineArn"]

    described = run_execution(sfn, arn, name("run"), {"id": 3})

    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["failure"]["Error"] == "ValueError"
    assert json.loads(output["failure"]["Cause"])["errorMessage"] == 'boom {"id": 3}'


def test_only_the_zips_handler_and_the_emulator_are_reachable(
    aws: Aws, name: Name, free_port: Callable[[], int]
) -> None:
    outside = create_function(aws, name, "echo", Handler="os.system")
    response, error = invoke(aws, outside["FunctionName"], ["true"])
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"

    connector = create_function(aws, name, "connect")
    _, result = invoke(aws, connector["FunctionName"], {"host": "127.0.0.1", "port": free_port()})
    assert result.startswith("PermissionError: the local Lambda sandbox only reaches the emulator")
    _, result = invoke(aws, connector["FunctionName"], {"host": "example.com", "port": 443})
    assert result.startswith("PermissionError")


# -- the pieces on their own (no moto) -----------------------------------------------


def _spec(handler: str, timeout: float = 30.0) -> FunctionSpec:
    return FunctionSpec(
        name="unit",
        arn="arn:aws:lambda:us-east-1:123456789012:function:unit",
        version="$LATEST",
        region="us-east-1",
        handler=handler,
        runtime="python3.11",
        timeout=timeout,
        memory_mb=128,
        environment={"AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com"},
        code=zip_bytes({"slow.py": "import time\ndef handler(event, context):\n    time.sleep(30)\n"}),
        log_group="/aws/lambda/unit",
    )


def test_runner_close_kills_running_invocations(tmp_path: Path) -> None:
    runner = LocalLambdaRunner(tmp_path, "http://127.0.0.1:9")
    assert "AWS_ENDPOINT_URL_S3" not in runner.environment(_spec("slow.handler"), tmp_path, "stream")
    outcome: list[Any] = []
    caller = threading.Thread(target=lambda: outcome.append(runner.invoke(_spec("slow.handler"), "{}")))
    caller.start()
    try:
        wait_for(runner.running, timeout=5, interval=0.02)
        pid = runner.running()[0]
    finally:
        runner.close()
    caller.join(timeout=5)
    assert not caller.is_alive()
    assert outcome[0].error["errorType"] == "Runtime.ExitError"
    assert not process_alive(pid)
    assert runner.invoke(_spec("slow.handler"), "{}").error["errorType"] == "Runtime.ExitError"  # closed


def test_async_invoker_retries_with_delays_and_stops_within_bounds() -> None:
    invoker = AsyncInvoker(AsyncSettings(workers=2, retry_delays=(0.05, 0.05)))
    attempts: list[float] = []
    failures: list[dict[str, Any]] = []
    done = threading.Event()

    def attempt() -> dict[str, Any] | None:
        attempts.append(time.monotonic())
        return {"errorType": "E", "errorMessage": "m"}

    def on_failure(error: dict[str, Any]) -> None:
        failures.append(error)
        done.set()

    assert invoker.submit(AsyncJob("unit", attempt, on_failure))
    assert done.wait(5)
    assert len(attempts) == 3 and failures == [{"errorType": "E", "errorMessage": "m"}]
    assert attempts[1] - attempts[0] >= 0.05

    once: list[int] = []
    assert invoker.submit(AsyncJob("unit", lambda: once.append(1), on_failure, max_retries=0))
    wait_for(lambda: invoker.pending() == 0, timeout=5, interval=0.01)
    assert once == [1]

    invoker.submit(AsyncJob("later", attempt, on_failure))
    invoker.shutdown()
    assert invoker.join(timeout=2)
    assert not invoker.submit(AsyncJob("refused", attempt, on_failure))


def test_async_settings_from_environment() -> None:
    assert AsyncSettings.from_env({}) == AsyncSettings(workers=4, retry_delays=(1.0, 2.0))
    configured = AsyncSettings.from_env(
        {"EMULATOR_LAMBDA_ASYNC_WORKERS": "2", "EMULATOR_LAMBDA_RETRY_DELAYS": "0.1,0.2,0.3"}
    )
    assert configured == AsyncSettings(workers=2, retry_delays=(0.1, 0.2, 0.3))
    assert AsyncSettings.from_env({"EMULATOR_LAMBDA_RETRY_DELAYS": ""}).retry_delays == ()
    with pytest.raises(ValueError):
        AsyncSettings.from_env({"EMULATOR_LAMBDA_ASYNC_WORKERS": "0"})


def test_extension_owns_and_removes_its_work_directory() -> None:
    class FakeServer:
        url = "http://127.0.0.1:9"

    runtime = LocalLambdaRuntime(AsyncSettings(workers=1, retry_delays=()))
    runtime.on_install(FakeServer())  # type: ignore[arg-type]  # the hooks only, no moto patches
    runner = runtime.runner
    assert runner is not None and runner.work_dir.is_dir()
    runtime.on_uninstall()
    assert not runner.work_dir.exists()
    assert runtime.runner is None and runtime.invoker is None


def test_stale_work_directories_of_dead_emulators_are_removed(tmp_path: Path) -> None:
    import os
    import subprocess

    dead_pid = subprocess.Popen(["true"])  # a pid that has exited and been reaped
    dead_pid.wait()
    stale, alive, foreign = (tmp_path / f"emulator-lambda-{tag}" for tag in ("stale", "alive", "foreign"))
    for directory in (stale, alive, foreign):
        directory.mkdir()
    (stale / "owner.pid").write_text(str(dead_pid.pid))
    (alive / "owner.pid").write_text(str(os.getpid()))

    assert remove_stale_work_dirs(tmp_path) == [stale]
    assert not stale.exists() and alive.exists() and foreign.exists()


def test_sns_dead_letter_target(aws: Aws, name: Name) -> None:
    sns, sqs = aws("sns"), aws("sqs")
    topic_arn = sns.create_topic(Name=name("dlq-topic"))["TopicArn"]
    queue_url = sqs.create_queue(QueueName=name("dlq-sub"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    function = create_function(aws, name, "fail", DeadLetterConfig={"TargetArn": topic_arn})
    aws("lambda").put_function_event_invoke_config(FunctionName=function["FunctionName"], MaximumRetryAttempts=0)

    aws("lambda").invoke(FunctionName=function["FunctionName"], InvocationType="Event", Payload='{"via": "sns"}')

    [message] = wait_for(lambda: _dead_letter_messages(sqs, queue_url), timeout=10)
    envelope = json.loads(message["Body"])
    assert json.loads(envelope["Message"]) == {"via": "sns"}
    assert envelope["MessageAttributes"]["ErrorCode"] == {"Type": "Number", "Value": "200"}
    assert envelope["MessageAttributes"]["ErrorMessage"]["Value"] == 'boom {"via": "sns"}'

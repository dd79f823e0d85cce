"""Helpers for tests that deploy tiny Lambda zips to the emulator (not a test module)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

# One module, several handlers: each test picks one with Handler="app.<name>".
APP_SOURCE = '''
import json
import os
import socket
import subprocess
import sys
import time
from urllib.parse import unquote_plus

import boto3

KEYS = (
    "GREETING", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME", "LAMBDA_TASK_ROOT",
)


def echo(event, context):
    print("echo log line", json.dumps(event))
    return {
        "event": event,
        "env": {key: os.environ.get(key) for key in KEYS},
        "cwd": os.getcwd(),
        "sys_path0": sys.path[0],
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "remaining": context.get_remaining_time_in_millis(),
        },
    }


def fail(event, context):
    print("about to fail")
    raise ValueError("boom " + json.dumps(event, sort_keys=True))


def hang(event, context):
    child = subprocess.Popen(["sleep", "60"])
    with open(event["pid_file"], "w") as handle:
        handle.write(f"{os.getpid()} {child.pid}")
    time.sleep(event.get("seconds", 5))
    return "woke up"


def copy_object(event, context):
    """Direct call: {"bucket", "key"}; S3 notification: the records' objects."""
    time.sleep(event.get("delay", 0))
    records = event.get("Records") or [{"s3": {"bucket": {"name": event["bucket"]}, "object": {"key": event["key"]}}}]
    s3 = boto3.client("s3")
    written = []
    for record in records:
        bucket, key = record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        target = "out/" + key.rsplit("/", 1)[-1]
        s3.put_object(Bucket=bucket, Key=target, Body=os.environ.get("GREETING", "").encode() + b":" + body)
        written.append(target)
    return {"written": written}


def process(event, context):
    """The Distributed Map item processor: {"bucket", "key"} -> out/<name>, fails on keys with "bad"."""
    if "bad" in event["key"]:
        raise RuntimeError("cannot process " + event["key"])
    s3 = boto3.client("s3")
    body = s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
    s3.put_object(Bucket=event["bucket"], Key="out/" + event["key"].rsplit("/", 1)[-1], Body=body.upper())
    return {"key": event["key"], "size": len(body)}


def connect(event, context):
    try:
        socket.create_connection((event["host"], event["port"]), timeout=2).close()
        return "connected"
    except OSError as error:
        return f"{type(error).__name__}: {error}"
'''


def zip_bytes(files: dict[str, str]) -> bytes:
    """A zip holding ``files`` (name -> source)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for filename, source in files.items():
            archive.writestr(filename, source)
    return buffer.getvalue()


APP_ZIP = zip_bytes({"app.py": APP_SOURCE})


def lambda_role(aws: Callable[[str], Any], name: Callable[[str], str]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return str(aws("iam").create_role(RoleName=name("role"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def create_function(
    aws: Callable[[str], Any], name: Callable[[str], str], handler: str, **settings: Any
) -> dict[str, Any]:
    """Deploy ``app.<handler>`` from ``APP_ZIP``; ``settings`` go to CreateFunction."""
    spec: dict[str, Any] = {
        "FunctionName": name(handler.replace("_", "-")),
        "Runtime": "python3.11",
        "Role": lambda_role(aws, name),
        "Handler": f"app.{handler}",
        "Code": {"ZipFile": APP_ZIP},
        "Timeout": 10,
        **settings,
    }
    return dict(aws("lambda").create_function(**spec))


def wait_for(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy (returned) or ``timeout`` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"nothing after {timeout:.0f} s"
        time.sleep(interval)


def run_execution(
    sfn: Any, machine_arn: str, execution_name: str, payload: dict[str, Any], timeout: float = 30.0
) -> dict[str, Any]:
    """Start an execution and wait (bounded) until it is no longer RUNNING."""
    arn = sfn.start_execution(stateMachineArn=machine_arn, name=execution_name, input=json.dumps(payload))[
        "executionArn"
    ]

    def finished() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=arn)
        return None if described["status"] == "RUNNING" else dict(described)

    return dict(wait_for(finished, timeout=timeout))


def process_alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie waiting for its parent counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")

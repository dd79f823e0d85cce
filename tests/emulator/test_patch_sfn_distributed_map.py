"""Step Functions Distributed Map over an S3 prefix, items processed by a real Lambda.

Covers the patches ``sfn_tolerated_failure_int`` (integer ToleratedFailurePercentage),
``sfn_map_tolerated_failures`` (failures fail the run unless tolerated),
``sfn_item_reader_s3`` (pagination, empty prefix, AWS item shape) and
``sfn_unnamed_execution`` (the README's backfill command, no name, twice), plus the Lambda runtime.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from lambda_zip_support import create_function, run_execution, wait_for

from building_blocks.fan_out_definition import fan_out_definition
from emulator.patches.sfn_item_reader_s3 import item_from_s3
from emulator.patches.sfn_map_tolerated_failures import exceeds_threshold
from emulator.patches.sfn_tolerated_failure_int import parser_text

Aws = Callable[[str], Any]
Name = Callable[[str], str]
ROLE_ARN = "arn:aws:iam::123456789012:role/sfn-test"
ACCOUNT = "123456789012"


def pipeline_definition(function_arn: str, bucket_name: str) -> dict[str, Any]:
    """The data pipeline's backfill state machine, exactly as the platform deploys it."""
    return fan_out_definition(bucket_name, function_arn, max_concurrency=4, tolerated_failure_percentage=10)


def pass_map(**map_fields: Any) -> dict[str, Any]:
    """A Distributed Map over an S3 prefix whose items fail when their key contains "bad" (no Lambda)."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "$.prefix"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Check",
                    "States": {
                        "Check": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$.Key", "StringMatches": "*bad*", "Next": "Broken"}],
                            "Default": "Fine",
                        },
                        "Broken": {"Type": "Fail", "Error": "Broken", "Cause": "bad item"},
                        "Fine": {"Type": "Pass", "End": True},
                    },
                },
                "MaxConcurrency": 10,
                "End": True,
                **map_fields,
            }
        },
    }


@pytest.fixture
def bucket(aws: Aws, name: Name) -> Callable[..., str]:
    """``bucket(good=3, bad=1)``: a new bucket with in/<i>.txt and in/bad<i>.txt objects plus one outside the prefix."""

    def make(good: int, bad: int = 0) -> str:
        s3 = aws("s3")
        bucket_name = name("bucket")
        s3.create_bucket(Bucket=bucket_name)
        for index in range(good):
            s3.put_object(Bucket=bucket_name, Key=f"in/{index}.txt", Body=f"item {index}".encode())
        for index in range(bad):
            s3.put_object(Bucket=bucket_name, Key=f"in/bad{index}.txt", Body=b"bad")
        s3.put_object(Bucket=bucket_name, Key="elsewhere/skip.txt", Body=b"not in the prefix")
        return bucket_name

    return make


def machine(aws: Aws, name: Name, definition: dict[str, Any]) -> str:
    created = aws("stepfunctions").create_state_machine(
        name=name("sm"), definition=json.dumps(definition), roleArn=ROLE_ARN
    )
    return str(created["stateMachineArn"])


def outputs(aws: Aws, bucket_name: str) -> dict[str, bytes]:
    s3 = aws("s3")
    listed = s3.list_objects_v2(Bucket=bucket_name, Prefix="out/").get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=bucket_name, Key=item["Key"])["Body"].read() for item in listed}


def finished(sfn: Any, execution_arn: str) -> dict[str, Any] | None:
    described = sfn.describe_execution(executionArn=execution_arn)
    return None if described["status"] == "RUNNING" else dict(described)


def test_pipeline_processes_every_object_under_the_prefix(aws: Aws, name: Name, bucket: Callable[..., str]) -> None:
    function = create_function(aws, name, "process")
    bucket_name = bucket(good=6)
    arn = machine(aws, name, pipeline_definition(function["FunctionArn"], bucket_name))

    described = run_execution(aws("stepfunctions"), arn, name("run"), {"bucket": bucket_name, "prefix": "in/"})

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"objects": 6}
    assert outputs(aws, bucket_name) == {f"out/{index}.txt": f"ITEM {index}".encode() for index in range(6)}


def test_readme_backfill_without_a_name_runs_twice_in_a_row(aws: Aws, name: Name, bucket: Callable[..., str]) -> None:
    """``aws stepfunctions start-execution --state-machine-arn <arn> --input '{"prefix": ...}'``, twice."""
    function = create_function(aws, name, "process")
    bucket_name = bucket(good=2)
    arn = machine(aws, name, pipeline_definition(function["FunctionArn"], bucket_name))
    sfn = aws("stepfunctions")

    started = [sfn.start_execution(stateMachineArn=arn, input=json.dumps({"prefix": "in/"})) for _ in range(2)]

    assert started[0]["executionArn"] != started[1]["executionArn"]
    for execution in started:
        described = wait_for(lambda arn=execution["executionArn"]: finished(sfn, arn), timeout=30)
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"]) == {"objects": 2}


def test_a_failure_within_the_tolerated_percentage_succeeds(aws: Aws, name: Name, bucket: Callable[..., str]) -> None:
    function = create_function(aws, name, "process")
    bucket_name = bucket(good=9, bad=1)  # 1 of 10 = 10 %, not above 10 %
    arn = machine(aws, name, pipeline_definition(function["FunctionArn"], bucket_name))

    described = run_execution(aws("stepfunctions"), arn, name("run"), {"bucket": bucket_name, "prefix": "in/"})

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"objects": 9}  # a failed item has no result
    assert len(outputs(aws, bucket_name)) == 9


def test_failures_above_the_tolerated_percentage_fail_the_execution(
    aws: Aws, name: Name, bucket: Callable[..., str]
) -> None:
    function = create_function(aws, name, "process")
    bucket_name = bucket(good=8, bad=2)  # 20 % > 10 %
    arn = machine(aws, name, pipeline_definition(function["FunctionArn"], bucket_name))
    sfn = aws("stepfunctions")

    described = run_execution(sfn, arn, name("run"), {"bucket": bucket_name, "prefix": "in/"})

    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"
    events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    types = [event["type"] for event in events]
    assert types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    assert len(outputs(aws, bucket_name)) == 8  # the good items still ran


def test_without_a_tolerance_one_failure_fails_and_catch_sees_the_threshold_error(
    aws: Aws, name: Name, bucket: Callable[..., str]
) -> None:
    bucket_name = bucket(good=3, bad=1)
    caught = pass_map(Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Recovered"}])
    caught["States"]["Each"].pop("End")
    caught["States"]["Each"]["Next"] = "Done"
    caught["States"]["Recovered"] = {"Type": "Pass", "Result": {"recovered": True}, "End": True}
    caught["States"]["Done"] = {"Type": "Pass", "End": True}
    sfn = aws("stepfunctions")

    failed = run_execution(sfn, machine(aws, name, pass_map()), name("run"), {"bucket": bucket_name, "prefix": "in/"})
    recovered = run_execution(sfn, machine(aws, name, caught), name("run"), {"bucket": bucket_name, "prefix": "in/"})

    assert (failed["status"], failed["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert recovered["status"] == "SUCCEEDED" and json.loads(recovered["output"]) == {"recovered": True}


def test_tolerated_failure_count(aws: Aws, name: Name, bucket: Callable[..., str]) -> None:
    sfn = aws("stepfunctions")
    arn = machine(aws, name, pass_map(ToleratedFailureCount=1))

    one_bad = run_execution(sfn, arn, name("run"), {"bucket": bucket(good=3, bad=1), "prefix": "in/"})
    two_bad = run_execution(sfn, arn, name("run"), {"bucket": bucket(good=3, bad=2), "prefix": "in/"})

    assert one_bad["status"] == "SUCCEEDED" and len(json.loads(one_bad["output"])) == 3
    assert (two_bad["status"], two_bad.get("error")) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_integer_tolerated_failure_percentage_is_accepted(aws: Aws, name: Name) -> None:
    definition = pass_map(ToleratedFailurePercentage=10)
    sfn = aws("stepfunctions")
    arn = machine(aws, name, definition)  # moto's grammar alone rejects the integer
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == definition


def test_item_reader_items_have_the_aws_shape(aws: Aws, name: Name, bucket: Callable[..., str]) -> None:
    bucket_name = bucket(good=1)
    definition = pass_map(ItemSelector={"item.$": "$$.Map.Item.Value"})
    definition["States"]["Each"]["ItemProcessor"]["StartAt"] = "Fine"

    described = run_execution(
        aws("stepfunctions"), machine(aws, name, definition), name("run"), {"bucket": bucket_name, "prefix": "in/"}
    )

    assert described["status"] == "SUCCEEDED", described
    [result] = json.loads(described["output"])
    head = aws("s3").head_object(Bucket=bucket_name, Key="in/0.txt")
    assert result["item"] == {
        "Etag": head["ETag"],
        "Key": "in/0.txt",
        "LastModified": int(head["LastModified"].timestamp()),
        "Size": 6,
        "StorageClass": "STANDARD",
    }


def test_item_reader_pages_through_large_and_empty_prefixes(aws: Aws, name: Name, bucket: Callable[..., str]) -> None:
    from moto.s3.models import s3_backends

    bucket_name = bucket(good=0)
    backend = s3_backends[ACCOUNT]["aws"]
    for index in range(1005):  # more than one ListObjectsV2 page; in-process for speed
        backend.put_object(bucket_name, f"many/{index:05d}", b"x")
    definition = pass_map(ResultSelector={"count.$": "States.ArrayLength($)"})
    arn = machine(aws, name, definition)
    sfn = aws("stepfunctions")

    many = run_execution(sfn, arn, name("run"), {"bucket": bucket_name, "prefix": "many/"})
    empty = run_execution(sfn, arn, name("run"), {"bucket": bucket_name, "prefix": "nothing/"})

    assert (many["status"], json.loads(many.get("output", "null"))) == ("SUCCEEDED", {"count": 1005})
    assert (empty["status"], json.loads(empty.get("output", "null"))) == ("SUCCEEDED", {"count": 0})


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "exceeded"),
    [
        (0, 10, None, None, False),
        (1, 10, None, None, True),
        (1, 10, None, 10.0, False),
        (2, 10, None, 10.0, True),
        (1, 10, 1, None, False),
        (2, 10, 1, 50.0, True),  # either threshold
        (10, 10, None, 100.0, False),
    ],
)
def test_threshold_rule(failed: int, total: int, count: int | None, percentage: float | None, exceeded: bool) -> None:
    assert exceeds_threshold(failed, total, count, percentage) is exceeded


def test_parser_text_only_rewrites_integer_percentages() -> None:
    untouched = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    assert parser_text(untouched) is untouched
    assert parser_text('{"ToleratedFailurePercentage": 5.5}') == '{"ToleratedFailurePercentage": 5.5}'
    assert json.loads(parser_text('{"X": {"ToleratedFailurePercentage": 5}}')) == {
        "X": {"ToleratedFailurePercentage": 5.0}
    }
    assert parser_text('{"ToleratedFailurePercentage": 5') == '{"ToleratedFailurePercentage": 5'  # parser reports it


def test_item_from_s3_keeps_aws_fields_only() -> None:
    from datetime import datetime

    entry = {
        "Key": "k",
        "ETag": '"e"',
        "Size": 3,
        "StorageClass": "STANDARD",
        "LastModified": datetime(2022, 11, 17, 15, 44, 41, tzinfo=UTC),
        "ChecksumAlgorithm": ["CRC32"],
    }
    assert item_from_s3(entry) == {
        "Etag": '"e"',
        "Key": "k",
        "LastModified": 1668699881,
        "Size": 3,
        "StorageClass": "STANDARD",
    }

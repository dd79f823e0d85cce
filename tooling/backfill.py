"""`make backfill PREFIX=incoming/churn/`: run the data pipeline's backfill over a prefix and wait.

    python -m tooling.backfill incoming/churn/ [--timeout 900]      (ENV selects the environment)

Starts the backfill state machine (its ARN from the outputs `make deploy` wrote) WITHOUT an execution
name, as `aws stepfunctions start-execution` does by default, so AWS (or the emulator) names it and
the same command can run again at once. Prints the status every few seconds, then the number of
objects processed. Exit 0 when the execution succeeded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

import platform_config
from tooling import aws_clients, deploy

POLL_SECONDS = 2.0


def start_backfill(sfn: Any, state_machine_arn: str, prefix: str) -> str:
    """Start one execution over `prefix` (must end with '/'); return its ARN. No name: AWS assigns one."""
    if not prefix.endswith("/"):
        raise ValueError(f"prefix {prefix!r} must end with '/' (a folder such as incoming/churn/)")
    return sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps({"prefix": prefix}))["executionArn"]


def wait_for_execution(
    sfn: Any,
    execution_arn: str,
    timeout_seconds: float,
    on_progress: Callable[[str, float], None] = lambda status, elapsed: None,
    poll_seconds: float = POLL_SECONDS,
) -> dict[str, Any]:
    """DescribeExecution until it is no longer RUNNING; raise TimeoutError after `timeout_seconds`."""
    started = time.monotonic()
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        elapsed = time.monotonic() - started
        if described["status"] != "RUNNING":
            return described
        if elapsed > timeout_seconds:
            raise TimeoutError(f"{execution_arn} still RUNNING after {timeout_seconds:g} s")
        on_progress(described["status"], elapsed)
        time.sleep(poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix", help="the raw-bucket prefix to reprocess, e.g. incoming/churn/")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait (default 900)")
    args = parser.parse_args(argv)
    try:
        config = platform_config.load()
        aws_clients.require_emulator(config)
        outputs_path = deploy.outputs_file(config)
        if not outputs_path.exists():
            raise RuntimeError(f"{outputs_path} is missing: run `make deploy ENV={config.name}` first")
        outputs = json.loads(outputs_path.read_text())[config.stack_name("data-pipeline")]
        sfn = aws_clients.client("stepfunctions", config)
        execution_arn = start_backfill(sfn, outputs["backfill_state_machine_arn"], args.prefix)
        print(f"backfill: started {execution_arn}", flush=True)
        described = wait_for_execution(
            sfn,
            execution_arn,
            args.timeout,
            on_progress=lambda status, elapsed: print(f"backfill: {status} ({elapsed:.0f} s)", flush=True),
        )
    except (platform_config.ConfigError, RuntimeError, ValueError, KeyError, BotoCoreError, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    output = json.loads(described.get("output") or "{}")
    if described["status"] == "SUCCEEDED":
        print(f"backfill: SUCCEEDED, {output.get('objects', 0)} objects under {args.prefix} processed")
        return 0
    print(f"backfill: {described['status']}: {described.get('error', '')} {described.get('cause', '')}".rstrip())
    return 1


if __name__ == "__main__":
    sys.exit(main())

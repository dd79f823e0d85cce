"""checkov over every synthesized stack of every environment: zero failed checks, every stack scanned.
(checkov over the workflows is part of `make lint`: tooling/lint_workflows.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Synthesized
from tooling import checkov_scan


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_checkov_finds_no_failed_checks(synthesized: Callable[[str], Synthesized], env: str) -> None:
    result = checkov_scan.scan(synthesized(env).outdir / "stacks")
    assert result.ok, "\n".join(finding.line() for finding in result.failed)
    # Every stack of the environment was scanned (a new stack cannot slip past unchecked).
    assert {path.split("/")[0] for path in result.scanned_files} == set(synthesized(env).stacks)


def test_a_failed_check_is_reported_with_its_id_resource_and_file(tmp_path: Path) -> None:
    """What the plan report and `make lint` show when a change breaks a check: an unencrypted, public queue."""
    stack = tmp_path / "stacks" / "dev-example"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text('{"resource": {"aws_sqs_queue": {"open": {"name": "open", "policy": ""}}}}')
    result = checkov_scan.scan(tmp_path / "stacks")
    assert not result.ok
    unencrypted = [finding for finding in result.failed if finding.check_id == "CKV_AWS_27"]
    assert [(finding.file_path.strip("/"), finding.resource.endswith(".open")) for finding in unencrypted] == [
        ("dev-example/cdk.tf.json", True)
    ]
    assert unencrypted[0].line().endswith(": Ensure all data stored in the SQS queue is encrypted")
